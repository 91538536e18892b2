"""reader.json is checked at load: values no refusal can be decided with, and a model file whose
sha256 differs from the card's, are one-line ConfigErrors that say how to fix them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from rag.errors import ConfigError
from rag.reader import MODEL_DIR, Reader, load_card


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
