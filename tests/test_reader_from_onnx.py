"""train/from_onnx.py: the shipped int8 reader dequantised under the training model's names, each
weight in a torch Linear's (out, in) layout, so a later stage can start from it."""

from __future__ import annotations

import numpy as np

from rag.reader import MODEL_DIR
from train.from_onnx import dequantised


def test_every_weight_of_the_int8_file_gets_its_torch_name_and_shape() -> None:
    weights = dequantised(MODEL_DIR / "model-int8.onnx")
    hidden, inner = 384, 1536
    expected = {
        "bert.embeddings.word_embeddings.weight": (30522, hidden),
        "bert.embeddings.position_embeddings.weight": (512, hidden),
        "bert.embeddings.token_type_embeddings.weight": (2, hidden),
        "bert.embeddings.LayerNorm.weight": (hidden,),
        "bert.pooler.dense.weight": (hidden, hidden),
        "classifier.weight": (1, hidden),
        "classifier.bias": (1,),
    }
    for i in range(4):
        layer = f"bert.encoder.layer.{i}"
        for name in ("attention.self.query", "attention.self.key", "attention.self.value"):
            expected[f"{layer}.{name}.weight"] = (hidden, hidden)
        expected[f"{layer}.attention.output.dense.weight"] = (hidden, hidden)
        expected[f"{layer}.intermediate.dense.weight"] = (inner, hidden)
        expected[f"{layer}.output.dense.weight"] = (hidden, inner)
    assert not [k for k in weights if "layer.4" in k or k.endswith(("_scale", "_zero_point"))]
    for name, shape in expected.items():
        assert weights[name].shape == shape, name
        assert weights[name].dtype == np.float32
    # 4 layers x 16 tensors, 5 embedding tensors, the pooler's 2 and the head's 2.
    assert len(weights) == 4 * 16 + 5 + 2 + 2
    # Dequantised, not raw int8: small real values, zero near the middle of the embeddings.
    assert float(np.abs(weights["bert.encoder.layer.0.attention.self.query.weight"]).max()) < 5
    assert abs(float(np.median(weights["bert.embeddings.word_embeddings.weight"]))) < 0.05
