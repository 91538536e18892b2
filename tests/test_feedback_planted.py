"""Verdicts kept as evaluation questions: what a right refusal says, the document ids of
passages in sub-folders (as ``rag eval`` reads them), and a verdict on the disk before the page
says it is saved.

Tests written for deliberate bugs a review planted in ui/feedback.py that the suite let through."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from evals.runner import load_questions
from tests.conftest import system_calls
from ui import feedback
from ui.handlers import Turn

QUESTION = "When does the relief valve open?"


def passage(key: str, source: str, text: str) -> dict[str, object]:
    return {"key": key, "index": 1, "source": source, "page": None, "text": text}


def test_a_refusal_marked_right_is_an_unanswerable_question(tmp_path: Path) -> None:
    """The user agrees the documents do not answer it: the eval question must expect a
    refusal, with no evidence (the closest passages shown were not an answer)."""
    nearest = passage("n1", "pumps/notes.txt", "The pressure is logged every hour.")
    turn = Turn(QUESTION, "No passage answers it.", True, closest=(nearest,))
    record = feedback.question_record(turn, "right")
    assert (record["answerable"], record["evidence"], record["sources"]) == (False, [], [])
    target = tmp_path / "feedback.jsonl"
    feedback.append(target, record)
    (question,) = load_questions(target)
    assert question.answerable is False


def test_the_sources_of_a_verdict_keep_the_sub_folder(tmp_path: Path) -> None:
    """The eval schema's document id is the relative path without its suffix: two documents of
    one name in different folders are different documents."""
    cited = (
        passage("c1", "pumps/a/manual.md", "The relief valve opens at 4 bar."),
        passage("c2", "pumps/b/manual.md", "Valves are tested every spring."),
    )
    turn = Turn(QUESTION, "At 4 bar [1][2].", False, citations=cited)
    record = feedback.question_record(turn, "right")
    assert record["sources"] == ["pumps/a/manual", "pumps/b/manual"]
    wrong = feedback.question_record(turn, "wrong", "c2")
    assert (wrong["answerable"], wrong["sources"]) == (True, ["pumps/b/manual"])
    target = tmp_path / "feedback.jsonl"
    feedback.append(target, record)
    (question,) = load_questions(target)
    assert sorted(question.sources) == ["pumps/a/manual", "pumps/b/manual"]


@pytest.mark.skipif(shutil.which("strace") is None, reason="needs strace to see the fsyncs")
def test_a_verdict_is_on_the_disk_before_it_is_reported_saved(tmp_path: Path) -> None:
    """The page says "Saved" once ``append`` returns: the line must be fsynced by then, or a
    power cut loses the verdict the user was told was kept. The system calls of a real
    ``append``, seen by strace: the line is written to the file, then the file is fsynced."""
    target = tmp_path / "evals" / "feedback.jsonl"
    trace = tmp_path / "trace.log"
    code = (
        "import sys; from pathlib import Path; from ui.feedback import append; "
        "append(Path(sys.argv[1]), {'id': 'feedback-1', 'question': 'q', 'feedback': 'right'})"
    )
    calls = system_calls(code, [str(target)], "openat,write,fsync", trace)
    handle = ""  # the descriptor open on the feedback file, as it goes
    written = synced = -1
    for i, call in enumerate(calls):
        if found := re.search(r'openat\(.*?"([^"]+)".*= (\d+)$', call):
            handle = found[2] if found[1] == str(target) else handle
        elif handle and re.search(rf"write\({handle}, .*feedback-1", call):
            written = i
        elif handle and re.search(rf"fsync\({handle}\)", call) and written >= 0:
            synced = i
    assert 0 <= written < synced, calls
    assert json.loads(target.read_text(encoding="utf-8"))["id"] == "feedback-1"
