"""Choose the refusal threshold where it is used: on the validation split, through the whole path.

The validation passages (SQuAD 2.0's held-out articles, ClapNQ's held-out titles) become a folder
of documents (title line, then the passage), indexed like any folder; each validation question is
asked through ``rag.answer`` with the default retrieval, so the reader sees the retrieved passages'
sentences, as it will for a user, rather than one given passage. The confidence is the reader's
calibrated logit, plus the question's dense similarity with its best passage when that helps
under cross-validation; the threshold with the best balanced accuracy (averaged over the two
sources) and the calibration are written to rag/reader_model/reader.json.

    python -m train pipeline
"""

from __future__ import annotations

import json
import logging
import math
import random
import shutil
from dataclasses import asdict, dataclass
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
    """Ask the validation questions through retrieval and the reader; fit the confidence (reader
    logit, and the retrieval's dense similarity if it helps under cross-validation) and choose the
    refusal threshold; write both to rag/reader_model/reader.json."""
    from tqdm import tqdm

    import rag
    from rag.answering import judge, top_dense
    from rag.config import Settings
    from rag.reader import Reader

    questions = validation_corpus(work / "docs")
    settings = Settings(docs_dir=work / "docs", store_dir=work / "store", refusal_threshold=0.0)
    shutil.rmtree(work / "store", ignore_errors=True)
    rag.ingest(settings=settings)
    reader = Reader(MODEL_DIR)
    rows: list[Row] = []
    for group, source_file in tqdm(questions, desc="pipeline", unit="question", mininterval=5):
        passages = rag.retrieve(group.question, settings=settings)
        # The reader's own order (no retrieval prior): the calibration is its best sentence's.
        judged = sorted(judge(group.question, passages, reader), key=lambda j: -j.logit)
        best = judged[0] if judged else None
        correct = bool(
            best
            and best.passage.chunk.source == source_file
            and any(group.sentences[i].strip() in best.text for i in group.positives)
        )
        logit = best.logit if best else -10.0
        rows.append(Row(group.source, group.answerable, logit, top_dense(passages), correct))
    with (work / "pipeline-rows.jsonl").open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(asdict(row)) + "\n")
    return refit(work)


