"""The answer path's hand-set constants, measured on validation data, never on an eval set.

Five corpora of train/loco.py (none of them an eval set): SQuAD 2.0's and ClapNQ's held-out
passages, SelQA's held-out questions, CMake 3.25's reference and Click + Flask's documentation,
each indexed as a folder; their questions are asked through retrieval, the reader and the names
check, as ``rag.answer`` asks them. The reader's logits are computed once per question and kept,
so each value of a constant is one more pass over cached scores, not one more model call.

- ``FURTHER_SENTENCE_SHARE`` (rag/answering.py): how much of the best sentence's probability a
  further sentence needs to be cited too. Chosen here: the grid value with the best citation F1
  (cited sentences against the gold answer sentences, answerable questions, refusals count as
  nothing cited), averaged over the five corpora; a value within ``TIE`` of the best is a tie,
  and a tie keeps the value the code had (no change without a measured gain).
- ``ELLIPSIS_WORDS`` (rag/followup.py): a follow-up this short is taken for an ellipsis and
  borrows the previous question. No validation set holds conversations, so this is a product
  choice; measured here is what it costs: the standalone validation questions it would merge
  with the question asked before them, and how many of their answers that changes.
- The refusal threshold (reader.json, chosen by ``python -m train loco``): its operating point is
  a product choice (at most 15% false refusals on every corpus); measured here is what each
  threshold refuses, answerable and not.

    python -m train constants           # ask (resumable, train/out/constants/), tables, CARD.md
                                        # (683 questions: 28 min niced at load 14, 2 cores)
    python -m train.constants report    # the tables again from the saved rows
    python -m train.constants card      # the same, and written to rag/reader_model/CARD.md
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from train import loco, log_to
from train.data import OUT
from train.loco import Question, corpora

log = logging.getLogger("train")
WORK = OUT / "constants"
CORPORA = ("clapnq", "squad2", "selqa", "cmake", "pallets")
# Questions asked per corpus and kind (the first ones of train/loco.py's seeded lists).
CAPS = {"answerable": 100, "unanswerable": 30, "off-topic": 20}
SHARES = (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.0)
# Two mean F1s closer than this are a tie (about one citation in a corpus of 100 questions).
TIE = 0.005
THRESHOLDS = tuple(round(0.2 + 0.02 * i, 2) for i in range(21))
# Operating points a product could pick: the highest threshold refusing at most this share of the
# answerable questions on every corpus (0.15 is what train/loco_rules.py ships).
CAPS_FALSE_REFUSALS = (0.05, 0.10, 0.15, 0.20, 0.25)
ELLIPSIS_GRID = tuple(range(7))
MAX_SENTENCES = 2  # rag.config.Settings.max_answer_sentences


def _norm(text: str) -> str:
    return " ".join(text.split())


def gold_units(question: Question) -> list[str]:
    """The gold answer's sentences (a manual's lead paragraph is several)."""
    from rag.chunking import split_sentences

    units: list[str] = []
    for answer in question.answers:
        for start, end in split_sentences(answer):
            unit = _norm(answer[start:end])
            if unit and unit not in units:
                units.append(unit)
    return units


def _same(a: str, b: str) -> bool:
    return a in b or b in a


def score_citations(question: Question, citations: Sequence[Any]) -> dict[str, int]:
    """Cited spans, those inside (or holding) a gold sentence of the right document, and the gold
    sentences covered (up to MAX_SENTENCES: an answer cites no more)."""
    units = gold_units(question)
    texts = [_norm(c.text) for c in citations if c.source == question.source]
    right = sum(any(_same(t, u) for u in units) for t in texts)
    covered = sum(any(_same(t, u) for t in texts) for u in units)
    gold = min(len(units), MAX_SENTENCES)
    return {"cited": len(citations), "right": right, "covered": min(covered, gold), "gold": gold}


class CachedReader:
    """The shared reader with its logits kept per pair: asking again costs no model call."""

    def __init__(self, reader: Any) -> None:
        self.inner = reader
        self.card = reader.card
        self.memo: dict[tuple[str, str], float] = {}

    def logits(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        missing = list(dict.fromkeys(p for p in pairs if p not in self.memo))
        if missing:
            for pair, logit in zip(missing, self.inner.logits(missing), strict=True):
                self.memo[pair] = float(logit)
        return np.array([self.memo[p] for p in pairs], dtype=np.float32)

    def probability(self, logit: float, dense: float = 0.0, baseline: float | None = None) -> float:
        return float(self.inner.probability(logit, dense, baseline))


@contextmanager
def constant(module: Any, name: str, value: Any) -> Iterator[None]:
    """The module's constant set to ``value`` for the block (the code reads it at call time)."""
    saved = getattr(module, name)
    setattr(module, name, value)
    try:
        yield
    finally:
        setattr(module, name, saved)


