"""The reader's graph, rewritten at load for single unpadded pairs (rag/reader_graph.py), gives
every logit the shipped graph gives with the same session options."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from rag.reader import MODEL_DIR, SKIP_NORM_FUSION, UNFUSED, Reader, load_card
from rag.reader_graph import LAST_LAYER, MASK, SHAPES, rewrite
from rag.reader_input import reader_pair

SQUAD = Path(__file__).resolve().parents[1] / "train" / "data" / "squad2-dev.json"
SHIPPED = MODEL_DIR / load_card().model_file


def validation_pairs(articles: int = 6) -> list[tuple[str, str]]:
    """Reader pairs from SQuAD 2.0 dev (a validation source, never an eval set): two questions of
    each paragraph against its first sentences, in context, as rag/answering.py builds them."""
    data = json.loads(SQUAD.read_text(encoding="utf-8"))["data"]
    pairs = []
    for article in data[:: len(data) // articles][:articles]:
        title = article["title"].replace("_", " ")
        for paragraph in article["paragraphs"][:4]:
            sentences = re.split(r"(?<=[.!?])\s+", paragraph["context"])
            for qa in paragraph["qas"][:2]:
                for i, sentence in enumerate(sentences[:4]):
                    before = sentences[i - 1] if i else ""
                    pairs.append(reader_pair(qa["question"], sentence, title=title, before=before))
    # The extremes: the shortest pair and one the tokenizer cuts at 128 tokens.
    long = " ".join(f"word{i} and more words" for i in range(200))
    return [*pairs, ("a", "b"), ("Who wrote the long one?", long)]


def run_alone(data: bytes, unfused: list[str], pairs: list[tuple[str, str]]) -> list[float]:
    """Each pair run alone on graph ``data`` with the reader's session options."""
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    options.log_severity_level = 3
    session = ort.InferenceSession(
        data, options, providers=["CPUExecutionProvider"], disabled_optimizers=unfused
    )
    out = []
    for encoding in Reader()._tokenizer.encode_batch(pairs):
        ids = np.asarray([encoding.ids], dtype=np.int64)
        types = np.asarray([encoding.type_ids], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": types}
        out.append(float(np.float32(np.asarray(session.run(None, feed)[0]).reshape(-1)[0])))
    return out


def test_the_reader_gives_the_shipped_graphs_logits() -> None:
    reader = Reader()
    reader.load()
    assert reader.rewrites == (MASK, SHAPES, LAST_LAYER)
    pairs = validation_pairs()
    assert len(pairs) > 150
    want = run_alone(SHIPPED.read_bytes(), UNFUSED, pairs)
    # Equal to the bit, as measured on these pairs and on 3,000 more: each rewrite leaves the
    # arithmetic of every value that reaches the logit as it was.
    assert reader.logits(pairs).tolist() == want
    assert max(want) - min(want) > 5  # real pairs: answers and non-answers


@pytest.mark.parametrize("unfused", [[], [SKIP_NORM_FUSION]])
def test_the_rewrite_keeps_the_logits_with_the_norms_fused_or_not(unfused: list[str]) -> None:
    data = SHIPPED.read_bytes()
    new, done = rewrite(data, fused_norms=SKIP_NORM_FUSION not in unfused)
    assert done == (MASK, SHAPES, LAST_LAYER)
    pairs = validation_pairs(articles=3)
    # The last norm computed another way than the session computes the others (fused or not)
    # moves logits by up to 1.4e-6 on these pairs, 7.5e-4 on 3,000 more; a change inside the
    # layers, by up to 0.1 (every layer's activations are quantised again).
    assert run_alone(new, unfused, pairs) == run_alone(data, unfused, pairs)


def test_the_rewrite_keeps_the_graphs_interface_and_cuts_work() -> None:
    import onnx

    data = SHIPPED.read_bytes()
    new, done = rewrite(data)
    assert done == (MASK, SHAPES, LAST_LAYER)
    before, after = onnx.load_from_string(data).graph, onnx.load_from_string(new).graph
    assert [i.name for i in after.input] == [i.name for i in before.input]
    assert [o.name for o in after.output] == [o.name for o in before.output]
    # The mask is no longer read, no Reshape target is computed, and the last layer's output
    # matmul reads the first token only.
    assert not any("attention_mask" in node.input for node in after.node)
    assert len(after.node) < len(before.node) // 2
    cut = [n for n in after.node if n.op_type == "MatMulInteger" and "first_token" in n.input[0]]
    assert len(cut) == 1 and "layer.3/output/dense" in cut[0].name
    # Rewriting again finds nothing more to do and changes nothing.
    again, repeated = rewrite(new)
    assert repeated == ()
    assert len(onnx.load_from_string(again).graph.node) == len(after.node)