def refit(work: Path = OUT / "pipeline") -> dict[str, Any]:
    """Fit the confidence and threshold from the rows a run saved, and write them to the card."""
    rows = [
        Row(**json.loads(line))
        for line in (work / "pipeline-rows.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    raw = json.loads((MODEL_DIR / "reader.json").read_text())
    passage = raw.get("passage_calibration", raw["calibration"])  # the export's, on passages
    summary = fit_confidence(rows, float(passage["scale"]), float(passage["bias"]))
    (work / "pipeline.json").write_text(json.dumps(summary, indent=2) + "\n")
    card_path = MODEL_DIR / "reader.json"
    card = json.loads(card_path.read_text())
    card["passage_calibration"] = card.get("passage_calibration", card["calibration"])
    card["passage_threshold"] = card.get("passage_threshold", card["threshold"])
    card["calibration"] = summary["calibration"]
    card["threshold"] = summary["threshold"]
    card["pipeline_validation"] = summary
    card_path.write_text(json.dumps(card, indent=2) + "\n")
    card_md = MODEL_DIR / "CARD.md"
    text = card_md.read_text().split(PIPELINE_HEADING)[0].rstrip() + "\n\n"
    card_md.write_text(text + pipeline_section(summary))
    log.info("pipeline validation: %s", json.dumps(summary))
    return summary


@dataclass(frozen=True)
class Row:
    source: str
    answerable: bool
    logit: float
    dense: float
    correct: bool


def _weights(rows: list[Row]) -> np.ndarray:
    """Each source weighs the same in total."""
    counts = {src: sum(r.source == src for r in rows) for src in SOURCES}
    return np.array([len(rows) / (len(SOURCES) * counts[r.source]) for r in rows])


def _fit(rows: list[Row], features: tuple[str, ...]) -> Any:
    from sklearn.linear_model import LogisticRegression

    x = np.array([[getattr(r, f) for f in features] for r in rows])
    y = np.array([int(r.answerable) for r in rows])
    return LogisticRegression(C=1.0).fit(x, y, sample_weight=_weights(rows))


def _auroc(rows: list[Row], scores: list[float]) -> dict[str, float]:
    from sklearn.metrics import roc_auc_score

    return {
        src: round(
            float(
                roc_auc_score(
                    [r.answerable for r in rows if r.source == src],
                    [s for r, s in zip(rows, scores, strict=True) if r.source == src],
                )
            ),
            4,
        )
        for src in SOURCES
    }


def _cross_validated(rows: list[Row], features: tuple[str, ...]) -> list[float]:
    """Each question's score from a model fitted on the other folds (5 folds, seeded)."""
    order = list(range(len(rows)))
    random.Random(5).shuffle(order)
    scores = [0.0] * len(rows)
    for fold in range(5):
        held = set(order[fold::5])
        model = _fit([r for i, r in enumerate(rows) if i not in held], features)
        for i in held:
            x = np.array([[getattr(rows[i], f) for f in features]])
            scores[i] = float(model.predict_proba(x)[0, 1])
    return scores


# The refusal threshold's operating point: refuse as much as possible while at most this share of
# answerable validation questions is refused (averaged over the sources). Refusing a question the
# documents answer is the costlier mistake for a user; balanced accuracy on SQuAD 2.0's
# adversarial unanswerable questions pushes the threshold far higher than other corpora bear.
MAX_FALSE_REFUSALS = 0.10


def _best_threshold(rows: list[Row], scores: list[float]) -> tuple[float, float]:
    """(threshold, balanced accuracy averaged over the sources present): the highest threshold
    that refuses at most MAX_FALSE_REFUSALS of the answerable questions."""
    sources = sorted({r.source for r in rows})
    best = (0.05, 0.0)
    for threshold in np.arange(0.05, 0.951, 0.01):
        refused = [_refused(rows, scores, src, float(threshold), True) for src in sources]
        if float(np.mean(refused)) > MAX_FALSE_REFUSALS:
            break
        accuracy = float(
            np.mean([_balanced(rows, scores, src, float(threshold)) for src in sources])
        )
        best = (round(float(threshold), 2), accuracy)
    return best


def _refused(
    rows: list[Row], scores: list[float], source: str, threshold: float, answerable: bool
) -> float:
    """Share of ``source``'s answerable (or unanswerable) questions scored below ``threshold``."""
    return float(
        np.mean(
            [
                p < threshold
                for r, p in zip(rows, scores, strict=True)
                if r.source == source and r.answerable == answerable
            ]
        )
    )


def _balanced(rows: list[Row], scores: list[float], source: str, threshold: float) -> float:
    answered = 1 - _refused(rows, scores, source, threshold, answerable=True)
    return (answered + _refused(rows, scores, source, threshold, answerable=False)) / 2


def _transfer(rows: list[Row], features: tuple[str, ...], scale: float, bias: float) -> float:
    """Balanced accuracy on each source with the confidence and threshold fitted on the other
    source alone, averaged: how well a choice carries over to a corpus it was not fitted on."""
    out = []
    for held in SOURCES:
        train = [r for r in rows if r.source != held]
        test = [r for r in rows if r.source == held]
        if features:
            model = _fit(train, features)

            def score(r: Row, model: Any = model) -> float:
                x = np.array([[getattr(r, f) for f in features]])
                return float(model.predict_proba(x)[0, 1])
        else:

            def score(r: Row, model: Any = None) -> float:
                return 1 / (1 + math.exp(-(scale * r.logit + bias)))

        threshold, _ = _best_threshold(train, [score(r) for r in train])
        out.append(_balanced(test, [score(r) for r in test], held, threshold))
    return round(float(np.mean(out)), 4)


def fit_confidence(rows: list[Row], scale: float, bias: float) -> dict[str, Any]:
    """The reader's calibrated logit alone, or with the retrieval's dense similarity: the one
    that carries over better from one validation source to the other (fitted on one, judged on
    the other) is fitted on both, and its threshold chosen there. Documents differ from corpus to
    corpus (a dense cosine that means "on topic" in Wikipedia paragraphs may not in news
    chunks): a signal must prove it transfers, not only that it helps where it was fitted."""
    reader_only = [1 / (1 + math.exp(-(scale * r.logit + bias))) for r in rows]
    summary: dict[str, Any] = {
        "questions": {src: sum(r.source == src for r in rows) for src in SOURCES},
        "answer_accuracy": {
            src: round(
                float(np.mean([r.correct for r in rows if r.source == src and r.answerable])), 4
            )
            for src in SOURCES
        },
        "no_answer_auroc_reader": _auroc(rows, reader_only),
        "no_answer_auroc_reader_dense_cv": _auroc(rows, _cross_validated(rows, ("logit", "dense"))),
        "transfer_balanced_accuracy": {
            "reader": _transfer(rows, (), scale, bias),
            "reader_dense": _transfer(rows, ("logit", "dense"), scale, bias),
        },
    }
    transfer = summary["transfer_balanced_accuracy"]
    if transfer["reader_dense"] > transfer["reader"]:
        model = _fit(rows, ("logit", "dense"))
        calibration = {
            "scale": round(float(model.coef_[0][0]), 4),
            "dense": round(float(model.coef_[0][1]), 4),
            "bias": round(float(model.intercept_[0]), 4),
        }
    else:
        calibration = {"scale": scale, "bias": bias}
    summary["calibration"] = calibration

    def probability(r: Row) -> float:
        z = calibration["scale"] * r.logit + calibration.get("dense", 0.0) * r.dense
        return 1 / (1 + math.exp(-(z + calibration["bias"])))

    scores = [probability(r) for r in rows]
    threshold, balanced = _best_threshold(rows, scores)
    summary["threshold"] = threshold
    summary["balanced_accuracy"] = round(balanced, 4)
    summary["false_refusals"] = {
        src: round(_refused(rows, scores, src, threshold, answerable=True), 4) for src in SOURCES
    }
    summary["refusals_of_unanswerable"] = {
        src: round(_refused(rows, scores, src, threshold, answerable=False), 4) for src in SOURCES
    }
    return summary


PIPELINE_HEADING = "## Confidence in the answer path"


def pipeline_section(summary: dict[str, Any]) -> str:
    """The model card's section on what ships in reader.json (from ``fit_confidence``)."""
    cal = summary["calibration"]
    formula = f"sigmoid({cal['scale']} * logit"
    formula += f" + {cal['dense']} * dense" if "dense" in cal else ""
    formula += f" + {cal['bias']})"
    q, acc = summary["questions"], summary["answer_accuracy"]
    auroc, cv = summary["no_answer_auroc_reader"], summary["no_answer_auroc_reader_dense_cv"]
    transfer = summary["transfer_balanced_accuracy"]
    return f"""{PIPELINE_HEADING}

Measured through retrieval and the reader, as a user's question goes (`python -m train
pipeline`): the validation passages of SQuAD 2.0 ({q["squad2"]} questions) and ClapNQ
({q["clapnq"]}) indexed as documents, each question asked with the default settings.

- Best sentence right (answerable questions): SQuAD 2.0 {acc["squad2"]}, ClapNQ {acc["clapnq"]}.
- No-answer AUROC, reader alone: SQuAD 2.0 {auroc["squad2"]}, ClapNQ {auroc["clapnq"]}; reader
  plus the question's dense similarity with its best passage (5-fold cross-validated): SQuAD 2.0
  {cv["squad2"]}, ClapNQ {cv["clapnq"]}.
- Carried over to the other source (fitted on one, threshold and all, judged on the other),
  balanced accuracy: reader alone {transfer["reader"]}, with dense {transfer["reader_dense"]}.
  The better one is kept.
- Fitted here (replaced in reader.json by the leave-one-corpus-out fit above, which
  `python -m train pipeline` runs next): {formula}, where `dense` is the question's cosine with
  its best retrieved passage; refusal threshold {summary["threshold"]}: the highest that refuses
  at most {MAX_FALSE_REFUSALS:.0%} of the answerable questions (an operating point: a product
  choice, fitted here on validation; false refusals
  {summary["false_refusals"]}, refusals of unanswerable questions
  {summary["refusals_of_unanswerable"]}, balanced accuracy {summary["balanced_accuracy"]}).
"""
