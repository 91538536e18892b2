"""The public surface: names, result types, answers with exact citations, refusals, bad input."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys

import pytest

import rag
from rag.config import OFFLINE_ENV, Settings
from rag.errors import DocumentsError, QuestionError

EXPECTED_ALL = [
    "Answer",
    "Citation",
    "IndexSource",
    "IndexStatus",
    "IndexedDocument",
    "IngestReport",
    "Passage",
    "RagError",
    "Settings",
    "SkippedFile",
    "answer",
    "as_retriever",
    "build_chain",
    "check_document",
    "document_text",
    "documents",
    "index_source",
    "ingest",
    "remove_document",
    "retrieve",
    "stream_answer",
]


def test_all_is_pinned_and_sorted() -> None:
    assert rag.__all__ == EXPECTED_ALL
    assert sorted(rag.__all__) == rag.__all__
    for name in rag.__all__:
        assert hasattr(rag, name), name


def test_results_are_frozen_dataclasses() -> None:
    for cls in (rag.Answer, rag.Citation, rag.IngestReport):
        assert dataclasses.is_dataclass(cls)
        assert cls.__dataclass_params__.frozen  # type: ignore[attr-defined]
    assert [f.name for f in dataclasses.fields(rag.Citation)][:7] == [
        "index", "source", "text", "start", "end", "score", "page",
    ]  # fmt: skip


def assert_citations_exact(answer: rag.Answer, settings: Settings) -> None:
    markers = sorted({int(n) for n in re.findall(r"\[(\d+)\]", answer.text)})
    assert markers == sorted(c.index for c in answer.citations)
    assert len({c.index for c in answer.citations}) == len(answer.citations)
    for citation in answer.citations:
        assert rag.document_text(citation.source, settings)[citation.start : citation.end] == (
            citation.text
        )


def test_answer_cites_the_exact_span(seeded: Settings) -> None:
    answer = rag.answer("Who is the president of Serbia?", settings=seeded)
    assert not answer.refused
    assert answer.citations
    assert "Vučić" in answer.citations[0].text
    assert "[1]" in answer.text
    assert_citations_exact(answer, seeded)
    assert answer.citations[0].source == "000_f1c14fb623d5a113.txt"
    assert answer.citations[0].page is None


def test_off_topic_question_is_refused(seeded: Settings) -> None:
    answer = rag.answer("What is the capital of Australia?", settings=seeded)
    assert answer.refused
    assert answer.citations == []
    assert "documents do not" in answer.text
    assert "[" not in answer.text


def test_accent_insensitive_lexical_match(seeded: Settings) -> None:
    passages = rag.retrieve("Vucic", k=3, settings=seeded.with_(mode="bm25"))
    assert passages
    assert "Vučić" in passages[0].chunk.text
    assert passages[0].lexical_score and passages[0].lexical_score > 0


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_every_mode_answers(seeded: Settings, mode: str) -> None:
    answer = rag.answer("What anniversary is Belgrade marking?", settings=seeded.with_(mode=mode))
    assert not answer.refused
    assert "80th anniversary" in answer.text
    assert_citations_exact(answer, seeded)


def test_answers_are_deterministic(seeded: Settings) -> None:
    first = rag.answer("Where is the BRICS summit?", settings=seeded)
    second = rag.answer("Where is the BRICS summit?", settings=seeded)
    assert first == second


def test_k_limits_the_passages(seeded: Settings) -> None:
    assert len(rag.retrieve("Serbia", k=2, settings=seeded)) == 2


@pytest.mark.parametrize("question", ["", "   ", "\n\t"])
def test_empty_question_is_a_clear_error(seeded: Settings, question: str) -> None:
    with pytest.raises(QuestionError, match="Ask a question"):
        rag.answer(question, settings=seeded)


def test_huge_question_is_truncated_not_a_crash(seeded: Settings) -> None:
    question = "Who is the president of Serbia? " + "x" * 100_000
    answer = rag.answer(question, settings=seeded)
    truncated = question[: seeded.max_question_chars]
    assert answer.question == truncated and len(truncated) == 2000
    # The same answer, to the letter, as the question cut to the limit by hand.
    assert answer == rag.answer(truncated, settings=seeded)
    assert answer.refused is (answer.citations == [])  # refused: no citations; else some


def test_first_answer_builds_the_index(settings: Settings) -> None:
    assert rag.documents(settings).documents == []
    answer = rag.answer("Who is the president of Serbia?", settings=settings)
    assert not answer.refused
    assert rag.documents(settings).total_chunks > 0


def test_missing_documents_folder_names_it(settings: Settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    missing = tmp_path / "nowhere"
    with pytest.raises(DocumentsError, match=re.escape(str(missing))):
        rag.answer("Who?", settings=settings.with_(docs_dir=missing))


def test_empty_documents_folder_says_how_to_fix(settings: Settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DocumentsError, match="No documents found"):
        rag.ingest(empty, settings=settings)


def test_stream_answer_yields_text_then_the_answer(seeded: Settings) -> None:
    pieces = list(rag.stream_answer("Who is the president of Serbia?", settings=seeded))
    final = pieces[-1]
    assert isinstance(final, rag.Answer)
    assert all(isinstance(p, str) for p in pieces[:-1])
    assert "".join(pieces[:-1]) == final.text
    assert final == rag.answer("Who is the president of Serbia?", settings=seeded)


def test_follow_up_uses_the_history(seeded: Settings) -> None:
    history = [("Who is the president of Serbia?", "Aleksandar Vučić [1]")]
    answer = rag.answer("Who will he speak with?", history=history, settings=seeded)
    assert not answer.refused
    assert "Putin" in answer.text
    assert answer.question == "Who will he speak with?"


def test_check_document_says_why_a_file_cannot_be_indexed(tmp_path) -> None:  # type: ignore[no-untyped-def]
    good = tmp_path / "good.md"
    good.write_text("# Fine\n\nSome text.", encoding="utf-8")
    rag.check_document(good)
    binary = tmp_path / "bad.txt"
    binary.write_bytes(b"\x00\x01binary")
    with pytest.raises(DocumentsError, match=r"^binary file \(not text\)$"):
        rag.check_document(binary)
    # The sync's own caps: a file it would skip for its size (HTML has the smaller one) fails.
    small = rag.Settings(max_file_mb=0.001, max_html_mb=0.0005)
    page = tmp_path / "page.html"
    page.write_text("<p>" + "word " * 200 + "</p>", encoding="utf-8")
    with pytest.raises(DocumentsError) as html_cap:
        rag.check_document(page, settings=small)
    assert str(html_cap.value) == (
        "0.0 MB is over the 0.0005 MB limit for an HTML file (raise RAG_MAX_HTML_MB to index it)"
    )
    rag.check_document(good, settings=small)  # under both caps
    plain = tmp_path / "plain.txt"
    plain.write_text("Some text. " * 100, encoding="utf-8")
    with pytest.raises(DocumentsError, match=r"limit for a file \(raise RAG_MAX_FILE_MB"):
        rag.check_document(plain, settings=small)
    with pytest.raises(DocumentsError, match=r"^cannot read: No such file or directory$"):
        rag.check_document(tmp_path / "gone.txt")


def test_check_document_holds_the_size_cap_while_it_reads(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A file that grows past the cap after its size was looked at (here: the size check sees
    it small) is read no further than the cap, as the sync reads it, and refused."""
    import rag.api

    small = rag.Settings(max_file_mb=0.001)
    plain = tmp_path / "plain.txt"
    plain.write_text("Some text. " * 1000, encoding="utf-8")
    monkeypatch.setattr(rag.api, "size_problem", lambda *_: "")  # the stat saw it small
    with pytest.raises(DocumentsError, match=r"^it grew past the size limit \(1,048 bytes\)"):
        rag.check_document(plain, settings=small)
    plain.write_text("Some text.", encoding="utf-8")
    rag.check_document(plain, settings=small)


def test_importing_rag_sets_the_offline_defaults_and_a_users_value_wins() -> None:
    env = {k: v for k, v in os.environ.items() if k not in OFFLINE_ENV}
    env["OMP_WAIT_POLICY"] = "ACTIVE"  # the user's choice
    code = "import os, json, rag; print(json.dumps({k: os.environ.get(k) for k in %r}))"
    out = subprocess.run(
        [sys.executable, "-c", code % sorted(OFFLINE_ENV)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    seen = json.loads(out.strip().splitlines()[-1])
    assert seen == {**OFFLINE_ENV, "OMP_WAIT_POLICY": "ACTIVE"}
    assert OFFLINE_ENV["OMP_WAIT_POLICY"] == "PASSIVE" and OFFLINE_ENV["HF_HUB_OFFLINE"] == "1"
