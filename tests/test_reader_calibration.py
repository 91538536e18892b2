"""The refusal decision's corpus baseline (rag/calibration.py): how close off-topic questions come
to this index, measured once per index generation and centring the reader card's dense term."""

from __future__ import annotations

import json
import logging
import shutil
import statistics
from pathlib import Path

import numpy as np
import pytest

import rag
from rag import api, calibration
from rag.answering import judge
from rag.calibration import (
    CorpusBaseline,
    baseline_from_scores,
    corpus_baseline,
    measure_baseline,
    offtopic_bank,
)
from rag.config import Settings
from rag.durable import write_atomic
from rag.errors import ConfigError, RagError, StoreError
from rag.models import Chunk
from rag.reader import MODEL_DIR, ReaderCard, load_card, shared_reader
from rag.store import VectorStore
from train.loco import coverage

MANUAL = """Build tool reference

The configure step reads the project file and writes the build files for the chosen generator.

Adding an executable

The add_executable command adds an executable target built from the listed source files.
"""


def _card(baseline: float | None) -> ReaderCard:
    return ReaderCard("m.onnx", "0" * 64, 0.5, -1.0, 0.4, 5.0, baseline)


def test_the_corpus_baseline_centres_the_dense_term_of_a_centred_card() -> None:
    card = _card(0.25)
    # Without the corpus's baseline the card's own (the fitting corpora's mean) is used.
    assert card.probability(1.0, 0.3) == card.probability(1.0, 0.3, 0.25)
    # A corpus where off-topic questions come close (a high baseline) asks more of the dense
    # similarity: the same scores mean less there.
    assert card.probability(1.0, 0.3, 0.35) < card.probability(1.0, 0.3, 0.25)
    assert card.probability(1.0, 0.3, 0.15) > card.probability(1.0, 0.3, 0.25)
    assert card.probability(1.0, 0.3, 0.3) == pytest.approx(1 / (1 + 2.718281828459045**0.5))


def test_a_card_fitted_on_raw_dense_ignores_corpus_baselines() -> None:
    card = _card(None)
    assert (
        card.probability(1.0, 0.3, 0.9)
        == card.probability(1.0, 0.3)
        == card.probability(1.0, 0.3, -0.9)
    )


def test_the_shipped_card_is_centred_on_a_measured_baseline() -> None:
    raw = json.loads((MODEL_DIR / "reader.json").read_text())
    card = load_card()
    assert card.dense_baseline == raw["calibration"]["dense_baseline"]
    measured = raw["leave_one_corpus_out"]["baselines"]
    assert card.dense_baseline == pytest.approx(statistics.mean(measured.values()), abs=1e-4)


def test_a_corpus_baseline_is_held_inside_the_fitted_range() -> None:
    card = ReaderCard("m.onnx", "0" * 64, 0.5, -1.0, 0.4, 5.0, 0.25, (0.15, 0.3))
    # Inside the range the corpus's own baseline is used as it is.
    assert card.probability(1.0, 0.3, 0.2) == _card(0.25).probability(1.0, 0.3, 0.2)
    assert card.probability(1.0, 0.3, 0.15) == _card(0.25).probability(1.0, 0.3, 0.15)
    # Outside it, the nearest fitted baseline: never extrapolated.
    assert card.probability(1.0, 0.3, 0.05) == _card(0.25).probability(1.0, 0.3, 0.15)
    assert card.probability(1.0, 0.3, 0.05) < _card(0.25).probability(1.0, 0.3, 0.05)
    assert card.probability(1.0, 0.3, 0.5) == _card(0.25).probability(1.0, 0.3, 0.3)


def test_the_shipped_range_is_the_fitted_corpora_baselines() -> None:
    raw = json.loads((MODEL_DIR / "reader.json").read_text())
    measured = raw["leave_one_corpus_out"]["baselines"].values()
    assert load_card().baseline_range == (min(measured), max(measured))


@pytest.mark.parametrize("bounds", [[0.3, 0.1], [-2.0, 0.1], [0.1, float("nan")]])
def test_a_baseline_range_that_is_not_one_is_refused(tmp_path: Path, bounds: list[float]) -> None:
    raw = json.loads((MODEL_DIR / "reader.json").read_text())
    raw["calibration"]["baseline_range"] = bounds
    (tmp_path / "reader.json").write_text(json.dumps(raw))
    with pytest.raises(ConfigError, match="baseline_range"):
        load_card(tmp_path)


def test_the_bank_is_questions_and_the_baseline_is_their_median() -> None:
    bank = offtopic_bank()
    assert len(bank) == len(set(bank)) >= 40 and all(q.endswith("?") for q in bank)
    assert baseline_from_scores([0.1, 0.5, 0.2]) == CorpusBaseline(0.2, 3)
    assert baseline_from_scores([0.1, 0.4, 0.3, 0.2]) == CorpusBaseline(0.25, 4)
    assert baseline_from_scores([0.123456, 0.9]) == CorpusBaseline(0.5117, 2)  # four decimals
    assert baseline_from_scores([]) is None


