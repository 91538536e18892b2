"""The names checks (rag/entities.py) on the validation corpora (never an eval set).

A citation is read with its sentence and its document's context ("sentence", the rule of issue
20), or with the whole section its chunk holds as well ("section", what ships); and, on top,
questions naming what the index holds in no form are refused ("section + unknown names"). Each
corpus of train/constants.py is indexed, its questions asked once through retrieval and the reader
(the shipped threshold); the readings judge the same answers. Printed per corpus: answerable
questions refused by the check and answered right, unanswerable and off-topic ones refused.

    .venv/bin/python -m bench.names_check            # about 10 minutes on 2 quiet cores
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

WORK = Path("bench/out/names-check")


def sentence_context(citation: Any, chunk: Any, wide: bool = False) -> str:
    from rag import entities

    if chunk is None:
        return str(citation.text)
    return "\n".join([citation.text, entities._context(chunk)])


@contextmanager
def reading(kind: str) -> Iterator[None]:
    from rag import entities

    saved = entities.citation_context
    if kind == "sentence":
        entities.citation_context = sentence_context
    try:
        yield
    finally:
        entities.citation_context = saved


def run(names: tuple[str, ...]) -> dict[str, Any]:
    import rag
    from rag.api import answer_from_passages, retrieve_for_answer
    from rag.config import Settings
    from rag.entities import check, refuse
    from train import loco
    from train.constants import answered_right, picked

    out: dict[str, Any] = {}
    for name, (docs, questions) in loco.corpora(names).items():
        folder = WORK / name
        docs_dir = loco.write_docs(folder / "docs", docs)
        settings = Settings(docs_dir=docs_dir, store_dir=folder / "store")
        rag.ingest(settings=settings)
        counts: dict[str, dict[str, int]] = {}
        for question in picked(questions):
            retrieved = retrieve_for_answer(question.text, (), None, settings)
            result = answer_from_passages(retrieved.query, retrieved.read, settings)
            result = replace(result, question=retrieved.question)
            kind = "answerable" if question.answerable else "not"
            row = counts.setdefault(kind, {"asked": 0, "named": 0})
            row["asked"] += 1
            row["named"] += bool(retrieved.names)
            row["unknown names"] = row.get("unknown names", 0) + bool(retrieved.unknown)
            for reading_kind in ("sentence", "section", "section + unknown names"):
                with reading(reading_kind):
                    judged = check(result, retrieved.names, retrieved.read)
                if reading_kind.endswith("unknown names") and retrieved.unknown:
                    judged = refuse(judged)
                row[f"refused {reading_kind}"] = row.get(f"refused {reading_kind}", 0) + (
                    judged.refused
                )
                if question.answerable:
                    key = f"right {reading_kind}"
                    row[key] = row.get(key, 0) + answered_right(question, judged)
        out[name] = counts
        print(name, json.dumps(counts), flush=True)
    return out


def main(argv: list[str]) -> int:
    from rag.config import apply_offline_env

    apply_offline_env()
    names = tuple(argv) or ("clapnq", "squad2", "selqa", "cmake", "pallets")
    result = run(names)
    WORK.mkdir(parents=True, exist_ok=True)
    (WORK / "result.json").write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
