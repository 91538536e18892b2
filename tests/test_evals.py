"""The eval metrics (pure functions) and the seed-set quality gate (the real pipeline)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import rag
from evals import metrics, runner
from rag.config import MODES
from rag.models import Chunk, Passage
from tests.conftest import OPT_IN
from tests.gates import figure, load_gates

ROOT = Path(__file__).resolve().parents[1]
CLAPNQ = ROOT / "evals" / "benchmarks" / "clapnq"

# The gates' bounds live in evals/gates.json (tests/gates.py reads them; evals/README.md, Gate,
# says how they are set). No retrieval bounds on the seed set: seeds/ holds one document, so any
# retrieval scores 1.0 on it; no title ceiling either: its first line is an 851-character
# paragraph, which no citation (a sentence) can equal, so the ceiling could not fail there. The
# title ceiling is on the held-out slice and ClapNQ, whose documents open with a title line.
GATES = load_gates()


# ---------------------------------------------------------------- metrics


def test_key_facts_ignore_case_accents_and_punctuation() -> None:
    answer = "On this day, the Serbian president, Aleksandar Vučić, is set to speak by phone [1]"
    assert metrics.normalise("Aleksandar VUCIC!") == "aleksandar vucic"
    assert metrics.contains_fact(answer, "aleksandar vucic")
    assert metrics.contains_fact(answer, "By Phone")
    assert not metrics.contains_fact(answer, "phon")  # whole words only
    assert not metrics.contains_fact(answer, "")
    assert metrics.key_fact_hit(answer, ["Putin", "Vučić"])
    assert not metrics.key_fact_hit(answer, ["Putin"])
    assert metrics.key_fact_recall(answer, ["Putin", "Vučić"]) == 0.5
    assert metrics.key_fact_recall(answer, []) == 1.0


def test_token_f1_is_squad_style() -> None:
    assert metrics.token_f1("the cat sat", "the cat sat") == 1.0
    assert metrics.token_f1("the cat", "the cat sat down") == pytest.approx(2 * 1.0 * 0.5 / 1.5)
    assert metrics.token_f1("dog", "the cat") == 0.0
    assert metrics.token_f1("", "") == 1.0
    assert metrics.best_token_f1("the cat", ["a dog", "the cat"]) == 1.0
    assert metrics.best_token_f1("the cat", []) == 0.0


def test_evidence_overlap_needs_a_shared_run_of_words() -> None:
    evidence = ["Blind baking a pie crust is necessary when it will be filled ."]
    assert metrics.evidence_overlap("Yes: blind baking a pie crust is needed.", evidence)
    assert not metrics.evidence_overlap("A pie crust is baked blind.", evidence)
    assert metrics.shares_ngram("it is Kazan.", "Kazan")  # shorter than n: the whole of it
    assert not metrics.evidence_overlap("anything", [])


def test_spans_and_overlaps() -> None:
    assert metrics.find_spans("abcabc", "bc") == [(1, 3), (4, 6)]
    assert metrics.find_spans("abc", "") == []
    assert metrics.overlaps((0, 5), (4, 9))
    assert not metrics.overlaps((0, 5), (5, 9))
    assert metrics.overlaps_any((3, 4), [(0, 1), (2, 6)])
    assert not metrics.overlaps_any((3, 4), [])


def test_metric_edges_the_mutants_found() -> None:
    # F1 with precision and recall both below 1: 2 of 3 predicted, 2 of 4 reference words.
    assert metrics.token_f1("a cat sat", "the cat sat down") == pytest.approx(4 / 7)
    # Exactly five shared words is an overlap at the default n; four is not.
    evidence = "the old mill on the river burned down in 1911"
    assert metrics.shares_ngram("they say the old mill on the hill", evidence)
    assert not metrics.shares_ngram("they say the old mill burned", evidence)
    assert metrics.evidence_overlap("they say the old mill on the hill", [evidence])
    assert not metrics.evidence_overlap("the old mill on fire", [evidence])
    assert metrics.evidence_overlap("the old mill on fire", [evidence], n=2)
    assert not metrics.shares_ngram("anything", "")  # empty evidence supports nothing
    assert not metrics.shares_ngram("anything", "...")
    # Occurrences at 0, overlapping ones, and more than two.
    assert metrics.find_spans("abcab", "ab") == [(0, 2), (3, 5)]
    assert metrics.find_spans("aaa", "aa") == [(0, 2), (1, 3)]
    assert metrics.find_spans("bcbcbc", "bc") == [(0, 2), (2, 4), (4, 6)]
    assert not metrics.overlaps((5, 9), (0, 5))  # touching from either side is no overlap


def test_ranking_metrics() -> None:
    relevant = [False, False, True, False, True]
    assert metrics.first_relevant_rank(relevant) == 3
    assert metrics.hit_at(relevant, 1) == 0.0
    assert metrics.hit_at(relevant, 3) == 1.0
    assert metrics.reciprocal_rank(relevant) == pytest.approx(1 / 3)
    assert metrics.reciprocal_rank([False, False]) == 0.0
    assert metrics.first_relevant_rank([]) is None


def test_aggregates() -> None:
    values = [12.0, 3.0, 7.0, 5.0, 40.0]
    for q in (0, 50, 95, 100):
        assert metrics.percentile(values, q) == pytest.approx(float(np.percentile(values, q)))
    assert metrics.percentile([], 50) is None
    assert metrics.mean([]) is None
    assert metrics.auroc([0.9, 0.8], [0.1, 0.2]) == 1.0
    assert metrics.auroc([0.5], [0.5]) == 0.5
    assert metrics.auroc([0.2, 0.9], [0.5]) == 0.5
    assert metrics.auroc([], [0.5]) is None
    assert metrics.balanced_accuracy(0.9, 0.1) == pytest.approx(0.9)
    assert metrics.balanced_accuracy(None, 0.1) is None


def _passage(source: str, start: int, end: int) -> Passage:
    chunk = Chunk(id=f"{source}:{start}", source=source, start=start, end=end, text="x")
    return Passage(chunk=chunk, score=1.0)


def test_relevance_labels_gold_sources_and_evidence_only() -> None:
    question = runner.Question(id="q", question="Who?", answerable=True, sources=("gold",))
    passages = [
        _passage("other.txt", 0, 100),  # neither gold nor on the evidence
        _passage("gold.txt", 0, 100),  # from the gold document
        _passage("other.txt", 140, 300),  # overlaps the evidence found in other.txt
        _passage("other.txt", 200, 300),  # same document, off the evidence
        _passage("sub/gold.txt", 0, 100),  # another folder's gold.txt is not the gold one
    ]
    spans = {"other.txt": [(120, 160)], "gold.txt": [(500, 600)]}

    relevant, on_evidence = runner.label_passages(passages, question, spans)

    assert relevant == [False, True, True, False, False]
    assert on_evidence == [False, False, True, False, False]
    assert runner.label_passages([], question, spans) == ([], [])


def _record(answerable: bool, refused: bool, confidence: float, **extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "answerable": answerable,
        "refused": refused,
        "confidence": confidence,
        "latency_ms": 10.0,
        "citations": [],
    }
    return base | extra


def test_summarise_counts_refusals_and_citations() -> None:
    answered = dict(
        hit_at_1=1.0, hit_at_5=1.0, reciprocal_rank=1.0, evidence_hit_at_5=1.0,
        key_fact_hit=True, key_fact_recall=1.0, token_f1=0.5, evidence_overlap=True,
    )  # fmt: skip
    records = [
        _record(True, False, 0.9, cited_evidence=True, **answered,
                citations=[{"on_evidence": True}, {"on_evidence": False}]),
        _record(True, True, 0.3, cited_evidence=False, **(answered | {"key_fact_hit": False})),
        _record(False, True, 0.2),
        _record(False, False, 0.6, latency_ms=30.0, citations=[{"on_evidence": False}]),
    ]  # fmt: skip
    summary = runner.summarise(records)
    assert summary["questions"] == 4
    assert summary["key_fact_hit"] == 0.5
    assert summary["citation_precision"] == 0.5  # citations of answerable questions only
    assert summary["citation_recall"] == 0.5
    assert summary["refusal_rate"] == 0.5
    assert summary["false_refusal_rate"] == 0.5
    assert summary["balanced_accuracy"] == 0.5
    assert summary["confidence_auroc"] == 0.75
    assert summary["latency_p50_ms"] == 10.0


def test_summarise_skips_questions_without_references() -> None:
    bare = dict(hit_at_1=1.0, hit_at_5=1.0, reciprocal_rank=1.0, evidence_hit_at_5=0.0)
    records = [
        _record(True, False, 0.9, cited_evidence=None, citations=[{"on_evidence": False}], **bare),
        _record(True, False, 0.8, cited_evidence=True, citations=[{"on_evidence": True}],
                key_fact_hit=True, key_fact_recall=1.0, token_f1=1.0, evidence_overlap=True,
                **bare),
    ]  # fmt: skip
    summary = runner.summarise(records)
    assert summary["key_fact_hit"] == 1.0 and summary["evidence_recall"] == 1.0
    assert summary["citation_precision"] == 1.0 and summary["citation_recall"] == 1.0
    assert summary["refusal_rate"] is None and summary["confidence_auroc"] is None


def test_load_questions_reads_the_schema(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    rows = [
        {"id": 1, "question": "Who?", "answerable": True, "answers": ["A"], "sources": ["d"]},
        {"id": "2", "question": "Why?", "answerable": False},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n", encoding="utf-8")
    questions = runner.load_questions(path)
    assert questions == [
        runner.Question(id="1", question="Who?", answerable=True, answers=("A",), sources=("d",)),
        runner.Question(id="2", question="Why?", answerable=False),
    ]
    assert runner.load_questions(path, limit=1) == questions[:1]
    path.write_text('{"id": "x", "question": "Who?"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"q.jsonl:1: missing answerable"):
        runner.load_questions(path)


def test_a_torn_or_missing_questions_file_is_one_line_naming_the_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Attack review: the page's feedback file cut mid-line (a crash or a full disk while it
    appended) made `rag eval --questions` end with `unexpected JSONDecodeError: Expecting ','
    delimiter: line 1 column 40 (char 39)`, naming neither the file nor the line; a missing
    file with `unexpected FileNotFoundError`."""
    from rag.cli import main as cli_main

    path = tmp_path / "feedback.jsonl"
    whole = {"id": "f1", "question": "Who?", "answerable": False, "feedback": "right"}
    path.write_text(json.dumps(whole) + '\n{"id": "f2", "question": "Wh', encoding="utf-8")
    assert cli_main(["eval", "--questions", str(path)]) == 1
    assert capsys.readouterr().err == (
        f"error: {path}:2: not JSON (Unterminated string starting at: line 1 column 26 (char "
        "25)): fix or delete that line (a writer stopped mid-line, by a crash or a full disk, "
        "leaves a partial last line)\n"
    )
    path.write_text("[1, 2]\n", encoding="utf-8")
    assert cli_main(["eval", "--questions", str(path)]) == 1
    assert capsys.readouterr().err == f"error: {path}:1: not a JSON object (evals/README.md)\n"
    missing = tmp_path / "nothing.jsonl"
    assert cli_main(["eval", "--questions", str(missing)]) == 1
    assert capsys.readouterr().err == (
        f"error: cannot read the questions file {missing} (No such file or directory): pass "
        "--questions PATH to a JSONL file (evals/README.md).\n"
    )


