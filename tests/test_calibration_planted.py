"""The corpus baseline's file (rag/calibration.py) as a damaged copy leaves it: a record whose
stamp is right but whose figures are missing or not numbers of the right kind is measured
again and replaced, never read as a baseline nor raised.

Tests written for deliberate bugs a review planted in rag/calibration.py that the suite let
through:

- ``_read`` without ``KeyError`` among the damage it reads as "measure again": a record of the
  right index, generation and bank without its ``questions`` raised out of ``rag.answer``;
- ``_read`` taking any number for the cosine (``isinstance(dense, (int, float))``): a record
  with ``"dense": true`` was read as a baseline of 1.

Judged equivalent: the in-process cache dropping an entry of another generation before
measuring (the entry is replaced after the measure in every case, and one of another
generation is never returned); the bank read in sorted order (the baseline is a median, the
same for any order, and the bank's digest is taken of the list as read, the same in every
process).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag import calibration
from rag.calibration import CorpusBaseline, corpus_baseline


@pytest.mark.parametrize(
    "damage",
    [
        {"questions": None},  # the key itself is removed below
        {"dense": None},
        {"dense": True},
        {"dense": "0.5"},
        {"questions": 48.0},
    ],
)
def test_a_stamped_record_without_its_figures_is_measured_again(
    tmp_path: Path, damage: dict[str, object]
) -> None:
    calls: list[int] = []

    def measure() -> CorpusBaseline:
        calls.append(1)
        return CorpusBaseline(0.25, 48)

    path = tmp_path / "baseline.json"
    key = ("damaged-index", id(calls))
    calibration._cache.clear()
    assert corpus_baseline(key, 1, measure, path) == CorpusBaseline(0.25, 48)
    record = json.loads(path.read_text(encoding="utf-8"))
    record.update(damage)
    for name, value in damage.items():
        if value is None:
            del record[name]
    path.write_text(json.dumps(record), encoding="utf-8")
    calibration._cache.clear()
    assert corpus_baseline(key, 1, measure, path) == CorpusBaseline(0.25, 48)
    assert len(calls) == 2
    # ... and the file replaced by a whole one, read back by the next process.
    calibration._cache.clear()
    assert corpus_baseline(key, 1, measure, path) == CorpusBaseline(0.25, 48)
    assert len(calls) == 2
