"""Markdown: rendered by markdown-it (CommonMark and tables), then read as HTML, so headings,
code fences, lists and tables become blocks and inline marks never break a sentence.

MyST, the Markdown of Sphinx sites (pip's, Jupyter Book's), is read as the built page shows it:
a directive (```` ```{note} ````, ``:::{versionchanged} 21.3``) as its content in prose, code
or a version note, as reStructuredText's are (loaders/sphinx.py); a role (``{ref}`the guide
<guide>```) as the words it shows; targets ``(name)=``, comments ``%``, block breaks ``+++``
and front matter as nothing; footnotes at the end.

Markdown may hold raw HTML, which markdown-it passes through: the rendered page is read within
the same bounds as an HTML file (``Budget``: a deadline and at most 200,000 elements)."""

from __future__ import annotations

import re
from html import escape
from typing import Any

from rag.loaders.base import Budget, DocumentBuilder, LoadedDocument, UnreadableFile
from rag.loaders.sphinx import (
    LITERAL,
    NO_ARGUMENT_TEXT,
    SKIPPED,
    VERSION,
    role_text,
    version_line,
)

# markdown-it stops reading at its depth of nesting (a list takes two levels, itself and its
# item, and its text two more) and drops the rest of the document without a word (at its
# default of 20, a list nested 10 deep lost everything after it). The parser is given a few
# levels more than this, so that a document it cut short always shows a token this deep: such a
# file is refused with the reason, and the sync lists it as skipped instead of indexing half.
MAX_NESTING = 100


# MyST directives inside directives past this depth are shown as code: real pages nest a few
# (a note in a tab in a tab set), and each level is parsed again.
MAX_DIRECTIVE_DEPTH = 10
# ```` ```{name} argument ````: a MyST directive's fence.
_DIRECTIVE = re.compile(r"^\{([\w:.+-]+)\}\s*(.*)$", re.DOTALL)
# A directive's fence (```` ```{note} ````, ``:::{tip}``) or a role (``{ref}`guide```).
_MYST = re.compile(r"^[ \t]*(?:`{3,}|~{3,}|:{3,})[ \t]*\{[\w:.+-]+\}|\{[\w:.+-]+\}`", re.MULTILINE)
# A directive's options: ``:name: value`` lines first, or a block of YAML between "---" lines.
_OPTION = re.compile(r"^:[\w.-]+:")


def render(markdown: str, budget: Budget | None = None) -> str:
    """``markdown`` as HTML; past ``budget``'s deadline, ``UnreadableFile`` while parsing."""
    from markdown_it import MarkdownIt
    from mdit_py_plugins.colon_fence import colon_fence_plugin
    from mdit_py_plugins.footnote import footnote_plugin
    from mdit_py_plugins.front_matter import front_matter_plugin
    from mdit_py_plugins.myst_blocks import myst_block_plugin
    from mdit_py_plugins.myst_role import myst_role_plugin

    md = MarkdownIt("commonmark", {"maxNesting": MAX_NESTING + 4}).enable("table")
    md.use(front_matter_plugin).use(footnote_plugin, inline=False)
    if is_myst(markdown):
        for plugin in (myst_block_plugin, myst_role_plugin, colon_fence_plugin):
            md.use(plugin)
    if budget is not None:
        _check_while_parsing(md, budget)
    _render_myst(md, budget or Budget())
    return _render(md, markdown, {"depth": 0})


def is_myst(markdown: str) -> bool:
    """Whether ``markdown`` is MyST: it writes a directive or a role. Only then is a line
    that starts with "%" a comment, "+++" a block break and "(name)=" a target: in other
    Markdown they are words."""
    return _MYST.search(markdown) is not None


def _render(md: Any, markdown: str, env: dict[str, Any]) -> str:
    tokens = md.parse(markdown, env)
    if max((token.level for token in tokens), default=0) >= MAX_NESTING:
        raise UnreadableFile(
            f"lists or quotes nested too deeply (past {MAX_NESTING} levels, about 50 lists "
            "deep): the rest of the file would be lost; nest them less deeply"
        )
    return str(md.renderer.render(tokens, md.options, env))