@pytest.mark.parametrize(
    ("field", "value", "said"),
    [
        ("answerable", "false", "answerable must be true or false, not 'false'"),
        ("answerable", 0, "answerable must be true or false, not 0"),
        ("question", None, "question must be a non-empty string, not None"),
        ("question", "  ", "question must be a non-empty string, not '  '"),
        ("id", None, "id must be a string (or a number), not None"),
        ("answers", "Vladimir Putin", 'answers must be a list of strings, not "Vladimir Putin"'),
        ("evidence", [["nested"]], 'evidence must be a list of strings, not [["nested"]]'),
        ("history", "Who is he?", 'history must be a list of strings, not "Who is he?"'),
    ],
)
def test_a_field_of_the_wrong_type_is_one_line_naming_the_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], field: str, value: Any, said: str
) -> None:
    """Attack review: wrong types were read silently: `"answerable": "false"` counted as an
    answerable question, `"answers": "Vladimir Putin"` as 14 one-letter answers (a key fact hit
    by any answer with an "a" in it), `"question": null` asked as "None"."""
    from rag.cli import main as cli_main

    path = tmp_path / "q.jsonl"
    good = {"id": "q1", "question": "Who?", "answerable": True, "answers": ["Putin"]}
    path.write_text(json.dumps(good) + "\n" + json.dumps({**good, "id": "q2", field: value}))
    assert cli_main(["eval", "--questions", str(path)]) == 1
    assert capsys.readouterr().err == f"error: {path}:2: {said}\n"


