"""The page's example questions are never eval questions (issue 19): the page builds them from the
user's documents, and over the eval sets' own folders they must still not be a question of any
eval set (an example that is one would be an answer the page was tuned to give)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from rag import IndexedDocument, Settings
from ui.library import Library

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "evals" / "benchmarks"
EVAL_SETS = {
    "seed": (ROOT / "evals" / "questions.jsonl", ROOT / "seeds"),
    "clapnq": (BENCH / "clapnq" / "questions.jsonl", BENCH / "clapnq" / "docs"),
    # The same 20 pages as nodejs-md; reading their HTML takes 30 s on a busy machine (10 s the
    # Markdown), so the folders below check the Markdown's titles and headings only.
    "nodejs-html": (BENCH / "nodejs" / "questions.jsonl", BENCH / "nodejs" / "html"),
    "nodejs-md": (BENCH / "nodejs" / "questions.jsonl", BENCH / "nodejs" / "md"),
}


def folded(question: str) -> str:
    """Case, spacing and end punctuation do not make a question another one."""
    return re.sub(r"[\s?.!]+$", "", " ".join(question.lower().split()))


def eval_questions() -> set[str]:
    """Every question of every eval set, follow-ups' histories included."""
    out: set[str] = set()
    for path in {questions for questions, _ in EVAL_SETS.values()}:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                out.add(folded(row["question"]))
                out.update(folded(turn) for turn in row.get("history", []) if isinstance(turn, str))
    return out


class FolderLibrary(Library):
    """The page's Library over a folder as it would be indexed: the folder's files listed without
    embedding them (the outlines and examples are the real code's, read from the real files)."""

    def documents(self) -> list[IndexedDocument]:
        root = self.settings.docs_dir
        files = sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith("."))
        return [
            IndexedDocument(p.relative_to(root).as_posix(), 1, p.stat().st_size, "") for p in files
        ]


def test_eval_questions_are_read() -> None:
    # Guards the guard: an empty or misread set would make the checks below pass on anything.
    asked = eval_questions()
    assert len(asked) > 200
    assert "who is the president of serbia" in asked


@pytest.mark.parametrize("name", ["seed", "clapnq", "nodejs-md"])
def test_examples_over_an_eval_folder_are_no_eval_question(name: str, tmp_path: Path) -> None:
    _, folder = EVAL_SETS[name]
    library = FolderLibrary(Settings(docs_dir=folder, store_dir=tmp_path / "store"))
    count = len(library.documents())
    examples = library.examples(count)  # every example the page could show for this folder
    assert examples, "the page shows no example over this folder: nothing was checked"
    leaked = sorted(q for q in examples if folded(q) in eval_questions())
    assert leaked == [], f"example questions that are {name} eval questions: {leaked}"


def test_ui_source_holds_no_eval_question() -> None:
    """No eval question is written into the page's code (as a placeholder or a fixed example)."""
    asked = eval_questions()
    for path in sorted((ROOT / "ui").rglob("*")):
        if path.suffix not in (".py", ".js", ".css", ".html", ".md", ".json") or not path.is_file():
            continue
        text = " ".join(path.read_text(encoding="utf-8").lower().split())
        found = sorted(q for q in asked if len(q) > 12 and q in text)
        assert found == [], f"{path.relative_to(ROOT)} holds eval questions: {found}"
