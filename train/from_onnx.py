"""Rebuild a torch reader from the shipped int8 ONNX file (no torch checkpoint of it is kept).

The int8 file holds each MatMul weight as int8 with a per-column scale (zero point 0) and the
embeddings as uint8 with one scale and zero point; the norms and biases are float. Dequantised
into the training architecture (train/fit.py ``base_model``: all-MiniLM-L6-v2 cut to 4 layers,
one logit), the model computes the shipped logits up to the int8 activation rounding, so a
later training stage can start from it (``FitConfig.init``).

    python -m train.from_onnx [target]   # default train/out/shipped/final, then a logit check
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from rag.reader import MODEL_DIR

TARGET = Path(__file__).parent / "out" / "shipped" / "final"


def _param_name(node_name: str) -> str:
    """'/inner/bert/encoder/layer.0/attention/self/query/MatMul_quant' ->
    'bert.encoder.layer.0.attention.self.query.weight'; the pooler's and the head's Gemm too."""
    path = node_name.removeprefix("/inner/").rsplit("/", 1)[0]
    return path.replace("/", ".") + ".weight"


def dequantised(onnx_path: Path) -> dict[str, np.ndarray]:
    """Every weight of the int8 file as float32, under the torch model's parameter names."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(onnx_path))
    init = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}

    def deq(prefix: str) -> np.ndarray:
        q = init[f"{prefix}_quantized"].astype(np.float32)
        zero = init[f"{prefix}_zero_point"].astype(np.float32)
        return (q - zero) * init[f"{prefix}_scale"].astype(np.float32)

    out: dict[str, np.ndarray] = {}
    for name, value in init.items():
        quantisation = name.endswith(("_scale", "_zero_point", "_quantized"))
        if name.startswith("inner.") and value.dtype == np.float32 and not quantisation:
            out[name.removeprefix("inner.")] = value  # norms and biases, kept as float
        elif name.startswith("inner.") and value.ndim == 0 and name.endswith("_scale"):
            prefix = name.removesuffix("_scale")
            if prefix.endswith(".weight"):  # an embedding table (uint8, per tensor)
                out[prefix.removeprefix("inner.")] = deq(prefix)
    for node in model.graph.node:
        if node.op_type != "MatMulInteger" or not node.input[1].endswith("_quantized"):
            continue
        prefix = node.input[1].removesuffix("_quantized")
        # ONNX multiplies x @ W (in, out); a torch Linear holds W as (out, in).
        out[_param_name(node.name)] = deq(prefix).T.copy()
    return out


def rebuild(onnx_path: Path = MODEL_DIR / "model-int8.onnx", target: Path = TARGET) -> Path:
    import torch

    from train.fit import base_model

    weights = dequantised(onnx_path)
    model, tokenizer = base_model(4)
    state = model.state_dict()
    missing = [k for k in state if k not in weights and not k.endswith("position_ids")]
    unknown = [k for k in weights if k not in state]
    if missing or unknown:
        raise ValueError(f"weights not matched: missing {missing}, unknown {unknown}")
    for name, value in weights.items():
        if tuple(state[name].shape) != value.shape:
            raise ValueError(f"{name}: {tuple(state[name].shape)} vs {value.shape}")
        state[name] = torch.from_numpy(value)
    model.load_state_dict(state)
    model.eval()
    target.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(target)
    tokenizer.save_pretrained(target)
    return target


def check(final: Path, val_path: Path, groups: int = 40) -> dict[str, Any]:
    """The rebuilt model's logits against the shipped int8 file's, on validation pairs."""
    import torch
    from sklearn.metrics import roc_auc_score
    from transformers import AutoTokenizer, BertForSequenceClassification

    from rag.reader import Reader
    from train.export import validation_groups
    from train.fit import encode

    rows = validation_groups(val_path)
    step = max(1, len(rows) // groups)
    pairs = [p for g in rows[::step][:groups] for p in g["pairs"]]
    model = BertForSequenceClassification.from_pretrained(str(final), local_files_only=True).eval()  # type: ignore[no-untyped-call]
    tokenizer = AutoTokenizer.from_pretrained(str(final), local_files_only=True)
    torch_logits = []
    with torch.no_grad():
        for i in range(0, len(pairs), 32):
            batch = pairs[i : i + 32]
            torch_logits.append(model(**encode(tokenizer, batch)).logits.squeeze(-1).numpy())
    ours = np.concatenate(torch_logits)
    reader = Reader(MODEL_DIR)
    shipped = np.concatenate(
        [reader.logits([(a, b) for a, b, _ in pairs[i : i + 32]]) for i in range(0, len(pairs), 32)]
    )
    labels = [label for _, _, label in pairs]
    diff = np.abs(ours - shipped)
    return {
        "pairs": len(pairs),
        "max_abs_diff": round(float(diff.max()), 4),
        "mean_abs_diff": round(float(diff.mean()), 4),
        "logit_std": round(float(shipped.std()), 4),
        "auroc_rebuilt": round(float(roc_auc_score(labels, ours)), 4),
        "auroc_shipped": round(float(roc_auc_score(labels, shipped)), 4),
    }


if __name__ == "__main__":
    from rag.config import apply_offline_env
    from train.data import OUT

    apply_offline_env()
    folder = rebuild(target=Path(sys.argv[1]) if len(sys.argv) > 1 else TARGET)
    print(json.dumps(check(folder, OUT / "groups-val.jsonl"), indent=2))
