"""The benchmark's smoke run: it completes and reports sane figures (no timing thresholds).

Not in the default suite (opt in with ``RAG_TEST_BENCH=1`` or ``make bench-smoke``): it spent
89 s of every run checking that figures are positive, which no regression of the answer or
the store path makes false; timing ratios that could fail would flake with the load.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.cli import main
from tests.conftest import OPT_IN


def positive(value: object) -> bool:
    return isinstance(value, (int, float)) and value > 0


@pytest.mark.slow
@pytest.mark.skipif(not OPT_IN["RAG_TEST_BENCH"], reason="RAG_TEST_BENCH=1 (90 s)")
def test_smoke_run_writes_the_expected_figures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["bench", "--smoke", "--out", str(tmp_path)]) == 0
    results = json.loads((tmp_path / "smoke.json").read_text())
    assert results["smoke"] is True
    assert results["machine"]["nproc"] >= 1 and results["machine"]["ram_gib"] > 0

    seeds = results["ingest"]["seeds"]
    for part in ("ours", "encode", "tutorial"):
        assert positive(seeds[part]["chunks"]) and positive(seeds[part]["chunks_per_s"])
        assert positive(seeds[part]["peak_rss_mb"])
    assert seeds["ours"]["embedded"] == seeds["ours"]["chunks"]
    for key in ("ingest_vs_encode", "ingest_vs_tutorial_chunks", "ingest_vs_tutorial_chars"):
        assert positive(seeds[key])

    (case,) = results["scale"]
    assert 200 <= case["ingest"]["chunks"] <= 400
    assert case["query"]["chunks"] == case["ingest"]["chunks"]
    for name in ("retrieve", "answer"):
        figures = case["query"][name]
        assert 0 < figures["p50_ms"] <= figures["p95_ms"] and figures["n"] == 10
    assert positive(case["tutorial_query"]["similarity_search"]["p50_ms"])
    resync = case["resync"]
    assert resync["unchanged_changed_files"] == 0 and positive(resync["unchanged_s"])
    assert positive(resync["one_file_edit_s"]) and resync["one_file_edit_embedded"] >= 1

    cold = results["cold_start"]["default"]
    assert positive(cold["wall_s"]) and 0 < cold["imports_s"] < cold["wall_s"]
    assert "chromadb" in cold["imports_by_module_s"]
    assert "torch" not in cold["imports_by_module_s"]  # the ONNX backend never imports torch

    table = capsys.readouterr().out
    assert "answer() p50/p95 ms" in table and "cold start rag ask" in table
