"""Does a change to how the reader reads move answers? Checked on the validation corpora only.

    python -m bench.reader_validation run --label NAME [--corpora squad2,clapnq,selqa,cmake]
    python -m bench.reader_validation compare NAME_A NAME_B

The corpora are train/loco.py's (SQuAD 2.0's and ClapNQ's held-out passages, SelQA's held-out
questions, CMake's reference; each with its unanswerable, off-topic and bank questions): never
an eval set. Each corpus is indexed once under bench/cache/validation/ and every question asked
through ``rag.answer`` with the shipped threshold. ``run`` writes one row per question to
bench/cache/validation/NAME.jsonl: refused or not, the confidence, the answer's first citation
(correct: is it one of the answer sentences of the right document, train/loco.py's rule), and
the reader's logit for every candidate sentence (retrieval order), so that reading fewer of them
can be judged from the same rows. ``compare`` prints, per corpus, the answers that changed and
the figures of both runs.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.corpus import CACHE

WORK = CACHE / "validation"
CORPORA = ("squad2", "clapnq", "selqa", "cmake")


def run(label: str, names: Sequence[str]) -> Path:
    import rag
    import rag.answering as answering
    from rag.config import Settings
    from train.loco import corpora, correct

    out = WORK / f"{label}.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    seen: list[list[float]] = []
    real_judge = answering.judge

    def judge(question: str, passages: list[Any], *args: Any, **kwargs: Any) -> Any:
        judged = real_judge(question, passages, *args, **kwargs)
        rank = {p.chunk.id: i for i, p in enumerate(passages)}
        order = sorted(judged, key=lambda j: (rank[j.passage.chunk.id], j.start))
        seen.append([round(j.logit, 4) for j in order])
        return judged

    answering.judge = judge  # type: ignore[assignment]
    built = corpora(tuple(names))
    with out.open("w", encoding="utf-8") as handle:
        for name in names:
            docs, questions = built[name]
            folder = WORK / name
            (folder / "docs").mkdir(parents=True, exist_ok=True)
            for file, text in docs.items():
                path = folder / "docs" / file
                if not path.exists() or path.read_text(encoding="utf-8") != text:
                    path.write_text(text, encoding="utf-8")
            settings = Settings.from_env(
                docs_dir=folder / "docs", store_dir=folder / "store", llm="extractive"
            )
            rag.ingest(settings=settings)
            began = time.monotonic()
            for question in questions:
                seen.clear()
                t = time.perf_counter()
                result = rag.answer(question.text, settings=settings)
                seconds = time.perf_counter() - t
                shown = result.citations or result.closest
                first = shown[0] if shown else None
                row = {
                    "corpus": name,
                    "kind": question.kind,
                    "question": question.text,
                    "refused": result.refused,
                    "confidence": result.confidence,
                    "answer": result.text,
                    "first": first.text if first else "",
                    "correct": bool(
                        first and correct(question, Path(first.source).name, first.text)
                    ),
                    "logits": seen[-1] if seen else [],
                    "seconds": round(seconds, 4),
                }
                handle.write(json.dumps(row) + "\n")
            print(
                f"{label} {name}: {len(questions)} questions in {time.monotonic() - began:.0f} s",
                file=sys.stderr,
                flush=True,
            )
    return out


def load(label: str) -> list[dict[str, Any]]:
    path = WORK / f"{label}.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def figures(rows: list[dict[str, Any]]) -> dict[str, float]:
    """Answerable: answered with a right first citation, falsely refused; unanswerable (its own,
    off-topic and bank questions): refused; balanced accuracy of the refusal decision."""
    answerable = [r for r in rows if r["kind"] == "answerable"]
    others = [r for r in rows if r["kind"] != "answerable"]
    right = sum(1 for r in answerable if r["correct"] and not r["refused"])
    false_refused = sum(1 for r in answerable if r["refused"])
    refused = sum(1 for r in others if r["refused"])
    out = {
        "questions": len(rows),
        "answered right": right / max(len(answerable), 1),
        "false refusals": false_refused / max(len(answerable), 1),
        "unanswerable refused": refused / max(len(others), 1),
        "median s": statistics.median(r["seconds"] for r in rows) if rows else 0.0,
    }
    out["balanced"] = (1 - out["false refusals"] + out["unanswerable refused"]) / 2
    return out


def compare(a: str, b: str) -> str:
    rows_a, rows_b = load(a), load(b)
    lines = [
        f"{'corpus':8} {'run':22} {'n':>5} {'right':>6} {'false ref':>9} {'unans ref':>9} "
        f"{'balanced':>8} {'changed: refusal / answer':>26}"
    ]
    for name in sorted({r["corpus"] for r in rows_a} | {"all"}, key=lambda n: n == "all"):
        ra = [r for r in rows_a if name in ("all", r["corpus"])]
        rb = [r for r in rows_b if name in ("all", r["corpus"])]
        pairs = list(zip(ra, rb, strict=False))
        refusal = sum(1 for x, y in pairs if x["refused"] != y["refused"])
        text = sum(
            1 for x, y in pairs if not (x["refused"] or y["refused"]) and x["answer"] != y["answer"]
        )
        for label, rows in ((a, ra), (b, rb)):
            f = figures(rows)
            changed = f"{refusal} / {text}" if label == b else ""
            lines.append(
                f"{name:8} {label:22} {f['questions']:5} {f['answered right']:6.3f} "
                f"{f['false refusals']:9.3f} {f['unanswerable refused']:9.3f} "
                f"{f['balanced']:8.3f} {changed:>26}"
            )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.reader_validation")
    sub = parser.add_subparsers(dest="command", required=True)
    one = sub.add_parser("run")
    one.add_argument("--label", required=True)
    one.add_argument("--corpora", default=",".join(CORPORA))
    two = sub.add_parser("compare")
    two.add_argument("a")
    two.add_argument("b")
    args = parser.parse_args(argv)
    from rag.config import apply_offline_env

    apply_offline_env()
    if args.command == "run":
        print(run(args.label, args.corpora.split(",")))
    else:
        print(compare(args.a, args.b))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