def test_a_missing_or_empty_bank_says_how_to_fix_it(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError, match=r"offtopic\.txt are missing: reinstall .*python -m train"
    ):
        offtopic_bank(tmp_path)
    (tmp_path / "offtopic.txt").write_text("\n  \n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"offtopic\.txt are empty: reinstall"):
        offtopic_bank(tmp_path)


def test_coverage_counts_the_questions_content_terms_in_the_sentence_and_title() -> None:
    assert coverage("What does add_executable build?", "It builds things.", "add_executable") == 1
    assert coverage("Who painted the Garden of Earthly Delights?", "Bosch painted it.") == 0.25
    assert coverage("What is it?", "Anything.") == 0.0  # no content terms


def test_the_baseline_is_measured_once_per_generation() -> None:
    calls: list[int] = []

    def measure() -> CorpusBaseline:
        calls.append(1)
        return CorpusBaseline(0.1 * len(calls), 48)

    key = ("test-index", id(calls))
    assert corpus_baseline(key, 1, measure) == CorpusBaseline(0.1, 48)
    assert corpus_baseline(key, 1, measure) == CorpusBaseline(0.1, 48)
    assert corpus_baseline(key, 2, measure) == CorpusBaseline(0.2, 48)
    assert len(calls) == 2


def test_the_baseline_is_kept_on_disk_for_the_next_process(tmp_path: Path) -> None:
    """A fresh process (each `rag ask`) reads the file instead of measuring again; another
    generation, a damaged file or another bank is measured again and the file replaced."""
    calls: list[int] = []

    def measure() -> CorpusBaseline:
        calls.append(1)
        return CorpusBaseline(round(0.1 * len(calls), 4), 48)

    path = tmp_path / "store" / "baseline-docs.json"
    key = ("disk-index", id(calls))

    def fresh_process(generation: int) -> CorpusBaseline | None:
        calibration._cache.clear()
        return corpus_baseline(key, generation, measure, path)

    assert fresh_process(1) == CorpusBaseline(0.1, 48) and path.is_file()
    assert fresh_process(1) == CorpusBaseline(0.1, 48) and len(calls) == 1
    assert fresh_process(2) == CorpusBaseline(0.2, 48) and len(calls) == 2
    assert fresh_process(2) == CorpusBaseline(0.2, 48) and len(calls) == 2
    assert corpus_baseline(("another-index",), 2, measure, path) == CorpusBaseline(0.3, 48)
    for damaged in ("{not json", '{"dense": "0.5"}', "[]"):
        path.write_text(damaged, encoding="utf-8")
        before = len(calls)
        assert fresh_process(2) is not None and len(calls) == before + 1
    record = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps({**record, "bank": "another bank"}), encoding="utf-8")
    before = len(calls)
    fresh_process(2)
    assert len(calls) == before + 1


def test_a_baseline_file_out_of_range_or_of_another_bank_is_measured_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []

    def measure() -> CorpusBaseline:
        calls.append(1)
        return CorpusBaseline(0.25, 48)

    path = tmp_path / "baseline.json"
    key = ("bank-index", id(calls))

    def fresh_process() -> CorpusBaseline | None:
        calibration._cache.clear()
        return corpus_baseline(key, 1, measure, path)

    assert fresh_process() == CorpusBaseline(0.25, 48) and len(calls) == 1
    record = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps({**record, "dense": 1.5}), encoding="utf-8")  # no cosine
    assert fresh_process() == CorpusBaseline(0.25, 48) and len(calls) == 2
    assert fresh_process() == CorpusBaseline(0.25, 48) and len(calls) == 2  # read back
    # A shipped bank that changed (a new reader) makes every stored baseline stale.
    monkeypatch.setattr(calibration, "offtopic_bank", lambda *args: ["Another question?"])
    assert fresh_process() == CorpusBaseline(0.25, 48) and len(calls) == 3


def test_an_empty_index_has_no_baseline_and_stores_none(tmp_path: Path) -> None:
    calibration._cache.clear()
    path = tmp_path / "baseline.json"
    assert corpus_baseline(("empty-index",), 1, lambda: None, path) is None
    assert not path.exists()


def test_a_store_that_cannot_keep_the_baseline_still_answers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")
    with pytest.raises(RagError) as unwritable:
        write_atomic(blocker / "b.json", b"{}")
    calibration._cache.clear()
    with caplog.at_level(logging.WARNING, logger="rag.calibration"):
        found = corpus_baseline(("ro",), 1, lambda: CorpusBaseline(0.2, 48), blocker / "b.json")
    assert found == CorpusBaseline(0.2, 48)
    assert caplog.messages == [
        f"The corpus baseline was not saved ({unwritable.value}): measured again next time."
    ]