def answer_with(
    retrieved: Any, reader: CachedReader, baseline: float | None, threshold: float, share: float
) -> Any:
    """``rag.api.answer_retrieved`` (extractive) with a given threshold and further share."""
    from rag import answering
    from rag.answering import answer_extractive
    from rag.api import checked

    with constant(answering, "FURTHER_SENTENCE_SHARE", share):
        result = answer_extractive(
            retrieved.query,
            retrieved.read,
            reader,  # type: ignore[arg-type]
            refusal_threshold=threshold,
            max_sentences=MAX_SENTENCES,
            dense_baseline=baseline,
        )
    return checked(result, retrieved)


def answered_right(question: Question, answer: Any) -> bool:
    return not answer.refused and score_citations(question, answer.citations)["right"] > 0


def picked(questions: list[Question]) -> list[Question]:
    out: list[Question] = []
    for kind, cap in CAPS.items():
        out += [q for q in questions if q.kind == kind][:cap]
    return out


def short_standalone(question: str) -> int | None:
    """The word count of a question only the ellipsis rule would merge (no pronoun, no
    continuing opening), if at most the grid's largest; else None."""
    from rag import followup
    from rag.text import words

    with constant(followup, "ELLIPSIS_WORDS", 0):
        if followup.refers_back(question):
            return None
    count = len(words(question))
    return count if count <= max(ELLIPSIS_GRID) else None


def run_corpus(name: str, docs: dict[str, str], questions: list[Question]) -> Path:
    """Index the corpus, ask every question; one row per question (resumable)."""
    import rag
    from rag import followup
    from rag.api import dense_baseline, retrieve_for_answer
    from rag.config import Settings
    from rag.reader import shared_reader

    folder = WORK / name
    rows_path = folder / "rows.jsonl"
    reader = shared_reader()
    if (folder / "model.txt").exists() and (folder / "model.txt").read_text() != reader.card.sha256:
        rows_path.unlink(missing_ok=True)  # another model's rows: ask again
    done = len(rows_path.read_text(encoding="utf-8").splitlines()) if rows_path.exists() else 0
    if done >= len(questions):
        return rows_path
    settings = Settings(docs_dir=folder / "docs", store_dir=folder / "store")
    loco.write_docs(folder / "docs", docs)
    (folder / "model.txt").write_text(reader.card.sha256)
    began = time.monotonic()
    report = rag.ingest(settings=settings)
    log.info("%s: %d chunks, %.0f s", name, report.total_chunks, time.monotonic() - began)
    baseline = dense_baseline(settings)
    shipped = reader.card.threshold
    answerable = [q for q in questions if q.answerable]
    began = time.monotonic()
    with rows_path.open("a", encoding="utf-8") as handle:
        for i, question in enumerate(questions[done:], start=done):
            cached = CachedReader(reader)
            retrieved = retrieve_for_answer(question.text, (), None, settings)
            shares = {}
            for share in SHARES:
                answer = answer_with(retrieved, cached, baseline, shipped, share)
                shares[str(share)] = {
                    "refused": answer.refused,
                    **score_citations(question, answer.citations),
                }
            thresholds = {}
            for threshold in THRESHOLDS:
                answer = answer_with(retrieved, cached, baseline, threshold, _shipped_share())
                thresholds[str(threshold)] = {
                    "refused": answer.refused,
                    "right": answered_right(question, answer),
                }
            if i < 2:  # the replica must be the shipped path: same answer as rag.answer
                same = rag.answer(question.text, settings=settings)
                here = answer_with(retrieved, cached, baseline, shipped, _shipped_share())
                assert (same.text, same.refused) == (here.text, here.refused), question.text
            ellipsis = None
            count = short_standalone(question.text) if question.answerable else None
            if count is not None:
                # Asked right after the corpus's previous answerable question, merged with it.
                previous = answerable[answerable.index(question) - 1].text
                with constant(followup, "ELLIPSIS_WORDS", max(ELLIPSIS_GRID)):
                    merged = retrieve_for_answer(question.text, [(previous, "")], None, settings)
                answer = answer_with(
                    merged, CachedReader(reader), baseline, shipped, _shipped_share()
                )
                standalone = answer_with(retrieved, cached, baseline, shipped, _shipped_share())
                ellipsis = {
                    "words": count,
                    "standalone_right": answered_right(question, standalone),
                    "merged_right": answered_right(question, answer),
                }
            row = {
                "corpus": name,
                "kind": question.kind,
                "question": question.text,
                "shares": shares,
                "thresholds": thresholds,
                "ellipsis": ellipsis,
            }
            handle.write(json.dumps(row) + "\n")
            handle.flush()
            if (i + 1) % 25 == 0:
                rate = (i + 1 - done) / (time.monotonic() - began)
                log.info("%s: %d/%d questions (%.2f/s)", name, i + 1, len(questions), rate)
    return rows_path


