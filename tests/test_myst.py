"""MyST Markdown (Sphinx sites written in Markdown: pip's docs) read as the built page shows it:
a directive's content is prose (it was code, never an answer), a version note keeps its
version, a role shows its words, and MyST's marks (targets, comments, block breaks, front
matter) are no words of the page."""

from __future__ import annotations

from pathlib import Path

from rag.loaders import load_document
from rag.loaders.base import LoadedDocument
from rag.loaders.markdown import MAX_DIRECTIVE_DEPTH, is_myst

PAGE = """---
hide-toc: true
---
(caching)=
# Caching

pip caches downloads. See {doc}`installation` and {ref}`the wheel cache <wheel-caching>`.
% A comment for the writers.

```{note}
:class: small
The cache is **safe** to delete.
```

:::{versionchanged} 20.1
The `pip cache` command was added.
:::

```{versionadded} 6.0 Markers in requirements
They apply to any requirement.
```

```{toctree}
:maxdepth: 1
quickstart
```

```{code-block} console
---
caption: Clearing it
---
$ pip cache purge
```

```{admonition} Compatibility fallback
Use the `--use-deprecated` flag.
```

+++

```python
print("a plain code block")
```

The cache lives in one folder[^where].

[^where]: Under the user's cache directory.
"""


def loaded(tmp_path: Path, text: str, name: str = "page.md") -> LoadedDocument:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return load_document(path)


def blocks(document: LoadedDocument) -> list[tuple[str, str]]:
    return [(b.kind, document.text[b.start : b.end]) for b in document.blocks]


def test_directives_read_as_the_built_page_shows_them(tmp_path: Path) -> None:
    document = loaded(tmp_path, PAGE)
    read = blocks(document)
    assert read[0] == ("heading", "Caching")
    assert ("paragraph", "The cache is safe to delete.") in read  # prose, not code
    assert ("paragraph", "Changed in version 20.1.") in read
    assert ("paragraph", "The pip cache command was added.") in read
    assert ("paragraph", "New in version 6.0: Markers in requirements") in read
    assert ("code", "$ pip cache purge") in read
    assert ("paragraph", "Use the --use-deprecated flag.") in read
    assert ("code", 'print("a plain code block")') in read
    text = document.text
    assert "Compatibility fallback" in text  # the admonition's title names its content
    for mark in ("hide-toc", "(caching)=", "A comment", "quickstart", "maxdepth", ":class:",
                 "caption:", "+++", "{note}", "```"):  # fmt: skip
        assert mark not in text, mark


def test_roles_show_their_words_and_footnotes_come_last(tmp_path: Path) -> None:
    text = loaded(tmp_path, PAGE).text
    assert "See installation and the wheel cache." in text
    assert "{doc}" not in text and "wheel-caching" not in text
    assert "The cache lives in one folder." in text
    assert text.endswith("1. Under the user's cache directory.")


def test_plain_markdown_keeps_what_myst_would_read_as_marks(tmp_path: Path) -> None:
    # Without a directive or a role the file is no MyST: "%" starts words, not a comment.
    text = loaded(tmp_path, "# Shell\n\n% ls -l lists files.\n\n(a)=\n\n+++\n").text
    assert "% ls -l lists files." in text
    assert "(a)=" in text and "+++" in text
    assert not is_myst("# Shell\n\n% ls -l\n\n```python\nx = {a}\n```\n")
    assert is_myst("```{note}\nx\n```\n") and is_myst("see {ref}`x`") and is_myst(":::{tip}\n")


def test_eval_rst_is_read_as_restructured_text(tmp_path: Path) -> None:
    text = loaded(
        tmp_path,
        "# Options\n\n```{eval-rst}\n.. pip-options-list::\n\nSome *emphasised* words.\n\n"
        ".. code-block:: shell\n\n   pip install -r requirements.txt\n```\n",
    ).text
    assert "Some emphasised words." in text
    assert "pip install -r requirements.txt" in text
    assert ".. " not in text and "pip-options-list" not in text


def test_directives_nested_past_the_depth_are_code(tmp_path: Path) -> None:
    # Each level needs a longer fence; past MAX_DIRECTIVE_DEPTH the rest is shown as written.
    levels = MAX_DIRECTIVE_DEPTH + 2
    source = ""
    for level in range(levels):
        source += "`" * (3 + levels - level) + "{note}\n"
    source += "Deep words.\n"
    for level in reversed(range(levels)):
        source += "`" * (3 + levels - level) + "\n"
    document = loaded(tmp_path, f"# Deep\n\n{source}")
    assert "Deep words." in document.text
    assert any(kind == "code" for kind, _ in blocks(document))
    shallow = loaded(tmp_path, "# Deep\n\n````{note}\n```{tip}\nDeep words.\n```\n````\n", "b.md")
    assert ("paragraph", "Deep words.") in blocks(shallow)
