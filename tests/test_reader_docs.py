"""Documentation for the reader's training and calibration corpora: rst pages to sections, headings
to pseudo-questions (train/docs_corpus.py), and the documentation groups of train/data.py."""

from __future__ import annotations

from train.data import DATA, docs_groups, held_out
from train.docs_corpus import Section, page_text, parse_rst, pseudo_question

PAGE = """add_thing
---------

.. only:: html

  .. contents::

Add a thing to the project using :command:`target_sources` and
:prop_tgt:`OUTPUT_NAME <prop_tgt:OUTPUT_NAME>`.

Normal Things
^^^^^^^^^^^^^

.. code-block:: cmake

  add_thing(<name> [WIN32])

Adds a thing called ``<name>``.  See `Object Kinds`_.

.. versionadded:: 3.1
  Arguments may use generator expressions.

Run this::

    cmake --build .

See Also
^^^^^^^^

* The other command.
"""


def test_an_rst_page_becomes_sections_of_plain_paragraphs() -> None:
    sections = parse_rst(PAGE)
    assert sections == [
        Section(
            ["add_thing"], ["Add a thing to the project using target_sources and OUTPUT_NAME."]
        ),
        Section(
            ["add_thing", "Normal Things"],
            [
                "Adds a thing called <name>. See Object Kinds.",
                "3.1 Arguments may use generator expressions.",  # the version stays
                "Run this:",
            ],
        ),
        Section(["add_thing", "See Also"], ["* The other command."]),
    ]
    assert page_text(sections).splitlines()[:4] == [
        "add_thing",
        "",
        "Add a thing to the project using target_sources and OUTPUT_NAME.",
        "",
    ]


def test_headings_become_questions_unless_they_say_nothing() -> None:
    command, normal, see_also = parse_rst(PAGE)
    assert pseudo_question(command, "command") == "What does the add_thing command do?"
    assert pseudo_question(normal, "manual") == "What is Normal Things?"
    assert pseudo_question(see_also, "manual") == ""
    assert pseudo_question(Section(["P", "Why not Argparse?"], ["x"]), "manual") == (
        "Why not Argparse?"
    )


def test_documentation_groups_ask_headings_with_the_leads_first_sentence_as_answer() -> None:
    groups = list(docs_groups())
    assert len(groups) >= 300
    assert {g.source for g in groups} == {"docs"}
    assert all(g.positives == {0} and len(g.sentences) >= 2 for g in groups)
    assert all((DATA / "docs" / g.key).is_file() for g in groups)
    held = [g for g in groups if held_out("docs", g.key)]
    assert 0 < len(held) < len(groups) / 3  # validation held out by page
    variadic = next(g for g in groups if g.question == "What is Variadic Arguments?")
    assert variadic.title == "Arguments" and variadic.sentences[0].startswith("The second most")