def _render_myst(md: Any, budget: Budget) -> None:
    """Render rules for MyST's tokens (module docstring)."""
    rules = md.add_render_rule
    for nothing in ("front_matter", "myst_target", "myst_line_comment", "myst_block_break",
                    "footnote_ref", "footnote_anchor"):  # fmt: skip
        rules(nothing, lambda *args: "")
    rules("myst_role", lambda self, tokens, i, *args: escape(role_text(tokens[i].content)))
    fence, colon_fence = md.renderer.rules["fence"], md.renderer.rules.get("colon_fence", None)

    def directive(self: Any, tokens: list[Any], i: int, options: Any, env: Any) -> str:
        token = tokens[i]
        found = _DIRECTIVE.match(token.info.strip())
        if found is None or env.get("depth", 0) >= MAX_DIRECTIVE_DEPTH:
            plain = fence if token.type == "fence" or colon_fence is None else colon_fence
            return str(plain(tokens, i, options, env))  # bound to the renderer
        name, argument = found.group(1).lower(), " ".join(found.group(2).split())
        return _directive(md, name, argument, _without_options(token.content), env, budget)

    rules("fence", directive)
    rules("colon_fence", directive)


def _directive(
    md: Any, name: str, argument: str, content: str, env: dict[str, Any], budget: Budget
) -> str:
    """A MyST directive as HTML, as loaders/rst.py reads reStructuredText's."""
    if name in SKIPPED:
        return ""
    if name in LITERAL:
        text = content.strip("\n") or argument
        return f"<pre><code>{escape(text)}</code></pre>\n" if text.strip() else ""
    if name == "eval-rst":
        return _rst_as_html(content, budget)
    inner = {**env, "depth": env.get("depth", 0) + 1}
    if name in VERSION:
        version, _, note = argument.partition(" ")
        return _render(md, f"{version_line(name, version, note)}\n\n{content}", inner)
    body = _render(md, content, inner) if content.strip() else ""
    if not argument or name in NO_ARGUMENT_TEXT:
        return body
    if not body:
        return f"<pre><code>{escape(argument)}</code></pre>\n"
    # What the directive describes ("{option} --fresh", "{admonition} A title") is the term
    # its content describes, as in a definition list.
    return f"<dl><dt><code>{escape(argument)}</code></dt><dd>{body}</dd></dl>\n"


def _without_options(content: str) -> str:
    """A directive's content without its options (``:class: tip`` lines, or YAML between
    "---" lines, first)."""
    lines = content.split("\n")
    if lines and lines[0].strip() == "---":
        end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
        if end is not None:
            return "\n".join(lines[end + 1 :])
    first = 0
    while first < len(lines) and _OPTION.match(lines[first]):
        first += 1
    return "\n".join(lines[first:])


def _rst_as_html(source: str, budget: Budget) -> str:
    """MyST's ``{eval-rst}``: reStructuredText read by loaders/rst.py, its blocks as HTML."""
    from rag.loaders.rst import load_rst

    document = load_rst(source, budget)
    out = []
    for block in document.blocks:
        text = escape(document.text[block.start : block.end])
        if block.kind == "code":
            out.append(f"<pre><code>{text}</code></pre>")
        elif block.kind in ("list", "table"):
            out.append("<p>" + "<br>".join(text.split("\n")) + "</p>")
        else:
            out.append(f"<p>{text}</p>")
    return "\n".join(out) + "\n"


def load_markdown(markdown: str, budget: Budget | None = None) -> LoadedDocument:
    """The document of ``markdown``; past ``budget`` (default: 60 s, 200,000 elements),
    ``UnreadableFile`` as soon as it is seen."""
    from rag.loaders.html import drop, hidden, parse, walk

    budget = budget or Budget()
    html = render(markdown, budget)
    builder = DocumentBuilder()
    root = parse(html, budget)
    drop(root, hidden)  # raw HTML that hides its text, as in an HTML page
    walk(root, builder, budget)
    return builder.build()


def _check_while_parsing(md: Any, budget: Budget) -> None:
    """A first rule, block and inline, that checks the deadline and matches nothing: markdown-it
    tries it at each line and at each run of text. Some files cost markdown-it 64 us a
    character (200 KB of "[" took 13 s here, a 4 MB file would take minutes), and the deadline
    was checked only once the whole file was parsed."""

    def block(state: Any, start: int, end: int, silent: bool) -> bool:
        budget.check()
        return False

    def inline(state: Any, silent: bool) -> bool:
        budget.check()
        return False

    md.block.ruler.before(md.block.ruler.get_all_rules()[0], "deadline", block)
    md.inline.ruler.before(md.inline.ruler.get_all_rules()[0], "deadline", inline)


def markdown_to_text(markdown: str) -> str:
    """Markdown as its reader sees it: emphasis, code marks and link targets dropped, link text
    kept, soft-wrapped lines of a paragraph joined, headings and list items on lines of their own.
    """
    return load_markdown(markdown).text