def test_a_duplicate_id_names_both_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two questions of one id made per-question results ambiguous; ids 1 and "1" are one."""
    from rag.cli import main as cli_main

    path = tmp_path / "q.jsonl"
    rows = [
        {"id": 1, "question": "Who?", "answerable": False},
        {"id": "2", "question": "Why?", "answerable": False},
        {"id": "1", "question": "When?", "answerable": False},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert cli_main(["eval", "--questions", str(path)]) == 1
    assert capsys.readouterr().err == (
        f"error: {path}:3: id '1' is used on line 1 too: give each question its own id\n"
    )


def test_the_question_files_follow_the_schema() -> None:
    for path in (runner.DEFAULT_QUESTIONS, CLAPNQ / "questions.jsonl"):
        questions = runner.load_questions(path)
        assert len({q.id for q in questions}) == len(questions)
        for q in questions:
            assert bool(q.answers) == q.answerable == bool(q.evidence), q.id


def test_eval_overrides_are_typed_by_the_setting() -> None:
    with pytest.raises(SystemExit, match=r"--set k=many: not a int"):
        runner.main(["--set", "k=many"])
    with pytest.raises(SystemExit, match=r"--set takes NAME=VALUE with NAME one of chunk_size"):
        runner.main(["--set", "model=gpt"])


@pytest.mark.parametrize("limit", ["0", "-3", "many"])
def test_a_limit_below_one_is_refused(limit: str, capsys: pytest.CaptureFixture[str]) -> None:
    """--limit 0 asked every question and --limit -3 all but the last three."""
    with pytest.raises(SystemExit) as stopped:
        runner.main(["--limit", limit])
    assert stopped.value.code == 2
    assert f"--limit: {limit!r} is not a number of questions (1 or more)" in (
        capsys.readouterr().err
    )


def test_store_is_isolated_and_keyed_by_docs_and_chunking(tmp_path: Path) -> None:
    settings = runner.eval_settings(ROOT / "seeds", tmp_path)
    assert settings.store_dir.parent == tmp_path
    assert settings.store_dir.name.startswith("store-")
    again = runner.eval_settings(ROOT / "seeds", tmp_path, mode="bm25")
    assert again.store_dir == settings.store_dir and again.mode == "bm25"
    rechunked = runner.eval_settings(ROOT / "seeds", tmp_path, overrides={"chunk_size": 500})
    assert rechunked.store_dir != settings.store_dir


# ---------------------------------------------------------------- the report, torn or full

# A child that may write at most 48 KiB to any file (RLIMIT_FSIZE: the kernel refuses the rest
# with EFBIG, as a full disk refuses with ENOSPC), then writes a report of 100 copies of the
# earlier run's records over it.
FULL_WRITER = """
import json, resource, signal, sys
from pathlib import Path
from evals import runner
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (48 * 1024, 48 * 1024))
target = Path(sys.argv[1])
rows = [json.loads(line) for line in (target / "results-bm25.jsonl").read_text().splitlines()]
try:
    runner.write_outputs(target, {"bm25": rows * 100}, {"questions_file": "big"})
