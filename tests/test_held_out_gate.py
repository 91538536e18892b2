"""The held-out answer gate: questions no constant was chosen on, through the whole answer path.

A slice of the reader's validation split (tests/gates.py ``held_out_slice``: SQuAD 2.0 questions
of held-out articles past the 600 the refusal threshold was chosen on) is indexed as a folder
(title line, then the passage) and asked through ``rag.answer`` with the default settings. The
bounds are in evals/gates.json ("held_out"). About 25 s of indexing and 40-100 s of answers on
this 2-core machine, by load.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from rag.config import Settings
from tests.gates import HELD_OUT_QUESTIONS, figure, held_out_slice, held_out_summary, load_gates

GATE = load_gates()["held_out"]


@pytest.fixture(scope="module")
def held_out(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    import rag

    work = tmp_path_factory.mktemp("held-out")
    questions = held_out_slice(work / "docs")
    settings = Settings(docs_dir=work / "docs", store_dir=work / "store")
    rag.ingest(settings=settings)
    summary = held_out_summary(questions, settings)
    print("held-out gate:", json.dumps(summary))
    return summary


def test_the_slice_is_the_one_the_floors_were_set_on(tmp_path: Any) -> None:
    questions = held_out_slice(tmp_path / "docs")
    assert len(questions) == HELD_OUT_QUESTIONS == 80
    assert sum(q.answerable for q in questions) == 37
    assert len(list((tmp_path / "docs").iterdir())) == 75
    # Not one of the questions the refusal threshold was chosen on (train/pipeline.py).
    from train.pipeline import validation_corpus

    chosen_on = {g.question for g, _ in validation_corpus(tmp_path / "pipeline")}
    assert not chosen_on & {q.question for q in questions}
    # Nor one the leave-one-corpus-out calibration was fitted on (train/loco.py).
    from train.loco import wikipedia_corpus

    _, fitted_on = wikipedia_corpus("squad2")
    assert not {q.text for q in fitted_on} & {q.question for q in questions}


@pytest.mark.slow
@pytest.mark.parametrize("metric", sorted(GATE))
def test_held_out_metric_stays_within_its_bound(held_out: dict[str, Any], metric: str) -> None:
    assert GATE[metric].holds(figure(held_out, metric)), (GATE[metric], held_out)