def _shipped_share() -> float:
    from rag import answering

    return float(answering.FURTHER_SENTENCE_SHARE)


def load_rows() -> list[dict[str, Any]]:
    return loco.load_rows(CORPORA, WORK)


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def share_table(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], float]:
    """Per share: citation precision, recall and F1 per corpus (answerable questions), their mean
    F1, sentences cited per answer, citations given to unanswerable questions; and the choice."""
    names = [c for c in CORPORA if any(r["corpus"] == c for r in rows)]
    table = []
    for share in SHARES:
        key = str(share)
        entry: dict[str, Any] = {"share": share, "corpora": {}}
        for name in names:
            own = [
                r["shares"][key] for r in rows if r["corpus"] == name and r["kind"] == "answerable"
            ]
            cited = sum(s["cited"] for s in own)
            p = sum(s["right"] for s in own) / cited if cited else 0.0
            r = sum(s["covered"] for s in own) / max(1, sum(s["gold"] for s in own))
            entry["corpora"][name] = {"p": round(p, 3), "r": round(r, 3), "f1": round(_f1(p, r), 3)}
        entry["mean_f1"] = round(float(np.mean([v["f1"] for v in entry["corpora"].values()])), 4)
        answered = [
            r["shares"][key]
            for r in rows
            if r["kind"] == "answerable" and not r["shares"][key]["refused"]
        ]
        entry["cited_per_answer"] = round(
            float(np.mean([s["cited"] for s in answered])) if answered else 0.0, 3
        )
        wrong = [r["shares"][key] for r in rows if r["kind"] != "answerable"]
        entry["unanswerable_citations"] = sum(s["cited"] for s in wrong)
        table.append(entry)
    best = max(e["mean_f1"] for e in table)
    current = _shipped_share()
    tied = [e["share"] for e in table if e["mean_f1"] >= best - TIE]
    chosen = current if current in tied else max(table, key=lambda e: e["mean_f1"])["share"]
    return table, chosen