except OSError as exc:
    print(exc.filename)
"""


def test_a_torn_or_unwritable_report_leaves_earlier_results_whole_and_readable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Power-cut review: write_outputs wrote each file in place. A run killed or out of space
    mid-write left a results file cut mid-line (the earlier results gone), and every later run
    into that folder, of any mode, answered all its questions and then failed reading it:
    `unexpected JSONDecodeError`. A folder it could not write was `unexpected OSError`."""
    import subprocess
    import sys

    from rag.cli import main as cli_main

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "000_f1c14fb623d5a113.txt").write_text(
        (ROOT / "seeds" / "000_f1c14fb623d5a113.txt").read_text(encoding="utf-8")
    )
    questions = tmp_path / "q.jsonl"
    questions.write_text(
        json.dumps({"id": "q1", "question": "Who is the president of Serbia?", "answerable": True})
    )
    out = tmp_path / "out"
    target = out / "report"
    ask = ["eval", "--questions", str(questions), "--docs", str(docs), "--name", "report"]
    ask += ["--out", str(out)]
    assert cli_main([*ask, "--mode", "bm25"]) == 0
    earlier = (target / "results-bm25.jsonl").read_bytes()
    summary = (target / "summary-bm25.json").read_bytes()

    # Out of room while writing the next report: the earlier files stay as they were.
    child = subprocess.run(
        [sys.executable, "-c", FULL_WRITER, str(target)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=True,
    )
    assert child.stdout.strip() == str(target / "results-bm25.jsonl"), child.stderr
    assert (target / "results-bm25.jsonl").read_bytes() == earlier
    assert (target / "summary-bm25.json").read_bytes() == summary
    assert not [p.name for p in target.iterdir() if p.name.endswith(".tmp")]

    # A results file cut mid-line (by the old code, or a copy cut short) is left out with a
    # warning; the run of another mode still writes its report.
    (target / "results-bm25.jsonl").write_bytes(earlier[: len(earlier) // 2])
    capsys.readouterr()
    assert cli_main([*ask, "--mode", "dense"]) == 0
    captured = capsys.readouterr()
    assert f"warning: left out the earlier bm25 results in {target}/ (unreadable: " in captured.err
    assert list(json.loads((target / "summary.json").read_text())) == ["dense"]
    assert "| dense |" in (target / "table.md").read_text()

    # A results folder that cannot be made: one line that says what to do.
    blocked = tmp_path / "blocked"
    blocked.mkdir()
    (blocked / "report").write_text("a file where the results folder goes")
    assert cli_main([*ask[:-1], str(blocked), "--mode", "bm25"]) == 1
    err = capsys.readouterr().err.splitlines()[-1]
    assert err.startswith(f"error: cannot write the results to {blocked / 'report'} (")
    assert err.endswith("free some space or pass --out a writable folder, and run again (the "
                        "results already there are whole: each file is replaced only once "
                        "written).")  # fmt: skip


def one_document(tmp_path: Path) -> Path:
    docs = tmp_path / "docs"
    docs.mkdir()
    seed = ROOT / "seeds" / "000_f1c14fb623d5a113.txt"
    (docs / seed.name).write_text(seed.read_text(encoding="utf-8"), encoding="utf-8")
    return docs


def test_a_failed_model_call_says_where_the_run_stopped_and_the_next_run_resumes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`rag eval --llm openai` over a server that fails at the third question printed only the
    server's error: not which question, nor that the answers so far were not written. And the
    answers so far were lost: the next run asked every question again (review: nothing kept
    of a long run stopped near its end). Now they are kept, and the next run asks the rest."""
    from rag.cli import main as cli_main
    from tests.openai_server import OpenAIServer, Reply

    questions = tmp_path / "q.jsonl"
    rows = [{"id": f"q{i}", "question": f"Who is number {i}?", "answerable": False}
            for i in range(1, 5)]  # fmt: skip
    questions.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "out"
    docs = one_document(tmp_path)
    command = ["eval", "--questions", str(questions), "--docs", str(docs), "--out", str(out),
               "--llm", "openai", "--name", "r"]  # fmt: skip
    kept = out / "r" / "progress-hybrid.jsonl"
    monkeypatch.setenv("RAG_LLM_MAX_RETRIES", "0")
    monkeypatch.setenv("RAG_MODEL", "m")
    with OpenAIServer() as server:
        # The warm-up and two questions are answered (refused); the third question fails.
        server.script(*[Reply("NOT_IN_DOCUMENTS")] * 3, Reply(status=500, error="boom"))
        monkeypatch.setenv("OPENAI_BASE_URL", server.url)
        code = cli_main(command)
        assert code == 1
        err = capsys.readouterr().err.strip().splitlines()[-1]
        assert err == (
            f"error: The LLM server at {server.url} failed (500, still after 0 retries): try "
            "again later, or point OPENAI_BASE_URL at a working server. (at question 'q3', 2 "
            f"of 4 answered in hybrid mode; no results were written; the 2 answered are kept "
            f"in {kept})"
        )
        assert sorted(p.name for p in (out / "r").iterdir()) == [
            ".run.lock",
            "progress-hybrid.jsonl",
        ]

        server.script(Reply("NOT_IN_DOCUMENTS"))  # it works again: only q3 and q4 are asked
        before = len(server.requests)
        assert cli_main(command) == 0
        asked = [r.user for r in server.requests[before:]]
    err = capsys.readouterr().err
    assert f"Resuming hybrid: 2 of 4 questions were answered by a run that stopped ({kept})" in err
    assert len(asked) == 3  # the warm-up, q3 and q4
    assert "number 3" in asked[1] and "number 4" in asked[2]
    results = (out / "r" / "results-hybrid.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["id"] for line in results] == ["q1", "q2", "q3", "q4"]
    assert not kept.exists()  # the results are whole: nothing left to resume

    # Another run never takes them up: all four are asked, whether the server (its answers
    # are not this run's) or a setting is another.
    for extra in ([], ["--set", "k=3"]):
        with OpenAIServer() as server:
            server.script(*[Reply("NOT_IN_DOCUMENTS")] * 2, Reply(status=500, error="at q2"))
            monkeypatch.setenv("OPENAI_BASE_URL", server.url)
            assert cli_main([*command, *extra]) == 1  # q1 kept under this run's key
        assert len(kept.read_text(encoding="utf-8").splitlines()) == 2
        with OpenAIServer() as server:
            server.script(Reply("NOT_IN_DOCUMENTS"))
            monkeypatch.setenv("OPENAI_BASE_URL", server.url)
            assert cli_main([*command, *extra]) == 0
            assert len(server.requests) == 5  # the warm-up and q1-q4
        assert "Resuming" not in capsys.readouterr().err


def test_a_checkpoint_torn_by_a_kill_keeps_its_whole_lines(tmp_path: Path) -> None:
    """A run killed while appending an answer leaves half a line: the answers before it are
    resumed, the half one is asked again, and another run's file is not used."""
    path = tmp_path / "progress-hybrid.jsonl"
    whole = [{"id": "q1", "refused": True}, {"id": "q2", "refused": False}]
    text = "".join(json.dumps(r) + "\n" for r in [{"key": "k1"}, *whole])
    path.write_text(text + '{"id": "q3", "refu', encoding="utf-8")
    assert runner.read_checkpoint(path, "k1") == {"q1": whole[0], "q2": whole[1]}
    assert runner.read_checkpoint(path, "k2") == {}
    assert runner.read_checkpoint(tmp_path / "none.jsonl", "k1") == {}


def test_a_second_run_into_the_same_folder_is_refused_until_the_first_ends(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two runs of one --name shared its answers file, so one run's answers were resumed into
    the other's under the other's settings, and its summary, so one run's modes were lost. The
    first run is another process here (it holds the lock as a running `rag eval` does); the OS
    releases the lock when it is killed."""
    import subprocess
    import sys

    from rag.cli import main as cli_main

    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps({"id": "q1", "question": "Who?", "answerable": False}) + "\n")
    out = tmp_path / "out"
    command = ["eval", "--questions", str(questions), "--docs", str(one_document(tmp_path)),
               "--out", str(out), "--name", "r", "--mode", "bm25"]  # fmt: skip
    (out / "r").mkdir(parents=True)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from filelock import FileLock; "
         "lock = FileLock(sys.argv[1]); lock.acquire(); print('held', flush=True); time.sleep(120)",
         str(out / "r" / runner.RUN_LOCK)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        assert cli_main(command) == 1
        assert capsys.readouterr().err.strip() == (
            f"error: another rag eval is writing into {out / 'r'}: wait for it to end, or pass "
            "--name (or --out) for a folder of its own."
        )
        assert sorted(p.name for p in (out / "r").iterdir()) == [runner.RUN_LOCK]
    finally:
        holder.kill()
        holder.wait()
    assert cli_main(command) == 0
    assert (out / "r" / "results-bm25.jsonl").exists()


def test_answers_kept_by_other_code_are_not_resumed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An engineer stops a run, changes the answer path and runs again to measure the change:
    the answers of the old code must not be mixed in. The run's key covers rag/'s code."""
    import rag

    package = tmp_path / "rag"
    (package / "reader_model").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "answering.py").write_text("READ = 10\n")
    (package / "reader_model" / "reader.json").write_text("{}")
    monkeypatch.setattr(rag, "__file__", str(package / "__init__.py"))
    before = runner.code_version()
    (package / "answering.py").write_text("READ = 8\n")
    changed = runner.code_version()
    (package / "reader_model" / "reader.json").write_text('{"threshold": 0.5}')
    assert len({before, changed, runner.code_version()}) == 3


def test_evidence_found_in_no_document_is_warned_about(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Such a question's citations are left out of cite P and cite R (evals/README.md), which
    was said nowhere: a typo in an evidence sentence quietly shrank what was measured."""
    from rag.cli import main as cli_main

    questions = tmp_path / "q.jsonl"
    rows = [
        {"id": "found", "question": "Who is the president of Serbia?", "answerable": True,
         "evidence": ["On this day, the Serbian president, Aleksandar Vučić, is set to speak"]},
        {"id": "typo", "question": "Who is the president of Serbia?", "answerable": True,
         "evidence": ["On this day, the Serbian presidnet, Aleksandar Vučić, is set to speak"]},
    ]  # fmt: skip
    questions.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    docs = one_document(tmp_path)
    out = tmp_path / "out"
    assert (
        cli_main(["eval", "--questions", str(questions), "--docs", str(docs), "--out", str(out)])
        == 0
    )
    assert (
        "warning: the evidence of 1 question(s) was not found in the documents (typo): their "
        "citations are not scored; check their evidence sentences and sources"
    ) in capsys.readouterr().err


# ---------------------------------------------------------------- the gate


@pytest.fixture(scope="module")
def seed_summary(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("eval-out")
    questions = runner.load_questions(runner.DEFAULT_QUESTIONS)
    settings = runner.eval_settings(runner.DEFAULT_DOCS, out)
    records = runner.run_mode(questions, settings, progress=False)
    return runner.summarise(records)


@pytest.mark.slow
@pytest.mark.parametrize("metric", sorted(GATES["seed"]))
def test_seed_metric_stays_within_its_bound(seed_summary: dict[str, Any], metric: str) -> None:
    bound = GATES["seed"][metric]
    assert bound.holds(figure(seed_summary, metric)), (bound, seed_summary)


@pytest.mark.slow
def test_rag_eval_writes_results_table_and_plot(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # evals/README.md's override: refusal_threshold's default is None (the reader's), so its
    # type comes from the annotation (it crashed with a TypeError when read off the default).
    args = ["--limit", "3", "--mode", "bm25", "--out", str(tmp_path), "--name", "s"]
    code = runner.main([*args, "--set", "refusal_threshold=0.5", "--set", "k=4"])
    assert code == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith("| mode | hit@1 | hit@5 | MRR |")
    assert printed[2].startswith("| bm25 | ")
    assert (
        printed[-1]
        == f"Results in {tmp_path / 's'}/ (results-*.jsonl, summary.json, table.md, plot.png)"
    )
    target = tmp_path / "s"
    lines = (target / "results-bm25.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["id"] for line in lines] == ["seed-001", "seed-002", "seed-003"]
    summary = json.loads((target / "summary.json").read_text())
    assert summary["bm25"]["questions"] == 3
    assert summary["bm25"]["settings"]["k"] == 4
    assert summary["bm25"]["settings"]["refusal_threshold"] == 0.5
    assert (target / "table.md").read_text().splitlines()[2] == printed[2]
    assert (target / "plot.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_run_of_the_first_questions_keeps_its_own_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A --limit run wrote into the set's folder, so its figures over a few questions replaced
    the whole set's in summary.json (helper's README check). Without --name it has its own."""
    for extra, folder in ((["--suite", "seed"], "seed-first1"), ([], "evals-questions-first2")):
        limit = folder[-1]
        args = [*extra, "--limit", limit, "--mode", "bm25", "--out", str(tmp_path)]
        assert runner.main(args) == 0
        assert (
            capsys.readouterr().out.splitlines()[-1].startswith(f"Results in {tmp_path / folder}/")
        )
        summary = json.loads((tmp_path / folder / "summary.json").read_text())
        assert summary["bm25"]["questions"] == int(limit)
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("store-")) == [
        "evals-questions-first2",
        "seed-first1",
    ]


@pytest.fixture(scope="module")
def clapnq_retrieval(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, float]]:
    """hit@1, hit@5 and MRR per mode on ClapNQ's answerable questions, labelled by the runner."""
    questions = [q for q in runner.load_questions(CLAPNQ / "questions.jsonl") if q.answerable]
    out = tmp_path_factory.mktemp("clapnq-retrieval")
    summaries: dict[str, dict[str, float]] = {}
    for mode in MODES:
        settings = runner.eval_settings(CLAPNQ / "docs", out, mode=mode)
        runner.index(settings)  # once: the modes share the store
        evidence = runner.Evidence(settings)
        labels = []
        for q in questions:
            found = rag.retrieve(q.question, k=runner.RETRIEVAL_DEPTH, settings=settings)
            labels.append(runner.label_passages(found, q, evidence.spans(q))[0])
        summaries[mode] = {
            "hit_at_1": sum(metrics.hit_at(r, 1) for r in labels) / len(labels),
            "hit_at_5": sum(metrics.hit_at(r, 5) for r in labels) / len(labels),
            "mrr": sum(metrics.reciprocal_rank(r) for r in labels) / len(labels),
        }
    return summaries


@pytest.mark.slow
@pytest.mark.parametrize("metric", sorted(GATES["clapnq_retrieval"]))
def test_clapnq_retrieval_stays_above_its_floor(
    clapnq_retrieval: dict[str, dict[str, float]], metric: str
) -> None:
    bound = GATES["clapnq_retrieval"][metric]
    assert bound.holds(figure(clapnq_retrieval, metric)), (bound, clapnq_retrieval)


@pytest.mark.slow
@pytest.mark.skipif(
    not OPT_IN["RAG_EVAL_CLAPNQ"], reason="RAG_EVAL_CLAPNQ=1 or make test-clapnq (minutes)"
)
def test_clapnq_answers_stay_within_their_bounds(tmp_path: Path) -> None:
    questions = runner.load_questions(CLAPNQ / "questions.jsonl")
    settings = runner.eval_settings(CLAPNQ / "docs", tmp_path)
    summary = runner.summarise(runner.run_mode(questions, settings, progress=False))
    print("ClapNQ answers:", json.dumps(summary))
    broken = [b for b in GATES["clapnq_answers"].values() if not b.holds(figure(summary, b.metric))]
    assert not broken, (broken, summary)


def test_every_bound_says_how_it_was_set() -> None:
    """A measured bound is its measurement minus the stated margin (plus, for a ceiling)."""
    assert set(GATES) == {"held_out", "seed", "clapnq_retrieval", "clapnq_answers"}
    for gate in GATES.values():
        for bound in gate.values():
            assert bound.kind in ("min", "max") and bound.run, bound
            assert bound.how in ("target", "measured"), bound
            if bound.how == "measured":
                assert bound.measured is not None and bound.margin is not None, bound
                assert bound.margin >= 0, bound
                sign = -1 if bound.kind == "min" else 1
                assert bound.value == pytest.approx(bound.measured + sign * bound.margin), bound
    assert not GATES["seed"]["refusal_rate"].holds(0.35)
    assert GATES["seed"]["refusal_rate"].holds(0.45)
    assert not GATES["seed"]["false_refusal_rate"].holds(0.2)
    assert not GATES["seed"]["cut_spans"].holds(1)
    assert not GATES["held_out"]["title_answers"].holds(1)
    assert not GATES["seed"]["refusal_rate"].holds(None)  # a missing figure fails


def test_a_span_that_starts_or_ends_inside_a_word_is_a_cut() -> None:
    text = "The machinery runs. Then it stops."
    assert not metrics.cuts_a_word(text, 0, 19)  # "The machinery runs."
    assert not metrics.cuts_a_word(text, 20, len(text))
    assert not metrics.cuts_a_word(text, 4, 13)  # "machinery": words on both edges end there
    assert metrics.cuts_a_word(text, 7, 19)  # "hinery runs."
    assert metrics.cuts_a_word(text, 0, 11)  # "The machine"
    assert metrics.cuts_a_word(text, 1, 3)  # both edges inside "The"
    assert not metrics.cuts_a_word(text, 0, 0)
    assert not metrics.cuts_a_word("x", 0, 1)


def test_answers_kept_under_other_answer_settings_or_scoring_code_are_not_resumed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Review: the resume key left out the settings read from the environment that shape an
    answer (RAG_LLM_MAX_TOKENS, RAG_MAX_QUESTION_CHARS) and the scoring code in evals/: a run
    stopped by a cut reply, resumed with RAG_LLM_MAX_TOKENS raised (or after a metric was
    fixed), mixed the old answers and scores into the new measurement."""
    from types import SimpleNamespace

    monkeypatch.setattr(rag, "documents", lambda settings: SimpleNamespace(documents=[]))
    questions = [runner.Question(id="q1", question="Who?", answerable=False)]
    base = rag.Settings(llm="openai", model="m")
    key = runner.run_key(questions, base)
    assert runner.run_key(questions, base) == key
    assert runner.run_key(questions, base.with_(llm_max_tokens=800)) != key
    assert runner.run_key(questions, base.with_(max_question_chars=50)) != key

    evals_dir = tmp_path / "evals"
    evals_dir.mkdir()
    (evals_dir / "metrics.py").write_text("F1 = 1\n")
    monkeypatch.setattr(runner, "__file__", str(evals_dir / "runner.py"))
    before = runner.code_version()
    (evals_dir / "metrics.py").write_text("F1 = 2\n")
    assert runner.code_version() != before
