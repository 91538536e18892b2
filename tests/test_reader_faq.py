"""Reader pairs from questions documentation authors wrote (train/faq_data.py): a FAQ page in
reStructuredText to questions, answers and negatives, the question never shown with a sentence,
and the validation split held out by page."""

from __future__ import annotations

import json
import random
from pathlib import Path

from train.data import held_out
from train.faq_data import (
    FAQ,
    SOURCE,
    build,
    faq_groups,
    page_groups,
    question_text,
    split,
    training_pairs,
)

PAGE = """==========
FAQ: Usage
==========

Why does my widget say "Frobnicated"?
=====================================

**Answer:** The widget was built without the frobnication guard.
Rebuild it with ``--guard`` to keep it quiet. See the build guide.

A second paragraph that only elaborates on the build flags in detail.

.. code-block:: python

    build(guard=True)

How do I...
===========

... store widgets in a database?
--------------------------------

Use the ``store`` command with a connection string as its only argument.

Installation notes
==================

Widgets need Python 3.9 or newer to run at all.

Yes.
"""


def test_a_faq_page_becomes_questions_with_the_first_paragraph_as_answer() -> None:
    frob, store = page_groups(PAGE, "widgets/faq.rst")
    assert frob.question == 'Why does my widget say "Frobnicated"?'
    # The first paragraph's sentences, the FAQ's "Answer:" label gone, a bare pointer kept out.
    assert [s.text for s in frob.positives] == [
        "The widget was built without the frobnication guard.",
        "Rebuild it with --guard to keep it quiet.",
    ]
    negatives = [s.text for s in frob.negatives]
    # Other questions' answers and other sections are negatives; the answer's own later
    # paragraphs are neither; a sentence of one word is neither.
    assert "Use the store command with a connection string as its only argument." in negatives
    assert "Widgets need Python 3.9 or newer to run at all." in negatives
    assert not any("elaborates" in s or s == "Yes." for s in negatives)
    # A heading continuing its parent's ("How do I..." > "... store ...?") is joined to it.
    assert store.question == "How do I store widgets in a database?"
    assert [s.text for s in store.positives] == [
        "Use the store command with a connection string as its only argument."
    ]


def test_no_question_is_ever_in_what_the_reader_sees_with_a_sentence() -> None:
    groups = page_groups(PAGE, "widgets/faq.rst")
    for group in groups:
        for sentence in group.positives + group.negatives:
            assert "?" not in sentence.title and "?" not in sentence.before
    frob = groups[0]
    assert frob.positives[0].title == "FAQ: Usage" and frob.positives[0].before == ""
    # The second sentence reads the first as its previous words (as the page has it, label and
    # all: the models were trained so), never the heading.
    first = "Answer: The widget was built without the frobnication guard."
    assert frob.positives[1].before == first
    # A section's first sentence has no previous words: the previous section's are another
    # answer's, read across the heading.
    assert groups[1].positives[0].before == ""
    rows = training_pairs(frob, random.Random(0))
    assert rows and all(frob.question in str(r["a"]) for r in rows)
    assert not any("Frobnicated" in str(r["b"]) for r in rows)
    assert sum(int(str(r["label"])) for r in rows) == 2


def test_numbered_headings_are_asked_without_their_number() -> None:
    assert question_text("1.2 Why is it called Docutils?") == "Why is it called Docutils?"


def test_the_shipped_faq_pages_give_questions_held_out_by_page(tmp_path: Path) -> None:
    groups = list(faq_groups(FAQ))
    assert len(groups) >= 250
    train, val = split(groups)
    train_pages, val_pages = {g.page for g in train}, {g.page for g in val}
    assert val_pages and not train_pages & val_pages
    assert all(held_out(SOURCE, page) for page in val_pages)
    assert 0 < len(val) < len(groups) / 3
    packages = {g.page.split("/")[0] for g in groups}
    assert {"django", "sqlalchemy", "docutils", "celery", "scrapy"} <= packages
    assert not packages & {"click", "flask", "cmake"}  # validation documents, never trained on
    summary = build(tmp_path)
    assert summary.train_questions == len(train) and summary.val_questions == len(val)
    val_rows = [json.loads(line) for line in (tmp_path / "faq-val.jsonl").open()]
    assert {row["question"] for row in val_rows} == {g.question for g in val}
    trained = [json.loads(line) for line in (tmp_path / "faq-train.jsonl").open()]
    val_questions = {g.question for g in val} - {g.question for g in train}
    assert not any(row["a"] in val_questions for row in trained)
