"""The follow-up validation set (bench/followups/): its shape, and every evidence sentence in
the text the loader extracts from its page."""

from __future__ import annotations

import pytest

from bench import followup_validation as fv
from rag.followup import refers_back
from rag.loaders import load_document


def test_the_set_holds_what_its_readme_says() -> None:
    rows = [row for corpus in fv.CORPORA for row in fv.load(corpus)]
    answerable = [r for r in rows if r["answerable"]]
    assert (len(answerable), len(rows) - len(answerable)) == (38, 8)
    assert sum(r["referent"] == "answer" for r in answerable) == 26
    assert len({r["id"] for r in rows}) == len(rows)
    # Two follow-ups the rules of rag/followup.py do not see as follow-ups (README).
    assert [r["id"] for r in rows if not refers_back(r["question"])] == ["p-08", "p-10"]
    for row in rows:
        assert len(row["history"]) == 1, row["id"]
        assert bool(row["answers"]) == bool(row["evidence"]) == row["answerable"], row["id"]


@pytest.mark.parametrize("corpus", sorted(fv.CORPORA))
def test_every_evidence_sentence_is_in_its_page(corpus: str) -> None:
    root = fv.CORPORA[corpus]
    if not root.is_dir():
        pytest.skip(f"{root} is not on this machine")
    for row in fv.load(corpus):
        for source in row["sources"]:
            text = " ".join(load_document(root / f"{source}.rst").text.split())
            for sentence in row["evidence"]:
                assert " ".join(sentence.split()) in text, (row["id"], sentence)


def test_figures_count_each_kind() -> None:
    rows = [
        {"answerable": True, "referent": "answer", "key_fact": True, "gold_cited": True,
         "refused": False},
        {"answerable": True, "referent": "question", "key_fact": False, "gold_cited": False,
         "refused": True},
        {"answerable": False, "referent": "none", "key_fact": False, "gold_cited": False,
         "refused": True},
    ]  # fmt: skip
    assert fv.figures(rows) == {
        "key fact": "1/2",
        "key fact (answer referent)": "1/1",
        "key fact (question referent)": "0/1",
        "gold cited": "1/2",
        "false refusals": "1/2",
        "unanswerable refused": "1/1",
    }
