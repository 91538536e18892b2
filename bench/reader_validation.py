"""Does a change to how the reader reads move answers? Checked on the validation corpora only.

    python -m bench.reader_validation run --label NAME [--corpora squad2,clapnq,selqa,cmake]
    python -m bench.reader_validation compare NAME_A NAME_B
    python -m bench.reader_validation cuts NAME   # reading fewer candidates, simulated on a run

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
import math
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
    from train.loco import corpora, correct, write_docs

    out = WORK / f"{label}.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    seen: list[list[tuple[float, int, str, str, str]]] = []
    real_judge = answering.judge

    def judge(question: str, passages: list[Any], *args: Any, **kwargs: Any) -> Any:
        judged = real_judge(question, passages, *args, **kwargs)
        rank = {p.chunk.id: i for i, p in enumerate(passages)}
        order = sorted(judged, key=lambda j: (rank[j.passage.chunk.id], j.start))
        seen.append(
            [
                (
                    round(j.logit, 4),
                    rank[j.passage.chunk.id],
                    j.passage.chunk.source,
                    j.text,
                    answering.context_title(j.passage.chunk),
                )
                for j in order
            ]
        )
        return judged

    answering.judge = judge  # type: ignore[assignment]
    built = corpora(tuple(names))
    with out.open("w", encoding="utf-8") as handle:
        for name in names:
            docs, questions = built[name]
            folder = WORK / name
            settings = Settings.from_env(
                docs_dir=write_docs(folder / "docs", docs),
                store_dir=folder / "store",
                llm="extractive",
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
                    # Every candidate in retrieval order: logit, passage rank, right answer, the
                    # text and what the reader sees as its title (the section path).
                    "candidates": [
                        [
                            logit,
                            rank,
                            int(correct(question, Path(source).name, text)),
                            text[:400],
                            title,
                        ]
                        for logit, rank, source, text, title in (seen[-1] if seen else [])
                    ],
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


def simulate(row: dict[str, Any], keep: list[int]) -> tuple[bool, bool]:
    """(refused, answered right) had the reader read only the candidates ``keep``: exact for a
    reader whose logits do not depend on the company a pair is read in (rag/reader.py), since
    the confidence is sigmoid(scale * best logit + terms of the question alone)."""
    from rag.answering import ranked_score
    from rag.reader import load_card

    card = load_card()
    candidates = row["candidates"]
    if not candidates or not keep:
        return True, False
    full = max(c[0] for c in candidates)
    # The answer leads with the best under the retrieval prior; the refusal is the best logit's.
    best = max(keep, key=lambda i: (ranked_score(candidates[i][0], candidates[i][1]), -i))
    kept = max(candidates[i][0] for i in keep)
    confidence = min(max(row["confidence"], 1e-6), 1 - 1e-6)
    z = math.log(confidence / (1 - confidence)) + card.scale * (kept - full)
    refused = 1 / (1 + math.exp(-z)) < card.threshold
    # A refusal the reader's score did not make (rag/entities.py's names check) stays.
    refused = refused or (row["refused"] and row["confidence"] >= card.threshold)
    return refused, bool(candidates[best][2]) and not refused


def cuts(label: str) -> str:
    """Reading fewer candidates, simulated on a run's rows: the first N in retrieval order, or
    the N sharing the most question terms (the sentence's own; ties: retrieval order)."""
    from rag.text import terms

    rows = load(label)

    def first(n: int) -> Any:
        return lambda row, shared: list(range(min(n, len(shared))))

    def overlap(n: int) -> Any:
        return lambda row, shared: sorted(
            sorted(range(len(shared)), key=lambda i: (-shared[i], i))[:n]
        )

    policies = [("all", first(10**6))]
    policies += [(f"first {n}", first(n)) for n in (6, 8, 10, 12)]
    policies += [(f"overlap {n}", overlap(n)) for n in (6, 8, 10, 12)]
    shared_terms = []
    for row in rows:
        wanted = set(terms(row["question"]))
        shared_terms.append([len(wanted & set(terms(c[3]))) for c in row["candidates"]])
    names = [*sorted({r["corpus"] for r in rows}), "all"]
    lines = [
        f"{'policy':10} {'read':>5} {'refusals changed':>16} {'best changed':>12}  "
        + "  ".join(f"{n}: right / false ref / unans ref" for n in names)
    ]
    base: list[tuple[bool, bool]] = []
    for name, policy in policies:
        kept = [policy(row, shared) for row, shared in zip(rows, shared_terms, strict=True)]
        results = [simulate(row, keep) for row, keep in zip(rows, kept, strict=True)]
        if not base:
            base = results
        refusals = sum(1 for a, b in zip(base, results, strict=True) if a[0] != b[0])
        moved = sum(
            1
            for row, keep in zip(rows, kept, strict=True)
            if row["candidates"]
            and max(range(len(row["candidates"])), key=lambda i: (row["candidates"][i][0], -i))
            not in keep
        )
        cells = []
        for corpus in names:
            picked = [
                (r, x) for r, x in zip(rows, results, strict=True) if corpus in ("all", r["corpus"])
            ]
            answerable = [x for r, x in picked if r["kind"] == "answerable"]
            others = [x for r, x in picked if r["kind"] != "answerable"]
            cells.append(
                f"{sum(x[1] for x in answerable) / max(len(answerable), 1):.3f} / "
                f"{sum(x[0] for x in answerable) / max(len(answerable), 1):.3f} / "
                f"{sum(x[0] for x in others) / max(len(others), 1):.3f}"
            )
        read = statistics.mean(len(k) for k in kept)
        lines.append(f"{name:10} {read:5.2f} {refusals:16} {moved:12}  " + "  ".join(cells))
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
    three = sub.add_parser("cuts")
    three.add_argument("label")
    args = parser.parse_args(argv)
    from rag.config import apply_offline_env

    apply_offline_env()
    if args.command == "run":
        print(run(args.label, args.corpora.split(",")))
    elif args.command == "cuts":
        print(cuts(args.label))
    else:
        print(compare(args.a, args.b))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
