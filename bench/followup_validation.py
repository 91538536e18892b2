"""Follow-ups over documentation (issue 17, item 7), measured on validation data of our own.

    python -m bench.followup_validation run --label NAME
    python -m bench.followup_validation compare NAME_A NAME_B

The questions (bench/followups/, see its README: how they were written, the criterion) are
follow-ups over CMake's reference (/work/shared/corpora/cmake-help) and Click + Flask's docs
(train/data/docs), never an eval set. Each corpus folder is indexed as it is (rst) under
bench/cache/followups/, and each follow-up asked twice through ``rag.answer``:

- ``empty``: history ``[(earlier question, "")]``, as ``rag eval`` passes it (no reply held);
- ``replies``: the earlier question answered first and its answer's text passed as the reply,
  as the page and the terminal chat pass it.

``run`` writes one row per question and mode to bench/cache/followups/NAME.jsonl and prints the
figures; ``compare`` prints two runs' figures and the answers that changed. To measure other code
(the code before a change), run this file from a checkout of it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from bench.corpus import CACHE

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = ROOT / "bench" / "followups"
CORPORA = {
    "cmake": Path("/work/shared/corpora/cmake-help"),
    "pallets": ROOT / "train" / "data" / "docs",
}
WORK = CACHE / "followups"
MODES = ("empty", "replies")


def load(corpus: str) -> list[dict[str, Any]]:
    path = QUESTIONS / f"{corpus}.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def ask(row: dict[str, Any], mode: str, settings: Any) -> dict[str, Any]:
    import rag
    from evals.metrics import key_fact_hit
    from evals.runner import source_id
    from rag.api import standalone_question

    previous = row["history"][-1]
    reply = ""
    if mode == "replies":
        reply = rag.answer(previous, settings=settings).text
    history = [(previous, reply)]
    began = time.perf_counter()
    result = rag.answer(row["question"], history=history, settings=settings)
    seconds = time.perf_counter() - began
    cited = {source_id(c.source) for c in result.citations}
    return {
        "id": row["id"],
        "corpus": row["corpus"],
        "mode": mode,
        "referent": row["referent"],
        "answerable": row["answerable"],
        "refused": result.refused,
        "key_fact": bool(
            row["answerable"] and not result.refused and key_fact_hit(result.text, row["answers"])
        ),
        "gold_cited": bool(
            row["answerable"] and not result.refused and cited & set(row["sources"])
        ),
        "answer": result.text,
        "reply": reply,
        "query": standalone_question(row["question"], history, settings),
        "seconds": round(seconds, 4),
    }


def run(label: str) -> Path:
    import rag
    from rag.config import Settings

    out = WORK / f"{label}.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as handle:
        for corpus, docs in CORPORA.items():
            settings = Settings.from_env(
                docs_dir=docs, store_dir=WORK / corpus / "store", llm="extractive"
            )
            rag.ingest(settings=settings)
            rag.answer("warm up", settings=settings)
            for row in load(corpus):
                for mode in MODES:
                    handle.write(json.dumps(ask(row, mode, settings)) + "\n")
    return out


def read(label: str) -> list[dict[str, Any]]:
    path = WORK / f"{label}.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def figures(rows: list[dict[str, Any]]) -> dict[str, str]:
    """Key fact (answer / question referent), gold cited, false refusals, unanswerable refused."""
    yes = [r for r in rows if r["answerable"]]
    no = [r for r in rows if not r["answerable"]]

    def count(kept: list[dict[str, Any]], key: str) -> str:
        return f"{sum(r[key] for r in kept)}/{len(kept)}"

    return {
        "key fact": count(yes, "key_fact"),
        "key fact (answer referent)": count(
            [r for r in yes if r["referent"] == "answer"], "key_fact"
        ),
        "key fact (question referent)": count(
            [r for r in yes if r["referent"] == "question"], "key_fact"
        ),
        "gold cited": count(yes, "gold_cited"),
        "false refusals": count(yes, "refused"),
        "unanswerable refused": count(no, "refused"),
    }


def table(labels: list[str]) -> str:
    lines = ["| run | mode | " + " | ".join(figures([]).keys()) + " |"]
    lines.append("|---|---|" + "---:|" * len(figures([])))
    for label in labels:
        rows = read(label)
        for mode in (*MODES, "both"):
            kept = rows if mode == "both" else [r for r in rows if r["mode"] == mode]
            lines.append(f"| {label} | {mode} | " + " | ".join(figures(kept).values()) + " |")
    return "\n".join(lines)


def compare(a: str, b: str) -> str:
    """The table, then each answer that changed between the runs."""
    before = {(r["id"], r["mode"]): r for r in read(a)}
    lines = [table([a, b]), ""]
    for row in read(b):
        old = before.get((row["id"], row["mode"]))
        if old and (old["key_fact"], old["refused"]) != (row["key_fact"], row["refused"]):
            lines.append(
                f"{row['id']} {row['mode']}: key fact {old['key_fact']} -> {row['key_fact']}, "
                f"refused {old['refused']} -> {row['refused']}"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.followup_validation")
    sub = parser.add_subparsers(dest="command", required=True)
    run_parser = sub.add_parser("run")
    run_parser.add_argument("--label", required=True)
    compare_parser = sub.add_parser("compare")
    compare_parser.add_argument("labels", nargs=2)
    args = parser.parse_args(argv)
    if args.command == "run":
        began = time.monotonic()
        run(args.label)
        print(table([args.label]))
        print(f"{time.monotonic() - began:.0f} s", file=sys.stderr)
    else:
        print(compare(*args.labels))
    return 0


if __name__ == "__main__":
    sys.exit(main())
