"""The eval runner (evals/runner.py): a document id keeps its sub-folder, an evaluation never
uses the user's Chroma server or collection, ``--name`` names the results of a suite too,
evidence whose gold source is not indexed is looked up in every document of a real index, and
hit@5 counts a passage from a gold source without evidence.

Tests written for deliberate bugs a review planted in evals/runner.py that the suite let
through."""

from __future__ import annotations

from pathlib import Path

import pytest

from evals import runner
from rag.chunking import chunk_document
from rag.models import Passage


def test_a_document_id_keeps_its_sub_folder() -> None:
    assert runner.source_id("pumps/intro.md") == "pumps/intro"
    question = runner.Question(id="q", question="Who?", answerable=True, sources=("pumps/intro",))
    passages = [
        Passage(chunk, 1.0)
        for source in ("valves/intro.md", "pumps/intro.md")
        for chunk in chunk_document(source, "The relief valve opens at 4 bar.", size=700, overlap=0)
    ]
    assert runner.label_passages(passages, question, {}) == ([False, True], [False, False])


def test_an_evaluation_never_uses_the_users_server_or_collection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAG_CHROMA_URL", "http://127.0.0.1:9/")
    monkeypatch.setenv("RAG_COLLECTION", "team")
    monkeypatch.setenv("RAG_K", "7")  # the user's other settings do apply
    settings = runner.eval_settings(tmp_path / "docs", tmp_path / "out")
    assert (settings.chroma_url, settings.collection, settings.k) == (None, "documents", 7)
    assert settings.store_dir.parent == tmp_path / "out"


def test_a_suites_results_folder_is_the_name_asked() -> None:
    parser = runner.build_parser()
    questions, docs, name = runner.choose_set(
        parser.parse_args(["--suite", "nodejs-md", "--name", "mine"])
    )
    assert (questions, docs, name) == (*runner.SUITES["nodejs-md"], "mine")
    assert runner.choose_set(parser.parse_args(["--suite", "nodejs-md"]))[2] == "nodejs-md"


def test_evidence_of_a_gold_source_not_indexed_is_found_in_any_document(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    (docs / "pumps").mkdir(parents=True)
    text = "Pumps move the water. The relief valve opens at 4 bar."
    (docs / "pumps" / "valves.txt").write_text(text, encoding="utf-8")
    settings = runner.eval_settings(docs, tmp_path / "out")
    runner.index(settings)
    evidence = runner.Evidence(settings)
    sentence = "The relief valve opens at 4 bar."
    start = text.index(sentence)
    for sources in (("pumps/valves",), ("pumps/renamed",)):
        question = runner.Question(
            id="q", question="When?", answerable=True, sources=sources, evidence=(sentence,)
        )
        assert evidence.spans(question) == {"pumps/valves.txt": [(start, len(text))]}


def test_hit_at_5_counts_a_gold_source_without_evidence(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "pumps.txt").write_text("The relief valve opens at 4 bar.", encoding="utf-8")
    (docs / "tanks.txt").write_text("The water tank holds 900 litres.", encoding="utf-8")
    settings = runner.eval_settings(docs, tmp_path / "out", mode="bm25")
    runner.index(settings)
    question = runner.Question(
        id="q", question="When does the relief valve open?", answerable=True, sources=("pumps",)
    )
    record = runner.evaluate_question(question, settings, runner.Evidence(settings))
    assert record["retrieved"][0]["source"] == "pumps.txt"
    assert (record["hit_at_1"], record["hit_at_5"], record["evidence_hit_at_5"]) == (1, 1, 0)


@pytest.mark.parametrize(
    "name", ["../escaped", "../../escaped", "a/../../escaped", "/abs", "..", "."]
)
def test_a_results_name_that_is_a_path_is_refused_and_nothing_is_written(
    tmp_path: Path, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by the third attack review: ``--name ../../escaped`` (help: "results folder under
    OUT") wrote results-*.jsonl, summary.json, table.md, plot.png and .run.lock two folders
    above --out, and ``--name /abs`` into /abs; ``.`` and ``..`` into OUT and its parent."""
    out = tmp_path / "deep" / "out"
    name = name.replace("/abs", str(tmp_path / "abs"))
    questions = tmp_path / "q.jsonl"
    questions.write_text(
        '{"id": "q1", "question": "Who?", "answerable": false}\n', encoding="utf-8"
    )
    args = ["--questions", str(questions), "--docs", str(tmp_path / "docs"), "--out", str(out)]
    with pytest.raises(SystemExit) as stopped:
        runner.main([*args, "--name", name])
    assert stopped.value.code == 2
    assert "--name" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["q.jsonl"]  # nothing written


def test_a_plain_results_name_is_kept() -> None:
    parsed = runner.build_parser().parse_args(["--name", "smollm2-subset.v2"])
    assert parsed.name == "smollm2-subset.v2"
