"""Choose the refusal threshold where it is used: on the validation split, through the whole path.

The validation passages (SQuAD 2.0's held-out articles, ClapNQ's held-out titles) become a folder
of documents (title line, then the passage), indexed like any folder; each validation question is
asked through ``rag.answer`` with the default retrieval, so the reader sees the retrieved passages'
sentences, as it will for a user, rather than one given passage. The threshold with the best
balanced accuracy (averaged over the two sources) is written to rag/reader_model/reader.json.

    python -m train pipeline
"""

from __future__ import annotations

import json
import logging
import random
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from rag.reader import MODEL_DIR
from train.data import OUT, Group, all_groups, held_out

log = logging.getLogger("train")
SOURCES = ("squad2", "clapnq")
SQUAD_QUESTIONS = 600


def validation_corpus(folder: Path) -> list[tuple[Group, str]]:
    """Write the held-out passages as documents; the questions with their passage's file name."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    files: dict[tuple[str, str], str] = {}
    asked: list[tuple[Group, str]] = []
    for group in all_groups():
        if group.source not in SOURCES or not held_out(group.source, group.key):
            continue
        passage = " ".join(group.sentences)
        key = (group.title, passage)
        if key not in files:
            files[key] = f"{group.source}-{len(files):04d}.txt"
            (folder / files[key]).write_text(f"{group.title}\n\n{passage}\n", encoding="utf-8")
        asked.append((group, files[key]))
    rng = random.Random(11)
    squad = [q for q in asked if q[0].source == "squad2"]
    rng.shuffle(squad)
    return [q for q in asked if q[0].source != "squad2"] + squad[:SQUAD_QUESTIONS]


def run(work: Path = OUT / "pipeline") -> dict[str, Any]:
    from sklearn.metrics import roc_auc_score
    from tqdm import tqdm

    import rag
    from rag.config import Settings

    questions = validation_corpus(work / "docs")
    settings = Settings(docs_dir=work / "docs", store_dir=work / "store", refusal_threshold=0.0)
    shutil.rmtree(work / "store", ignore_errors=True)
    rag.ingest(settings=settings)
    rows = []
    for group, source_file in tqdm(questions, desc="pipeline", unit="question", mininterval=5):
        result = rag.answer(group.question, settings=settings)
        cited = result.citations[0] if result.citations else None
        correct = bool(
            cited
            and cited.source == source_file
            and any(group.sentences[i].strip() in cited.text for i in group.positives)
        )
        rows.append((group.source, group.answerable, result.confidence, correct))
    summary: dict[str, Any] = {"questions": {}, "no_answer_auroc": {}, "answer_accuracy": {}}
    for source in SOURCES:
        mine = [r for r in rows if r[0] == source]
        summary["questions"][source] = len(mine)
        summary["no_answer_auroc"][source] = round(
            float(roc_auc_score([r[1] for r in mine], [r[2] for r in mine])), 4
        )
        answerable = [r for r in mine if r[1]]
        summary["answer_accuracy"][source] = round(float(np.mean([r[3] for r in answerable])), 4)
    best = (0.0, 0.5)
    for threshold in np.arange(0.05, 0.951, 0.01):
        accuracies = []
        for source in SOURCES:
            mine = [r for r in rows if r[0] == source]
            tpr = np.mean([r[2] >= threshold for r in mine if r[1]])
            tnr = np.mean([r[2] < threshold for r in mine if not r[1]])
            accuracies.append((tpr + tnr) / 2)
        if float(np.mean(accuracies)) > best[0] + 1e-9:
            best = (float(np.mean(accuracies)), round(float(threshold), 2))
    summary["threshold"] = best[1]
    summary["balanced_accuracy"] = round(best[0], 4)
    (work / "pipeline.json").write_text(json.dumps(summary, indent=2) + "\n")
    card_path = MODEL_DIR / "reader.json"
    card = json.loads(card_path.read_text())
    card["passage_threshold"] = card.get("passage_threshold", card["threshold"])
    card["threshold"] = best[1]
    card["pipeline_validation"] = summary
    card_path.write_text(json.dumps(card, indent=2) + "\n")
    log.info("pipeline validation: %s", json.dumps(summary))
    return summary
