"""An ordered list's items keep their numbers, as a reader of the page sees them: "Step 3" of a
manual's procedure is the third line of the loaded text, in HTML, Markdown and rst alike."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.loaders import load_document
from rag.loaders.base import item_number


def loaded(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return load_document(path).text


def page(body: str) -> str:
    return f"<html><head><title>Guide</title></head><body><h1>Install</h1>{body}</body></html>"


def test_an_html_ordered_list_is_numbered_and_a_bullet_list_is_not(tmp_path: Path) -> None:
    text = loaded(
        tmp_path,
        "a.html",
        page(
            "<p>Do these steps:</p><ol><li>Download the file.</li><li>Run the installer.</li>"
            "<li>Restart.</li></ol><ul><li>apple</li><li>pear</li></ul>"
        ),
    )
    assert "1. Download the file.\n2. Run the installer.\n3. Restart." in text
    assert "\napple\npear" in text
    assert "1. apple" not in text and ". pear" not in text


def test_start_type_value_and_reversed_are_honoured(tmp_path: Path) -> None:
    text = loaded(
        tmp_path,
        "a.html",
        page(
            '<ol start="4"><li>four</li><li>five</li></ol>'
            '<ol type="a"><li>first letter</li><li>second letter</li></ol>'
            '<ol type="I"><li>one</li><li value="9">nine</li><li>ten</li></ol>'
            "<ol reversed><li>three left</li><li>two left</li><li>one left</li></ol>"
        ),
    )
    assert "4. four\n5. five" in text
    assert "a. first letter\nb. second letter" in text
    assert "I. one\nIX. nine\nX. ten" in text
    assert "3. three left\n2. two left\n1. one left" in text


def test_the_number_goes_with_the_items_first_words(tmp_path: Path) -> None:
    # A loose list (markdown-it's, Sphinx's) holds paragraphs: the number is not a line alone.
    text = loaded(
        tmp_path,
        "a.html",
        page("<ol><li><p>Open the <b>settings</b>.</p></li><li>\n  <p>Save them.</p></li></ol>"),
    )
    assert "1. Open the settings.\n2. Save them." in text


def test_an_item_without_words_keeps_its_number_to_itself(tmp_path: Path) -> None:
    # The second item has no words (an image): its number must not land on the paragraph
    # after the list.
    text = loaded(
        tmp_path,
        "a.html",
        page('<ol><li>Run it:</li><li><img src="x.png"></li></ol><p>Then stop.</p>'),
    )
    assert "1. Run it:" in text
    assert "\nThen stop." in text and "2. Then stop." not in text


def test_a_list_read_as_sections_gets_no_numbers(tmp_path: Path) -> None:
    # Every item holds a heading (Javadoc's member details): the items are sections.
    text = loaded(
        tmp_path,
        "a.html",
        page("<ol><li><h3>open</h3><p>Opens the file.</p></li>"
             "<li><h3>close</h3><p>Closes the file.</p></li></ol>"),
    )  # fmt: skip
    assert "open\n\nOpens the file." in text and "close\n\nCloses the file." in text
    assert "1." not in text and "2." not in text


def test_nested_lists_count_apart(tmp_path: Path) -> None:
    text = loaded(
        tmp_path,
        "a.html",
        page("<ol><li>outer one<ol><li>inner one</li><li>inner two</li></ol></li>"
             "<li>outer two</li></ol>"),
    )  # fmt: skip
    assert "1. outer one\n1. inner one\n2. inner two\n2. outer two" in text


def test_markdown_numbers_from_its_first_item(tmp_path: Path) -> None:
    text = loaded(tmp_path, "a.md", "# Steps\n\n3. Plug it in.\n4. Switch it on.\n\n- a note\n")
    assert "3. Plug it in.\n4. Switch it on." in text
    assert "\na note" in text


def test_rst_enumerations_keep_their_form(tmp_path: Path) -> None:
    text = loaded(
        tmp_path,
        "a.rst",
        "Steps\n=====\n\n(a) Plug it in.\n(b) Switch it on.\n\n2. Second.\n3. Third.\n\nThen:\n\n"
        "#. Auto one.\n#. Auto two.\n\n- a note\n",
    )
    assert "(a) Plug it in.\n(b) Switch it on." in text
    assert "2. Second.\n3. Third." in text
    assert "1. Auto one.\n2. Auto two." in text
    assert "\na note" in text


@pytest.mark.parametrize(
    ("value", "kind", "written"),
    [(1, "1", "1"), (27, "a", "27"), (26, "A", "Z"), (1994, "i", "mcmxciv"), (4, "I", "IV"),
     (0, "i", "0"), (4000, "I", "4000")],
)  # fmt: skip
def test_item_numbers(value: int, kind: str, written: str) -> None:
    assert item_number(value, kind) == written
