"""The reader's graph, rewritten at load for single unpadded pairs (rag/reader_graph.py), gives
every logit the shipped graph gives with the same session options."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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


def test_the_rewritten_graph_is_kept_and_a_later_process_loads_it_without_onnx(
    tmp_path: Path,
) -> None:
    pairs = [*validation_pairs(articles=2), *EXTREMES]
    first = Reader(cache=tmp_path)
    want = first.logits(pairs).tolist()
    kept = sorted(p.suffix for p in tmp_path.iterdir())
    assert kept == [".json", ".onnx"]
    # A new process finds it: no rewrite, so no `import onnx` (0.5 s of a reader's first load).
    script = (
        "import sys; from pathlib import Path; from rag.reader import Reader; "
        "r = Reader(cache=Path(sys.argv[1])); r.load(); print(r.rewrites, 'onnx' in sys.modules)"
    )
    run = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, check=True
    )
    assert run.stdout.strip() == "('mask', 'shapes', 'last layer') False"
    # A damaged copy is replaced: the graph is rewritten and kept again, the logits the same.
    graph = next(tmp_path.glob("*.onnx"))
    whole = graph.read_bytes()
    graph.write_bytes(whole[:1000])
    again = Reader(cache=tmp_path)
    assert again.logits(pairs).tolist() == want
    assert again.rewrites == (MASK, SHAPES, LAST_LAYER)
    assert graph.read_bytes() == whole


def test_a_rewrite_that_fails_leaves_the_shipped_graph_running(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The rewrite only saves time: a failure in it (a new onnx, a pattern it did not expect)
    must not take the reader down, and the shipped graph gives the same logits."""

    def broken(*args: object, **kwargs: object) -> tuple[bytes, tuple[str, ...]]:
        raise ValueError("unexpected node")

    monkeypatch.setattr("rag.reader.rewritten", broken)
    reader = Reader(cache=tmp_path)
    reader.load()
    assert reader.rewrites == ()
    assert "unexpected node" in caplog.text
    want = run_alone(SHIPPED.read_bytes(), UNFUSED, EXTREMES)
    assert reader.logits(EXTREMES).tolist() == want
