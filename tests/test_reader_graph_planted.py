"""The reader's rewritten graph kept in the cache folder (rag/reader_graph.py ``rewritten``): a
copy per graph and norm fusion, one copy kept at a time, and a cache that cannot be written
passed by (the rewrite then done in memory, the reader still running the rewritten graph).

Tests written for deliberate bugs a review planted in rag/reader_graph.py that the suite let
through:

- the cache key without ``fused_norms`` (a graph rewritten for fused norms served to a session
  that does not fuse them);
- older copies no longer removed (the cache folder grows with each graph or code change);
- a store error of the cache's writing (``write_atomic`` raises ``StoreError``, a RagError)
  no longer caught: the reader then falls back to the shipped, slower graph.
"""

from __future__ import annotations

from pathlib import Path

from rag.reader import MODEL_DIR, Reader, load_card
from rag.reader_graph import LAST_LAYER, MASK, SHAPES, rewrite, rewritten

SHIPPED = MODEL_DIR / load_card().model_file
ALL = (MASK, SHAPES, LAST_LAYER)


def test_each_norm_fusion_gets_its_own_copy_and_one_copy_is_kept(tmp_path: Path) -> None:
    data = SHIPPED.read_bytes()
    fused = rewritten(data, True, tmp_path)
    assert fused == rewrite(data, True)
    unfused = rewritten(data, False, tmp_path)
    assert unfused == rewrite(data, False)
    assert unfused[0] != fused[0]
    # The fused copy was replaced by the unfused one: one graph and its steps.
    assert sorted(p.suffix for p in tmp_path.iterdir()) == [".json", ".onnx"]
    assert rewritten(data, False, tmp_path) == unfused  # read back from the cache


def test_a_cache_that_cannot_be_written_is_passed_by(tmp_path: Path) -> None:
    cache = tmp_path / "a-file"
    cache.write_text("not a folder", encoding="utf-8")
    data = SHIPPED.read_bytes()
    assert rewritten(data, True, cache) == rewrite(data, True)
    reader = Reader(cache=cache)
    reader.load()
    assert reader.rewrites == ALL
