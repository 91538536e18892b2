"""reader.json is checked at load: values no refusal can be decided with, and a model file whose
sha256 differs from the card's, are one-line ConfigErrors that say how to fix them."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Any

import pytest

from rag.errors import ConfigError
from rag.reader import MODEL_DIR, Reader, ReaderCard, card_problem, load_card


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    out = tmp_path / "reader_model"
    shutil.copytree(MODEL_DIR, out)
    return out


def _edit(folder: Path, change: dict[str, Any], calibration: dict[str, Any] | None = None) -> None:
    path = folder / "reader.json"
    raw = json.loads(path.read_text())
    raw.update(change)
    raw["calibration"].update(calibration or {})
    # json.dumps writes NaN and Infinity, as a hand edit or another tool could.
    path.write_text(json.dumps(raw))


def test_the_shipped_card_loads_and_its_model_matches_its_sha256(folder: Path) -> None:
    card = load_card(folder)
    assert card == load_card(MODEL_DIR)
    reader = Reader(folder)
    reader.load()
    assert reader.logits([("q", "s")]).shape == (1,)


@pytest.mark.parametrize(
    ("change", "calibration", "message"),
    [
        ({"threshold": float("nan")}, {}, r"threshold is nan, it must be a finite number"),
        ({"threshold": -5}, {}, r"threshold is -5\.0, it must be a probability from 0 to 1"),
        ({"threshold": 1.5}, {}, r"threshold is 1\.5, it must be a probability from 0 to 1"),
        ({"threshold": float("inf")}, {}, r"threshold is inf, it must be a finite number"),
        ({}, {"scale": float("nan")}, r"calibration\.scale is nan, it must be a finite number"),
        ({}, {"scale": 0}, r"calibration\.scale is 0\.0, it must be above 0"),
        ({}, {"scale": -1}, r"calibration\.scale is -1\.0, it must be above 0"),
        ({}, {"bias": float("-inf")}, r"calibration\.bias is -inf, it must be a finite number"),
        ({}, {"dense": float("nan")}, r"calibration\.dense is nan, it must be a finite number"),
        ({"sha256": "abc"}, {}, r"sha256 'abc' must be 64 lower-case hex digits"),
        ({"model_file": "../x.onnx"}, {}, r"model_file '\.\./x\.onnx' must be a file name"),
        ({"model_file": ""}, {}, r"model_file '' must be a file name"),
    ],
)
def test_a_value_no_refusal_can_be_decided_with_is_refused_at_load(
    folder: Path, change: dict[str, Any], calibration: dict[str, Any], message: str
) -> None:
    _edit(folder, change, calibration)
    with pytest.raises(ConfigError, match=message) as caught:
        load_card(folder)
    text = str(caught.value)
    assert "\n" not in text
    assert str(folder / "reader.json") in text and text.endswith("python -m train.")


@pytest.mark.parametrize(
    "raw",
    [
        "{",
        "[]",
        json.dumps({"model_file": "m.onnx", "sha256": "0" * 64, "threshold": 0.3}),
        json.dumps(
            {"model_file": "m.onnx", "sha256": "0" * 64, "threshold": "x", "calibration": {}}
        ),
        json.dumps({"model_file": "m", "sha256": "0" * 64, "threshold": 0.3, "calibration": 1}),
    ],
)
def test_a_damaged_card_says_how_to_rebuild(folder: Path, raw: str) -> None:
    (folder / "reader.json").write_text(raw)
    with pytest.raises(ConfigError, match=r"missing or damaged: reinstall .*python -m train\.$"):
        load_card(folder)


def test_a_model_file_that_is_not_the_cards_is_refused(folder: Path) -> None:
    """The model is intact and loadable: only the sha256 check stands between it and use."""
    card = load_card(folder)
    other = "f" * 64 if card.sha256 != "f" * 64 else "e" * 64
    _edit(folder, {"sha256": other})
    with pytest.raises(ConfigError, match=r"damaged \(its sha256 does not match reader\.json\)"):
        Reader(folder).load()


# ---------------------------------------------------------------- found by mutation testing


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def test_a_raw_dense_card_adds_the_dense_term_uncentred_and_dense_defaults_to_zero() -> None:
    card = ReaderCard("m.onnx", "0" * 64, scale=0.5, bias=-1.0, threshold=0.4, dense_weight=5.0)
    assert card.probability(1.0) == pytest.approx(_sigmoid(0.5 - 1.0))
    assert card.probability(1.0, 0.3) == pytest.approx(_sigmoid(0.5 + 5.0 * 0.3 - 1.0))


def test_the_reader_passes_dense_and_the_corpus_baseline_to_its_card() -> None:
    reader = Reader()  # reads reader.json only: the model is not loaded
    card = reader.card
    assert card.dense_weight != 0.0 and card.baseline_range is not None
    low, high = card.baseline_range
    inside = (low + high) / 2 if card.dense_baseline != (low + high) / 2 else low
    assert reader.probability(0.7) == card.probability(0.7, 0.0, None)
    assert reader.probability(0.7, 0.4) == card.probability(0.7, 0.4, None)
    assert reader.probability(0.7, 0.4, inside) == card.probability(0.7, 0.4, inside)
    assert reader.probability(0.7, 0.4, inside) != reader.probability(0.7, 0.4)


def _problem(**change: Any) -> str:
    fields: dict[str, Any] = {
        "model_file": "m.onnx",
        "sha256": "0" * 64,
        "scale": 1.0,
        "bias": 0.0,
        "threshold": 0.5,
    }
    fields.update(change)
    return card_problem(ReaderCard(**fields))


@pytest.mark.parametrize("name", ["sub/m.onnx", ".m.onnx", "../m.onnx"])
def test_the_model_file_is_a_plain_visible_name_in_the_folder(name: str) -> None:
    assert _problem(model_file=name).startswith(f"model_file {name!r} must be a file name")


def test_the_sha256_is_hex_digits_only() -> None:
    assert _problem(sha256="X" * 64).startswith("sha256")
    assert _problem(sha256="A" * 64).startswith("sha256")  # lower case only
    assert _problem(sha256="0123456789abcdef" * 4) == ""


@pytest.mark.parametrize("baseline", [-1.0, 1.0, 0.0, None])
def test_a_dense_baseline_from_minus_one_to_one_is_accepted(baseline: float | None) -> None:
    assert _problem(dense_baseline=baseline) == ""


@pytest.mark.parametrize("baseline", [-1.5, 1.5, float("nan")])
def test_a_dense_baseline_outside_minus_one_to_one_is_refused(baseline: float) -> None:
    assert _problem(dense_baseline=baseline).startswith(
        f"calibration.dense_baseline is {baseline}, it must be a cosine from -1 to 1"
    )


@pytest.mark.parametrize("bounds", [(-1.0, 1.0), (0.2, 0.2)])
def test_a_baseline_range_of_two_ordered_cosines_is_accepted(bounds: tuple[float, float]) -> None:
    assert _problem(dense_baseline=0.2, baseline_range=bounds) == ""


def test_a_baseline_range_above_one_is_refused_with_the_rule() -> None:
    assert _problem(dense_baseline=0.2, baseline_range=(0.1, 1.5)) == (
        "calibration.baseline_range is [0.1, 1.5], it must be two cosines from -1 to 1, the"
        " lower first"
    )


@pytest.mark.parametrize("threshold", [0.0, 1.0])
def test_a_threshold_of_zero_or_one_is_a_probability(threshold: float) -> None:
    assert _problem(threshold=threshold) == ""


def test_a_card_without_a_dense_term_weighs_dense_zero(folder: Path) -> None:
    path = folder / "reader.json"
    raw = json.loads(path.read_text())
    del raw["calibration"]["dense"]
    path.write_text(json.dumps(raw))
    card = load_card(folder)
    assert card.dense_weight == 0.0
    assert card.probability(1.0, 0.9) == card.probability(1.0, -0.9)
