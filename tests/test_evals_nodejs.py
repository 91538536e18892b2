"""The Node.js manual eval set (evals/benchmarks/nodejs/): its shape, and that every evidence
sentence is in the text the loaders extract from its page, in the HTML and the Markdown folder."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from evals import metrics, runner
from rag.loaders import load_document

NODEJS = runner.BENCHMARKS / "nodejs"
FORMATS = ("html", "md")
PRONOUN = re.compile(r"\b(it|that|them)\b", re.IGNORECASE)


@pytest.fixture(scope="module")
def questions() -> list[runner.Question]:
    return runner.load_questions(NODEJS / "questions.jsonl")


@pytest.fixture(scope="module", params=FORMATS)
def texts(request: pytest.FixtureRequest) -> dict[str, str]:
    """Document id -> text as the loaders extract it, for one folder (as the runner names them)."""
    folder = NODEJS / str(request.param)
    return {
        runner.source_id(str(path.relative_to(folder))): load_document(path).text
        for path in sorted(folder.iterdir())
    }


def test_the_suites_name_the_set_over_both_folders() -> None:
    html_questions, html_docs = runner.SUITES["nodejs-html"]
    md_questions, md_docs = runner.SUITES["nodejs-md"]
    assert html_questions == md_questions == NODEJS / "questions.jsonl"
    assert (html_docs, md_docs) == (NODEJS / "html", NODEJS / "md")
    stems = {fmt: sorted(p.stem for p in (NODEJS / fmt).iterdir()) for fmt in FORMATS}
    assert stems["html"] == stems["md"] and len(stems["html"]) == 20
    assert all(p.suffix == ".html" for p in html_docs.iterdir())
    assert all(p.suffix == ".md" for p in md_docs.iterdir())
    assert "Copyright Node.js contributors" in (NODEJS / "LICENSE").read_text(encoding="utf-8")


def test_suite_chooses_questions_docs_and_results_name() -> None:
    parser = runner.build_parser()
    chosen = runner.choose_set(parser.parse_args(["--suite", "nodejs-md"]))
    assert chosen == (NODEJS / "questions.jsonl", NODEJS / "md", "nodejs-md")
    named = runner.choose_set(parser.parse_args(["--suite", "nodejs-html", "--name", "x"]))
    assert named == (NODEJS / "questions.jsonl", NODEJS / "html", "x")
    assert runner.choose_set(parser.parse_args([])) == (
        runner.DEFAULT_QUESTIONS,
        runner.DEFAULT_DOCS,
        None,  # the results folder is then named after the question file, as before
    )
    own = parser.parse_args(["--questions", "q.jsonl", "--docs", "d"])
    assert runner.choose_set(own) == (Path("q.jsonl"), Path("d"), None)
    both = parser.parse_args(["--suite", "clapnq", "--docs", "d"])
    with pytest.raises(SystemExit, match="leave out --questions and --docs"):
        runner.choose_set(both)
    with pytest.raises(SystemExit):
        parser.parse_args(["--suite", "nodejs"])  # not a suite: argparse lists the names


def test_the_set_has_its_shape(questions: list[runner.Question]) -> None:
    assert len(questions) >= 40
    assert len({q.id for q in questions}) == len(questions)
    unanswerable = [q for q in questions if not q.answerable]
    follow_ups = [q for q in questions if q.history]
    assert len(unanswerable) == 10
    assert len(follow_ups) == 5
    assert len(questions) - len(unanswerable) - len(follow_ups) >= 30
    for q in unanswerable:
        assert not (q.answers or q.evidence or q.sources or q.history), q.id
    for q in questions:
        if q.answerable:
            assert q.answers and q.evidence and len(q.sources) == 1, q.id
    asked = {q.question: q for q in questions}
    for q in follow_ups:
        assert PRONOUN.search(q.question), q.id  # it / that / them stands for ...
        earlier = asked[q.history[-1]]  # ... what the question asked just before asked about
        assert earlier.answerable and not earlier.history and earlier.sources == q.sources, q.id


def test_every_answer_is_in_its_evidence(questions: list[runner.Question]) -> None:
    for q in questions:
        for answer in q.answers:
            # Verbatim (code answers are their exact code text), and as the key-fact metric reads
            # it: an answer that quotes the evidence sentence scores.
            assert any(answer in sentence for sentence in q.evidence), (q.id, answer)
            assert any(metrics.contains_fact(sentence, answer) for sentence in q.evidence), q.id


def test_evidence_is_verbatim_in_the_extracted_text_of_its_page(
    questions: list[runner.Question], texts: dict[str, str]
) -> None:
    for q in questions:
        for source in q.sources:
            assert source in texts, (q.id, source)
            for sentence in q.evidence:
                assert sentence.endswith("."), (q.id, sentence)  # a prose sentence, no heading
                assert sentence in texts[source], (q.id, sentence)
