"""The answer gates' floors (evals/gates.json) and the held-out slice they judge.

evals/README.md ("Gate") says how a floor is set and changed. Each bound is either a target
(``"how": "target"``) or a measured value minus a stated noise margin (``"how": "measured"``,
with ``measured`` and ``margin``; a ceiling adds the margin), with the run that set it.
"""

from __future__ import annotations

import json
import random
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
GATES = ROOT / "evals" / "gates.json"


@dataclass(frozen=True)
class Bound:
    """One gate on one metric: ``value`` is a floor (``min``) or a ceiling (``max``)."""

    gate: str
    metric: str
    kind: str  # "min" or "max"
    value: float
    how: str  # "target" or "measured"
    run: str
    measured: float | None = None
    margin: float | None = None

    def holds(self, figure: float | None) -> bool:
        if figure is None:
            return False
        return figure >= self.value if self.kind == "min" else figure <= self.value


def load_gates(path: Path = GATES) -> dict[str, dict[str, Bound]]:
    """Gate name -> metric -> bound (a metric key ``"hybrid.hit_at_1"`` names a mode's)."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    gates: dict[str, dict[str, Bound]] = {}
    for gate, metrics in raw["gates"].items():
        gates[gate] = {}
        for metric, entry in metrics.items():
            kind = "min" if "min" in entry else "max"
            gates[gate][metric] = Bound(
                gate=gate,
                metric=metric,
                kind=kind,
                value=float(entry[kind]),
                how=str(entry["how"]),
                run=str(entry["run"]),
                measured=entry.get("measured"),
                margin=entry.get("margin"),
            )
    return gates


def figure(summary: dict[str, Any], metric: str) -> float | None:
    """``summary[metric]``, or ``summary[mode][metric]`` for ``"mode.metric"``."""
    value: Any = summary
    for part in metric.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return None if value is None else float(value)


# ---------------------------------------------------------------- the held-out slice

# The reader's validation split (train/data.py ``held_out``) holds 3241 SQuAD 2.0 questions.
# ``python -m train pipeline`` chose the refusal threshold and the calibration on the first 600
# of them in its seeded shuffle (train/pipeline.py ``validation_corpus``), plus ClapNQ's held-out
# ones; no constant was chosen on the rest. The gate asks the next ``HELD_OUT_QUESTIONS``.
PIPELINE_SQUAD = 600
HELD_OUT_QUESTIONS = 80


@dataclass(frozen=True)
class HeldOutQuestion:
    question: str
    source_file: str
    answer_sentences: tuple[str, ...]  # empty: unanswerable

    @property
    def answerable(self) -> bool:
        return bool(self.answer_sentences)


def held_out_slice(folder: Path, count: int = HELD_OUT_QUESTIONS) -> list[HeldOutQuestion]:
    """Write the slice's passages as documents (title line, then the passage, as the pipeline
    does) into ``folder``; the questions with their passage's file and answer sentences."""
    from train.data import all_groups, held_out

    squad = [g for g in all_groups() if g.source == "squad2" and held_out(g.source, g.key)]
    random.Random(11).shuffle(squad)  # the pipeline's shuffle: its 600 come first
    chosen = squad[PIPELINE_SQUAD : PIPELINE_SQUAD + count]
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    files: dict[tuple[str, str], str] = {}
    out = []
    for group in chosen:
        passage = " ".join(group.sentences)
        key = (group.title, passage)
        if key not in files:
            files[key] = f"squad2-{len(files):04d}.txt"
            (folder / files[key]).write_text(f"{group.title}\n\n{passage}\n", encoding="utf-8")
        answers = tuple(group.sentences[i].strip() for i in sorted(group.positives))
        out.append(HeldOutQuestion(group.question, files[key], answers))
    return out


def _covers(citation: Any, question: HeldOutQuestion) -> bool:
    """The citation is from the question's passage and is (or holds) one of its answer
    sentences (the training split and the chunker may cut a sentence differently)."""
    return citation.source == question.source_file and any(
        s in citation.text or citation.text in s for s in question.answer_sentences
    )


def held_out_summary(questions: list[HeldOutQuestion], settings: Any) -> dict[str, Any]:
    """Ask each question through ``rag.answer``. An answer is correct when a citation from the
    question's passage covers one of its answer sentences."""
    import rag

    correct = refused_answerable = refused_unanswerable = titles = 0
    answerable = sum(q.answerable for q in questions)
    for q in questions:
        result = rag.answer(q.question, settings=settings)
        text = rag.document_text(q.source_file, settings) if result.citations else ""
        first_line = text.strip().split("\n", 1)[0]
        titles += any(c.text.strip() == first_line for c in result.citations)
        if q.answerable:
            refused_answerable += result.refused
            correct += not result.refused and any(_covers(c, q) for c in result.citations)
        else:
            refused_unanswerable += result.refused
    unanswerable = len(questions) - answerable
    refusal = refused_unanswerable / unanswerable
    false_refusal = refused_answerable / answerable
    return {
        "questions": len(questions),
        "answerable": answerable,
        "answer_accuracy": round(correct / answerable, 4),
        "refusal_rate": round(refusal, 4),
        "false_refusal_rate": round(false_refusal, 4),
        "balanced_accuracy": round((refusal + 1.0 - false_refusal) / 2, 4),
        "title_answers": titles,
    }