@pytest.mark.parametrize(("dense", "read"), [(-1.0, True), (1.0, True), (-1.5, False)])
def test_a_baseline_file_is_read_back_for_any_cosine_and_only_a_cosine(
    tmp_path: Path, dense: float, read: bool
) -> None:
    calls: list[int] = []

    def measure() -> CorpusBaseline:
        calls.append(1)
        return CorpusBaseline(0.25, 48)

    path = tmp_path / "baseline.json"
    key = ("cosine-index", id(calls))
    calibration._cache.clear()
    corpus_baseline(key, 1, measure, path)
    record = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps({**record, "dense": dense}), encoding="utf-8")
    calibration._cache.clear()
    found = corpus_baseline(key, 1, measure, path)
    if read:
        assert (found, len(calls)) == (CorpusBaseline(dense, 48), 1)
    else:  # no cosine: measured again
        assert (found, len(calls)) == (CorpusBaseline(0.25, 48), 2)


class BankEmbedder:
    """Each bank question a unit vector at its own angle in the first plane (no model)."""

    id = "bank-table"

    def __init__(self, bank: list[str]) -> None:
        angles = np.linspace(0.0, np.pi / 2, len(bank))
        self.table = {q: np.array([np.cos(a), np.sin(a), 0.0]) for q, a in zip(bank, angles)}

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        return np.array([self.table[text] for text in texts], dtype=np.float32)


def test_the_baseline_is_the_median_of_each_bank_questions_closest_passage(tmp_path: Path) -> None:
    """On a real store (Chroma in tmp_path) whose vectors and query vectors the test chooses."""
    store = VectorStore(Settings(docs_dir=tmp_path / "docs", store_dir=tmp_path / "store"))
    store.set_embedding(BankEmbedder.id)
    embedder = BankEmbedder(offtopic_bank())
    assert measure_baseline(embedder, store) is None  # an empty index
    passages = {"east": (1.0, 0.0, 0.0), "tilted": (0.6, 0.0, 0.8), "north": (0.0, 0.6, 0.8)}
    chunks = [Chunk(id=cid, source=f"{cid}.txt", start=0, end=3, text=cid) for cid in passages]
    vectors = np.array(list(passages.values()), dtype=np.float32)
    store.add(chunks, vectors, list(passages))
    tops = [max(float(v @ p) for p in vectors) for v in embedder.table.values()]
    found = measure_baseline(embedder, store)
    assert found is not None and found.questions == len(offtopic_bank())
    assert found.dense == pytest.approx(statistics.median(tops), abs=1e-4)
    second = [sorted(float(v @ p) for p in vectors)[-2] for v in embedder.table.values()]
    assert abs(statistics.median(second) - found.dense) > 0.1  # the closest passage counts
    other = VectorStore(Settings(docs_dir=tmp_path / "docs", store_dir=tmp_path / "other"))
    other.set_embedding("another-model")
    with pytest.raises(StoreError, match="holds another-model embeddings"):
        measure_baseline(embedder, other)  # never measured with another model's vectors


@pytest.mark.slow
def test_measured_on_a_real_index_it_is_the_banks_median_top_cosine(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "manual.txt").write_text(MANUAL, encoding="utf-8")
    settings = Settings(docs_dir=docs, store_dir=tmp_path / "store")
    rag.ingest(settings=settings)
    eng = api.engine(settings)
    embedder = api.shared_embedder(settings)
    tops = [eng.store.query(embedder.embed_query(q), 1, embedder.id)[0][1] for q in offtopic_bank()]
    baseline = measure_baseline(embedder, eng.store)
    assert baseline == CorpusBaseline(round(statistics.median(tops), 4), len(offtopic_bank()))
    assert api.dense_baseline(settings) == baseline.dense
    # The answer's confidence is the card's probability centred on this corpus's baseline.
    question = "What does the add_executable command add?"
    passages = rag.retrieve(question, settings=settings)
    best = judge(question, passages, shared_reader(), baseline.dense)[0]
    answer = rag.answer(question, settings=settings)
    dense = max(p.dense_score or 0.0 for p in passages)
    assert answer.confidence == round(
        shared_reader().probability(best.logit, dense, baseline.dense), 4
    )
    assert answer.confidence != round(shared_reader().probability(best.logit, dense), 4)


@pytest.mark.slow
def test_a_sync_that_changes_the_documents_measures_again(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "manual.txt").write_text(MANUAL, encoding="utf-8")
    settings = Settings(docs_dir=docs, store_dir=tmp_path / "store")
    rag.ingest(settings=settings)
    first = api.dense_baseline(settings)
    shutil.copy(Path(__file__).parents[1] / "seeds" / "000_f1c14fb623d5a113.txt", docs / "b.txt")
    rag.ingest(settings=settings)
    second = api.dense_baseline(settings)
    assert first is not None and second is not None and second != first