def threshold_table(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per threshold: false refusals and right answers (answerable), refusals of unanswerable
    and off-topic questions, per corpus."""
    names = [c for c in CORPORA if any(r["corpus"] == c for r in rows)]
    table = []
    for threshold in THRESHOLDS:
        key = str(threshold)
        entry: dict[str, Any] = {"threshold": threshold, "corpora": {}}
        for name in names:
            mine = [r for r in rows if r["corpus"] == name]
            yes = [r["thresholds"][key] for r in mine if r["kind"] == "answerable"]
            no = [r["thresholds"][key] for r in mine if r["kind"] != "answerable"]
            entry["corpora"][name] = {
                "false_refusals": _share([t["refused"] for t in yes]),
                "right": _share([t["right"] for t in yes]),
                "refused_unanswerable": _share([t["refused"] for t in no]),
            }
        values = entry["corpora"].values()
        entry["worst_false_refusals"] = max(v["false_refusals"] for v in values)
        for field in ("false_refusals", "right", "refused_unanswerable"):
            entry[f"mean_{field}"] = round(float(np.mean([v[field] for v in values])), 3)
        entry["mean_refused_unanswerable"] = round(
            float(
                np.mean(
                    [v["refused_unanswerable"] for v in values if v["refused_unanswerable"] >= 0]
                )
            ),
            3,
        )
        table.append(entry)
    return table


def _share(flags: list[bool]) -> float:
    """The share of true flags; -1 when there are none (a corpus with no such question)."""
    return round(float(np.mean(flags)), 3) if flags else -1.0


def operating_points(table: list[dict[str, Any]]) -> dict[float, float | None]:
    """Each cap's threshold: the highest whose false refusals are at most the cap everywhere."""
    out: dict[float, float | None] = {}
    for cap in CAPS_FALSE_REFUSALS:
        fits = [e["threshold"] for e in table if e["worst_false_refusals"] <= cap + 1e-9]
        out[cap] = max(fits) if fits else None
    return out


def ellipsis_table(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per ELLIPSIS_WORDS: standalone answerable questions the rule merges with the previous
    question, and of them, answers right when asked alone and when merged."""
    asked = [r for r in rows if r["kind"] == "answerable"]
    table = []
    for limit in ELLIPSIS_GRID:
        merged = [r["ellipsis"] for r in asked if r["ellipsis"] and r["ellipsis"]["words"] <= limit]
        per_corpus = {
            name: sum(
                1
                for r in asked
                if r["corpus"] == name and r["ellipsis"] and r["ellipsis"]["words"] <= limit
            )
            for name in CORPORA
        }
        table.append(
            {
                "words": limit,
                "merged": len(merged),
                "share": round(len(merged) / max(1, len(asked)), 4),
                "per_corpus": per_corpus,
                "right_alone": sum(e["standalone_right"] for e in merged),
                "right_merged": sum(e["merged_right"] for e in merged),
            }
        )
    return table


def report(rows: list[dict[str, Any]]) -> str:
    """The three tables as markdown, with the choices."""
    names = [c for c in CORPORA if any(r["corpus"] == c for r in rows)]
    counts = {
        name: {
            kind: sum(r["corpus"] == name and r["kind"] == kind for r in rows)
            for kind in ("answerable", "unanswerable", "off-topic")
        }
        for name in names
    }
    shares, chosen = share_table(rows)
    lines = [
        "Questions asked (answerable / unanswerable / off-topic): "
        + ", ".join(
            f"{n} {c['answerable']}/{c['unanswerable']}/{c['off-topic']}" for n, c in counts.items()
        )
        + ".",
        "",
        "**FURTHER_SENTENCE_SHARE** (refusal threshold as shipped; at most "
        f"{MAX_SENTENCES} sentences): citation precision / recall / F1 against the gold answer "
        "sentences on answerable questions, per corpus; sentences cited per answer; citations "
        "given to unanswerable and off-topic questions.",
        "",
        "| share | "
        + " | ".join(f"{n} P/R/F1" for n in names)
        + " | mean F1 | cited per answer | unanswerable citations |",
        "|---" * (len(names) + 4) + "|",
    ]
    for e in shares:
        cells = [f"{v['p']}/{v['r']}/{v['f1']}" for v in e["corpora"].values()]
        mark = " (chosen)" if e["share"] == chosen else ""
        lines.append(
            f"| {e['share']}{mark} | "
            + " | ".join(cells)
            + f" | {e['mean_f1']} | {e['cited_per_answer']} | {e['unanswerable_citations']} |"
        )
    best = next(e for e in shares if e["share"] == chosen)
    tied = [e["share"] for e in shares if e["mean_f1"] >= max(x["mean_f1"] for x in shares) - TIE]
    lines += [
        "",
        f"Chosen: {chosen} (mean F1 {best['mean_f1']}). The rule, set before the run: the best "
        f"mean F1 over the corpora; values within {TIE} of the best are a tie (here {tied}) and a "
        f"tie keeps the code's value ({_shipped_share()}). A lower share cites a second sentence "
        "more often: recall rises where answers span sentences (ClapNQ, the manuals' leads), "
        "precision falls where one sentence answers (SQuAD, SelQA), and unanswerable questions "
        "get more citations.",
    ]
    thresholds = threshold_table(rows)
    points = operating_points(thresholds)
    lines += [
        "",
        "**Refusal threshold** (the shipped calibration and share): per corpus, false refusals "
        "(answerable questions refused) / unanswerable and off-topic questions refused.",
        "",
        "| threshold | " + " | ".join(names) + " | worst false refusals | mean right answers |",
        "|---" * (len(names) + 3) + "|",
    ]
    for e in thresholds:
        cells = [
            f"{v['false_refusals']} / {v['refused_unanswerable']}" for v in e["corpora"].values()
        ]
        lines.append(
            f"| {e['threshold']} | "
            + " | ".join(cells)
            + f" | {e['worst_false_refusals']} | {e['mean_right']} |"
        )
    lines += [
        "",
        "Operating points (the highest threshold refusing at most this share of answerable "
        "questions on every corpus, here): "
        + ", ".join(f"{cap:.0%}: {t}" for cap, t in points.items())
        + ".",
    ]
    shipped = _shipped_threshold()
    at = next((e for e in thresholds if abs(e["threshold"] - shipped) < 1e-9), None)
    low = thresholds[0]
    if at is not None:
        lines += [
            "",
            f"Shipped threshold {shipped} (fitted by `python -m train loco` to its cap on the "
            "confidence alone): through the whole path here, worst false refusals "
            f"{at['worst_false_refusals']}, mean false refusals {at['mean_false_refusals']}, "
            f"unanswerable and off-topic refused {at['mean_refused_unanswerable']} (mean over the "
            f"corpora). At the grid's lowest threshold, {low['threshold']}, the worst corpus "
            f"already has {low['worst_false_refusals']} of its answerable questions refused: the "
            "cap is fitted to the confidence alone, and the names check (rag/entities.py) refuses "
            "whatever the threshold. This is a measurement of the operating point, not a refit: "
            "moving it is a product decision.",
        ]
    lines += [
        "",
        "**ELLIPSIS_WORDS**: answerable validation questions (standalone: no pronoun, no "
        "continuing opening) that the rule would merge with the question asked before them, and "
        "how many of those are answered right alone and merged.",
        "",
        "| ELLIPSIS_WORDS | merged | share of answerable | "
        + " | ".join(names)
        + " | right alone | right merged |",
        "|---" * (len(names) + 5) + "|",
    ]
    for e in ellipsis_table(rows):
        cells = [str(e["per_corpus"][n]) for n in names]
        lines.append(
            f"| {e['words']} | {e['merged']} | {e['share']} | "
            + " | ".join(cells)
            + f" | {e['right_alone']} | {e['right_merged']} |"
        )
    table = {e["words"]: e for e in ellipsis_table(rows)}
    current = _shipped_ellipsis()
    if current in table and current + 1 in table:
        now, more = table[current], table[current + 1]
        answerable = sum(r["kind"] == "answerable" for r in rows)
        lines += [
            "",
            f"ELLIPSIS_WORDS = {current} is a product choice: no validation set holds "
            'conversations, so what the rule gains (a short follow-up such as "Founded when?" '
            "finds its subject) is not measured here, only what it costs: it merges "
            f"{now['merged']} standalone answerable questions of {answerable} "
            f"(right answers {now['right_alone']} -> {now['right_merged']}); one word more would "
            f"merge {more['merged']} ({more['right_alone']} -> {more['right_merged']}), mostly "
            "the manuals' short questions.",
        ]
    return "\n".join(lines) + "\n"


def _shipped_threshold() -> float:
    from rag.reader import shared_reader

    return float(shared_reader().card.threshold)


def _shipped_ellipsis() -> int:
    from rag import followup

    return int(followup.ELLIPSIS_WORDS)


CARD_HEADING = "## Constants of the answer path, measured on validation data"


def write_card(text: str) -> None:
    """CARD.md's section with the tables, placed before the leave-one-corpus-out section (which
    ``python -m train loco`` and ``pipeline`` rewrite from their headings on)."""
    from rag.reader import MODEL_DIR
    from train.loco import LOCO_HEADING

    path = MODEL_DIR / "CARD.md"
    card = path.read_text(encoding="utf-8")
    section = f"{CARD_HEADING}\n\n{INTRO}\n\n{text}\n"
    if CARD_HEADING in card:
        head, _, rest = card.partition(CARD_HEADING)
        tail = rest[rest.index("\n## ") + 1 :] if "\n## " in rest else ""
    else:
        head, _, tail = card.partition(LOCO_HEADING)
        tail = LOCO_HEADING + tail
    path.write_text(head.rstrip() + "\n\n" + section + "\n" + tail, encoding="utf-8")


INTRO = """`python -m train constants` (train/constants.py): the five corpora of the next section
(none an eval set), indexed as folders, their questions asked through retrieval, the reader and
the names check as `rag.answer` asks them; each value below answers the same questions (the
reader's scores kept, so no value is judged on another run's noise). Refusals, the names check
included, count in every column."""


def run() -> None:
    from rag.reader import shared_reader

    built = corpora(CORPORA)
    log.info("reader %s", shared_reader().card.sha256[:12])
    for name in CORPORA:
        docs, questions = built[name]
        run_corpus(name, docs, picked(questions))


def main(argv: list[str]) -> int:
    from rag.config import apply_offline_env

    apply_offline_env()
    WORK.mkdir(parents=True, exist_ok=True)
    log_to(WORK / "constants.log")
    step = argv[0] if argv else "all"
    if step in ("run", "all"):
        run()
    text = report(load_rows())
    (WORK / "report.md").write_text(text, encoding="utf-8")
    print(text)
    if step in ("card", "all"):
        write_card(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
