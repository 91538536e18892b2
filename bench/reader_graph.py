"""What one reader pair costs on each form of the reader's graph, and whether its logit moved.

    python -m bench.reader_graph                  # 300 pairs, each form 7 times in turn
    python -m bench.reader_graph --ops            # also ONNX Runtime's time per operator type

The pairs are built from SQuAD 2.0 dev (train/data/, a validation source, never an eval set) as
rag/answering.py builds them. Every pair runs alone on a one-thread session, as rag/reader.py
runs it; the forms run in turn, so the load of the machine falls on all of them alike:

- ``shipped``: the graph as shipped, ONNX Runtime's fusions all on (the reader before);
- ``rewritten``: rag/reader_graph.py's rewrites, fusions all on;
- ``reader``: the rewrites and the session rag/reader.py opens (``UNFUSED`` left out).

For each: min and median milliseconds per pair over the repeats, and the largest difference of
a logit from ``shipped``'s.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SQUAD = ROOT / "train" / "data" / "squad2-dev.json"


def validation_pairs(articles: int = 6, per_paragraph: int = 4) -> list[tuple[str, str]]:
    """Reader pairs from SQuAD 2.0 dev: two questions of each paragraph against its first
    sentences (``per_paragraph``), in context, as rag/answering.py builds them."""
    from rag.reader_input import reader_pair

    data = json.loads(SQUAD.read_text(encoding="utf-8"))["data"]
    pairs = []
    for article in data[:: max(len(data) // articles, 1)][:articles]:
        title = article["title"].replace("_", " ")
        for paragraph in article["paragraphs"][:per_paragraph]:
            sentences = re.split(r"(?<=[.!?])\s+", paragraph["context"])
            for qa in paragraph["qas"][:2]:
                for i, sentence in enumerate(sentences[:4]):
                    before = sentences[i - 1] if i else ""
                    pairs.append(reader_pair(qa["question"], sentence, title=title, before=before))
    return pairs


def session(data: bytes, unfused: Sequence[str], profile: str = "") -> Any:
    """A session as rag/reader.py opens one (one thread), on graph ``data``."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    options.log_severity_level = 3
    if profile:
        options.enable_profiling = True
        options.profile_file_prefix = profile
    return ort.InferenceSession(
        data, options, providers=["CPUExecutionProvider"], disabled_optimizers=list(unfused)
    )


def forms() -> dict[str, tuple[bytes, list[str]]]:
    from rag.reader import MODEL_DIR, SKIP_NORM_FUSION, UNFUSED, load_card
    from rag.reader_graph import rewrite

    shipped = (MODEL_DIR / load_card().model_file).read_bytes()
    return {
        "shipped": (shipped, []),
        "rewritten": (rewrite(shipped)[0], []),
        "reader": (rewrite(shipped, fused_norms=SKIP_NORM_FUSION not in UNFUSED)[0], UNFUSED),
    }


def feeds(pairs: list[tuple[str, str]]) -> list[dict[str, np.ndarray]]:
    from rag.reader import Reader

    out = []
    for encoding in Reader()._tokenizer.encode_batch(pairs):
        ids = np.asarray([encoding.ids], dtype=np.int64)
        types = np.asarray([encoding.type_ids], dtype=np.int64)
        out.append({"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": types})
    return out


def measure(pairs: int, repeats: int, ops: bool) -> str:
    inputs = feeds(validation_pairs(articles=40)[:pairs])
    sessions = {name: session(data, unfused) for name, (data, unfused) in forms().items()}
    logits = {
        name: np.asarray([s.run(None, feed)[0].reshape(-1)[0] for feed in inputs])
        for name, s in sessions.items()
    }
    times: dict[str, list[float]] = {name: [] for name in sessions}
    for _ in range(repeats):
        for name, s in sessions.items():
            start = time.perf_counter()
            for feed in inputs:
                s.run(None, feed)
            times[name].append((time.perf_counter() - start) * 1000 / len(inputs))
    tokens = statistics.mean(f["input_ids"].shape[1] for f in inputs)
    lines = [
        f"{len(inputs)} pairs of {tokens:.1f} tokens on average, {repeats} repeats, load average "
        f"{os.getloadavg()[0]:.1f}",
        f"{'form':10} {'min ms':>7} {'median ms':>9} {'max |logit - shipped|':>22}",
    ]
    for name, values in times.items():
        moved = float(np.abs(logits[name] - logits["shipped"]).max())
        lines.append(f"{name:10} {min(values):7.3f} {statistics.median(values):9.3f} {moved:22.2e}")
    if ops:
        lines.append(operators(inputs))
    return "\n".join(lines)


def operators(inputs: list[dict[str, np.ndarray]]) -> str:
    """ONNX Runtime's own profile: ms per pair by operator type (the profiler's overhead
    inflates the small operators; the shares are what to read)."""
    lines = []
    with tempfile.TemporaryDirectory() as folder:
        for name, (data, unfused) in forms().items():
            s = session(data, unfused, profile=str(Path(folder) / name))
            for feed in inputs:
                s.run(None, feed)
            events = json.loads(Path(s.end_profiling()).read_text(encoding="utf-8"))
            spent: collections.Counter[str] = collections.Counter()
            for event in events:
                if event.get("cat") == "Node" and event["name"].endswith("_kernel_time"):
                    spent[event["args"]["op_name"]] += event["dur"]
            total = sum(spent.values())
            top = ", ".join(
                f"{op} {us / len(inputs) / 1000:.3f} ({us / total:.0%})"
                for op, us in spent.most_common(8)
            )
            lines.append(f"{name}: {total / len(inputs) / 1000:.3f} ms per pair in kernels: {top}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.reader_graph")
    parser.add_argument("--pairs", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--ops", action="store_true", help="ONNX Runtime's time per operator")
    args = parser.parse_args(argv)
    print(measure(args.pairs, args.repeats, args.ops), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
