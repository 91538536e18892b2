"""The reader's graph, rewritten at load for single unpadded pairs (rag/reader_graph.py), gives
every logit the shipped graph gives with the same session options."""

from __future__ import annotations

import numpy as np
import pytest

from bench.reader_graph import feeds, session, validation_pairs
from rag.reader import MODEL_DIR, SKIP_NORM_FUSION, UNFUSED, Reader, load_card
from rag.reader_graph import LAST_LAYER, MASK, SHAPES, rewrite

SHIPPED = MODEL_DIR / load_card().model_file
# The extremes: the shortest pair and one the tokenizer cuts at 128 tokens.
EXTREMES = [("a", "b"), ("Who wrote the long one?", " ".join(f"w{i} and more" for i in range(200)))]


def run_alone(data: bytes, unfused: list[str], pairs: list[tuple[str, str]]) -> list[float]:
    """Each pair run alone on graph ``data`` with the reader's session options."""
    s = session(data, unfused)
    return [float(np.float32(s.run(None, feed)[0].reshape(-1)[0])) for feed in feeds(pairs)]


def test_the_reader_gives_the_shipped_graphs_logits() -> None:
    reader = Reader()
    reader.load()
    assert reader.rewrites == (MASK, SHAPES, LAST_LAYER)
    pairs = [*validation_pairs(), *EXTREMES]
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
    pairs = [*validation_pairs(articles=3), *EXTREMES]
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
