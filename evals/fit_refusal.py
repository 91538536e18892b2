"""Refit the refusal model of rag/answering.py: ``python -m evals.fit_refusal``.

Computes ``refusal_features`` for every question of ClapNQ and of the seed set (retrieval as in
``rag.answer``, default settings), fits an L2-regularised logistic regression, and prints: each
feature's AUROC, the AUROC of a model fitted on one set and applied to the other, the 10-fold
cross-validated AUROC of the model fitted on both, the balanced accuracy by threshold, and the
constants to paste into rag/answering.py: the intercept is moved so that the middle of the best
thresholds (mean balanced accuracy of the two sets) falls on the default ``refusal_threshold``.
Deterministic (Newton's method from zero, fixed folds).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import astuple, fields
from pathlib import Path

import numpy as np

from evals import metrics
from evals.runner import DEFAULT_DOCS, DEFAULT_OUT, DEFAULT_QUESTIONS, eval_settings, load_questions
from rag.answering import RefusalFeatures, refusal_features
from rag.config import Settings

CLAPNQ = Path(__file__).resolve().parent / "benchmarks" / "clapnq"
NAMES = [f.name for f in fields(RefusalFeatures)]


def feature_table(questions_file: Path, docs: Path, out: Path) -> tuple[np.ndarray, np.ndarray]:
    """One row of features per question, and 1.0 for answerable / 0.0 for unanswerable."""
    import rag
    from rag import api

    settings = eval_settings(docs, out)
    rag.ingest(docs, settings=settings)
    weight = api.engine(settings).lexical.idf
    rows, labels = [], []
    for question in load_questions(questions_file):
        passages = rag.retrieve(question.question, settings=settings)
        rows.append(astuple(refusal_features(question.question, passages, weight)))
        labels.append(float(question.answerable))
    return np.asarray(rows, dtype=float), np.asarray(labels)


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 0.3) -> np.ndarray:
    """Weights then intercept, by Newton's method; the intercept is not penalised."""
    xb = np.hstack([x, np.ones((len(x), 1))])
    w = np.zeros(xb.shape[1])
    penalty = l2 * np.diag(np.r_[np.ones(x.shape[1]), 0.0])
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-(xb @ w)))
        gradient = xb.T @ (p - y) + penalty @ w
        hessian = (xb.T * (p * (1 - p))) @ xb + penalty
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-10:
            break
    return w


def predict(w: np.ndarray, x: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-(np.hstack([x, np.ones((len(x), 1))]) @ w))))


def auroc(scores: np.ndarray, y: np.ndarray) -> float:
    return metrics.auroc(list(scores[y == 1]), list(scores[y == 0])) or 0.0


def out_of_fold(x: np.ndarray, y: np.ndarray, folds: int = 10, seed: int = 0) -> np.ndarray:
    """Each question's score from a model fitted without its fold."""
    order = np.random.default_rng(seed).permutation(len(y))
    scores = np.zeros(len(y))
    for k in range(folds):
        test = order[k::folds]
        train = np.setdiff1d(order, test)
        scores[test] = predict(fit_logistic(x[train], y[train]), x[test])
    return scores


def logit(p: float) -> float:
    return float(np.log(p / (1.0 - p)))


def balanced_accuracy(scores: np.ndarray, y: np.ndarray, threshold: float) -> float:
    return float(((scores[y == 0] < threshold).mean() + (scores[y == 1] >= threshold).mean()) / 2)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.fit_refusal", description=__doc__)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    tables = {
        "clapnq": feature_table(CLAPNQ / "questions.jsonl", CLAPNQ / "docs", args.out),
        "seed": feature_table(DEFAULT_QUESTIONS, DEFAULT_DOCS, args.out),
    }
    for set_name, (x, y) in tables.items():
        alone = ", ".join(f"{n} {auroc(c, y):.3f}" for n, c in zip(NAMES, x.T, strict=True))
        print(f"{set_name}: AUROC of each feature alone: {alone}")
    for fit_on, check in (("clapnq", "seed"), ("seed", "clapnq")):
        w = fit_logistic(*tables[fit_on])
        held_out = auroc(predict(w, tables[check][0]), tables[check][1])
        print(f"fit on {fit_on} only: AUROC on {check} (held out) {held_out:.3f}")
    x = np.vstack([tables["clapnq"][0], tables["seed"][0]])
    y = np.r_[tables["clapnq"][1], tables["seed"][1]]
    is_seed = np.r_[np.zeros(len(tables["clapnq"][1])), np.ones(len(tables["seed"][1]))] == 1
    oof = np.mean([out_of_fold(x, y, 10, seed) for seed in range(5)], axis=0)
    w = fit_logistic(x, y)
    scores = predict(w, x)
    print(
        f"fit on both: 10-fold CV AUROC clapnq {auroc(oof[~is_seed], y[~is_seed]):.3f}, "
        f"seed {auroc(oof[is_seed], y[is_seed]):.3f}; in-sample clapnq "
        f"{auroc(scores[~is_seed], y[~is_seed]):.3f}, seed {auroc(scores[is_seed], y[is_seed]):.3f}"
    )
    grid = [round(float(t), 2) for t in np.arange(0.30, 0.661, 0.01)]
    mean_accuracy = {
        t: (
            balanced_accuracy(scores[~is_seed], y[~is_seed], t)
            + balanced_accuracy(scores[is_seed], y[is_seed], t)
        )
        / 2
        for t in grid
    }
    for threshold in grid[::2]:
        print(
            f"  threshold {threshold:.2f}: balanced accuracy clapnq "
            f"{balanced_accuracy(scores[~is_seed], y[~is_seed], threshold):.3f}, "
            f"seed {balanced_accuracy(scores[is_seed], y[is_seed], threshold):.3f}"
        )
    best_value = max(mean_accuracy.values())
    plateau = [t for t in grid if mean_accuracy[t] >= best_value - 1e-9]
    best = plateau[len(plateau) // 2]  # the middle of the best run of thresholds
    default = Settings().refusal_threshold
    shifted = w[-1] + logit(default) - logit(best)
    coefficients = ", ".join(f'"{n}": {v:.2f}' for n, v in zip(NAMES, w[:-1], strict=True))
    print(
        f"best mean balanced accuracy {best_value:.3f} at thresholds {plateau[0]:.2f}-"
        f"{plateau[-1]:.2f}; middle {best:.2f}"
    )
    print(f"REFUSAL_COEFFICIENTS = {{{coefficients}}}")
    print(
        f"REFUSAL_INTERCEPT = {shifted:.2f}  # fitted {w[-1]:.2f}, moved from threshold "
        f"{best:.2f} onto the default refusal_threshold {default:.2f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
