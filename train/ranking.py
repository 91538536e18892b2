"""How much the retrieval rank of a sentence's passage counts beside the reader's logit.

The reader judges a sentence alone (with its section path and the words before it); retrieval
judged the whole passage, against every other chunk of the corpus. Ranking the candidates by
``logit + RANK_PRIOR / (1 + passage rank)`` lets a sentence of the best passage win a near tie.
Only the ratio of the two weights changes the order, so the prior is one number, chosen here on
the validation corpora of bench/reader_validation.py (SQuAD 2.0's and ClapNQ's held-out
passages, SelQA's held-out questions, CMake's reference, Click + Flask's docs; never an eval
set): the grid value with the best mean share of answerable questions whose first candidate is
an answer sentence, over the corpora; leave-one-corpus-out, the value chosen on the other four
is judged on the fifth.

    python -m bench.reader_validation run --label NAME --corpora squad2,clapnq,selqa,cmake,pallets
    python -m train.ranking NAME        # the table, and the value chosen on all five corpora

A run's rows keep every candidate in retrieval order with the reader's own logit, whatever
``RANK_PRIOR`` (rag/answering.py) the run had: the prior orders the answer, not the rows, so
every prior is judged on the same scores (runs at 0 and at 3.25 give the same table; 1,483 of
their 1,494 rows are identical; the 11 others are unanswerable questions, 10 of them off topic,
whose retrieved passages differ between the two runs: none is counted here).
"""

from __future__ import annotations

import statistics
import sys
from collections.abc import Sequence
from typing import Any

from rag.answering import ranked_score

GRID = tuple(round(0.25 * i, 2) for i in range(17))  # 0 .. 4
Candidate = Sequence[Any]  # [logit, passage rank, right answer, text, title]


def best_is_right(candidates: Sequence[Candidate], prior: float) -> bool:
    """Whether the first candidate under ``logit + prior / (1 + rank)`` is an answer sentence;
    ties keep retrieval order, as rag/answering.py's stable sort does."""
    best = max(candidates, key=lambda c: ranked_score(c[0], c[1], prior))
    return bool(best[2])


def share_right(rows: Sequence[dict[str, Any]], prior: float) -> float:
    rows = [r for r in rows if r["kind"] == "answerable" and r["candidates"]]
    return sum(best_is_right(r["candidates"], prior) for r in rows) / max(len(rows), 1)


def choose(by_corpus: dict[str, list[dict[str, Any]]]) -> float:
    """The grid value with the best mean share over the corpora; a tie keeps the smaller."""
    means = {p: statistics.mean(share_right(rows, p) for rows in by_corpus.values()) for p in GRID}
    return max(GRID, key=lambda p: (round(means[p], 4), -p))


def report(rows: Sequence[dict[str, Any]]) -> str:
    by_corpus: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_corpus.setdefault(row["corpus"], []).append(row)
    names = sorted(by_corpus)
    lines = ["prior  " + " ".join(f"{n:>8}" for n in names) + "     mean"]
    for prior in GRID:
        shares = [share_right(by_corpus[n], prior) for n in names]
        cells = " ".join(f"{s:8.3f}" for s in shares)
        lines.append(f"{prior:5.2f}  {cells} {statistics.mean(shares):8.3f}")
    lines.append("\nleave-one-corpus-out: prior chosen on the others; left out: prior 0 -> chosen")
    for held in names:
        others = {n: by_corpus[n] for n in names if n != held}
        prior = choose(others)
        before, after = share_right(by_corpus[held], 0.0), share_right(by_corpus[held], prior)
        lines.append(f"{held:8} prior {prior:4.2f}: {before:.3f} -> {after:.3f}")
    lines.append(f"\nchosen on all five: RANK_PRIOR = {choose(by_corpus)}")
    return "\n".join(lines)


def main(argv: Sequence[str]) -> int:
    from bench.reader_validation import load

    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    print(report(load(argv[0])))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
