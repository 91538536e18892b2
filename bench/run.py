"""``rag bench`` / ``python -m bench``: speed of ingest, queries, re-sync and cold start.

Every figure is measured in this run, each beside its baseline; results go to bench/out/.

Usage: rag bench [--smoke] [--sizes 1000,10000,100000] [--embed-chunks 10000] [--repeat 1]
                 [--backend B] [--backends onnx,onnx-int8,torch,torch-bf16] [-n 50]
                 [--server-sizes 10000,100000] [--skip PARTS] [--out DIR]
       rag bench --load USERS [--load-questions 5] [--burst 100] [--load-chunks 2000]
                 [--catch-up-size 100000] [--page-queue]   (bench/load.py: the page under load)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from bench.corpus import CACHE, CLAPNQ, ROOT, SEEDS, synthetic

OUT = ROOT / "bench" / "out"
STORES = CACHE / "stores"
COLD_MODULES = ("rag", "chromadb", "onnxruntime", "tokenizers", "numpy", "torch",
                "sentence_transformers", "transformers", "sentencex", "bm25s")  # fmt: skip


def machine() -> dict[str, Any]:
    cpu = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        found = re.search(r"model name\s*:\s*(.+)", cpuinfo.read_text())
        cpu = found.group(1).strip() if found else ""
    mem_gib = 0.0
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        found = re.search(r"MemTotal:\s*(\d+)", meminfo.read_text())
        mem_gib = round(int(found.group(1)) / 1024**2, 1) if found else 0.0
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu or platform.processor(),
        "ram_gib": mem_gib,
        "python": platform.python_version(),
        "load_avg_1m_at_start": load,
    }


def worker(
    task: str, docs: Path, store: Path, *extra: str, env: dict[str, str] | None = None
) -> Any:
    """Run one measurement in a fresh process and return its JSON result."""
    command = [
        sys.executable,
        "-m",
        "bench.worker",
        task,
        "--docs",
        str(docs),
        "--store",
        str(store),
    ]
    result = subprocess.run(
        [*command, *extra],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"bench worker {task} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def fresh(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    return path


def ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a and b else None


def compare_ingest(name: str, docs: Path, env: dict[str, str], repeat: int = 1) -> dict[str, Any]:
    """Our ingest against the raw encode rate (ceiling) and the LangChain tutorial pipeline.

    With ``repeat`` > 1 the three alternate and each keeps its fastest run (a shared machine).
    """
    store = STORES / f"{name}-ours"
    runs: dict[str, list[Any]] = {"ours": [], "encode": [], "tutorial": []}
    for _ in range(repeat):
        runs["ours"].append(worker("ingest", docs, fresh(store), "--chars", env=env))
        runs["encode"].append(worker("encode", docs, store, env=env))
        tutorial_store = fresh(STORES / f"{name}-tutorial")
        runs["tutorial"].append(worker("tutorial-ingest", docs, tutorial_store, env=env))
    ours, encode, tutorial = (
        max(runs[part], key=lambda r: r["chunks_per_s"]) for part in ("ours", "encode", "tutorial")
    )
    return {
        "runs": repeat,
        "ours": ours,
        "encode": encode,
        "tutorial": tutorial,
        "ingest_vs_encode": ratio(ours["chunks_per_s"], encode["chunks_per_s"]),
        "ingest_vs_tutorial_chunks": ratio(ours["chunks_per_s"], tutorial["chunks_per_s"]),
        "ingest_vs_tutorial_chars": ratio(ours["chars_per_s"], tutorial["chars_per_s"]),
    }


def scale_case(chunks: int, n: int, env: dict[str, str], resync: bool) -> dict[str, Any]:
    """Ingest (stand-in passage vectors), queries and re-sync at one corpus size."""
    docs = synthetic(chunks)
    store = STORES / f"syn-{chunks}"
    case: dict[str, Any] = {"target_chunks": chunks}
    case["ingest"] = worker("ingest", docs, fresh(store), "--proxy", env=env)
    case["query"] = worker("query", docs, store, "-n", str(n), env=env)
    tutorial_store = fresh(STORES / f"syn-{chunks}-tutorial")
    case["tutorial_ingest"] = worker("tutorial-ingest", docs, tutorial_store, "--proxy", env=env)
    case["tutorial_query"] = worker("tutorial-query", docs, tutorial_store, "-n", str(n), env=env)
    case["answer_vs_tutorial_search_p50"] = ratio(
        case["query"]["answer"]["p50_ms"], case["tutorial_query"]["similarity_search"]["p50_ms"]
    )
    if resync:
        case["resync"] = worker("resync", docs, store, env=env)
    return case


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def chroma_server(info: dict[str, Any]) -> Iterator[str]:
    """A real ``chroma run`` on 127.0.0.1 (a free port, a temporary folder), stopped at the end;
    its peak RSS goes into ``info``."""
    chroma = str(Path(sys.executable).with_name("chroma"))
    with tempfile.TemporaryDirectory(prefix="rag-bench-chroma-") as data:
        port = free_port()
        log_path = Path(data) / "server.log"
        with log_path.open("w") as log:
            server = subprocess.Popen(
                [chroma, "run", "--path", f"{data}/db", "--host", "127.0.0.1", "--port", str(port)],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            try:
                deadline = time.monotonic() + 120
                while True:
                    try:
                        socket.create_connection(("127.0.0.1", port), timeout=1).close()
                        break
                    except OSError:
                        if server.poll() is not None or time.monotonic() > deadline:
                            raise RuntimeError(
                                f"chroma run did not start:\n{log_path.read_text()[-2000:]}"
                            ) from None
                        time.sleep(0.2)
                yield f"http://127.0.0.1:{port}"
                with suppress(OSError):
                    status = Path(f"/proc/{server.pid}/status").read_text()
                    found = re.search(r"VmHWM:\s*(\d+)", status)
                    if found:
                        info["server_peak_rss_mb"] = round(int(found.group(1)) / 1024, 1)
            finally:
                server.terminate()
                try:
                    server.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    server.kill()
                    server.wait()


def server_case(
    chunks: int, n: int, env: dict[str, str], url: str, compare: bool
) -> dict[str, Any]:
    """Server mode at one corpus size (stand-in passage vectors): ingest through a writer, and a
    new replica (empty store folder, no documents) answering its first questions; with
    ``compare``, answer() against a local store of the same folder in the same process."""
    docs = synthetic(chunks)
    remote = ("--chroma-url", url, "--collection", f"bench-{chunks}")
    store = STORES / f"syn-{chunks}-server"
    case: dict[str, Any] = {"target_chunks": chunks}
    case["ingest"] = worker("ingest", docs, fresh(store), "--proxy", *remote, env=env)
    if compare:
        local = STORES / f"syn-{chunks}"
        case["local_ingest"] = worker("ingest", docs, fresh(local), "--proxy", env=env)
        case["ingest_s_ratio"] = ratio(case["ingest"]["seconds"], case["local_ingest"]["seconds"])
        extra = ("--local-store", str(local), "-n", str(n))
        case["query"] = worker("server-query", docs, store, *extra, *remote, env=env)
    replica = fresh(STORES / f"syn-{chunks}-replica")
    case["replica"] = worker("replica", STORES / "no-docs", replica, *remote, env=env)
    return case


def cold_start(store: Path, docs: Path, env: dict[str, str], runs: int = 3) -> dict[str, Any]:
    """A fresh ``rag ask`` process, start to answer, with the import time broken out."""
    question = "what is a sapper in the canadian army"
    run_env = {**os.environ, **env, "RAG_STORE_DIR": str(store), "RAG_DOCS_DIR": str(docs)}
    command = [sys.executable, "-m", "rag", "ask", question]
    walls = []
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run(command, cwd=ROOT, env=run_env, capture_output=True, text=True)
        walls.append(time.perf_counter() - started)
        if done.returncode != 0:
            raise RuntimeError(f"rag ask failed:\n{done.stderr[-2000:]}")
    traced = subprocess.run(
        [sys.executable, "-X", "importtime", *command[1:]],
        cwd=ROOT,
        env=run_env,
        capture_output=True,
        text=True,
    )
    imports: dict[str, float] = {}
    total_us = 0
    for line in traced.stderr.splitlines():
        found = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
        if not found:
            continue
        cumulative, indent, module = int(found.group(2)), len(found.group(3)), found.group(4)
        if indent == 1:  # imported by the program itself, not by another module
            total_us += cumulative
            top = module.split(".")[0]
            if top in COLD_MODULES:
                imports[top] = round(imports.get(top, 0) + cumulative / 1e6, 3)
    median = statistics.median(walls)
    return {
        "wall_s": round(median, 3),
        "runs": [round(w, 3) for w in walls],
        "imports_s": round(total_us / 1e6, 3),
        "imports_by_module_s": imports,
        "after_imports_s": round(median - total_us / 1e6, 3),
        "answer_head": traced.stdout.strip().splitlines()[0][:80] if traced.stdout.strip() else "",
    }


def _p(figures: dict[str, Any]) -> str:
    return f"{figures['p50_ms']} / {figures['p95_ms']}"


def table(results: dict[str, Any]) -> str:
    rows: list[tuple[str, str]] = []

    def add(label: str, value: object) -> None:
        rows.append((label, "" if value is None else str(value)))

    for name, cmp in results.get("ingest", {}).items():
        ours, enc, tut = cmp["ours"], cmp["encode"], cmp["tutorial"]
        add(
            f"ingest {name}: ours ({ours['backend']})",
            f"{ours['chunks']} chunks {ours['seconds']} s = {ours['chunks_per_s']} chunks/s, "
            f"peak RSS {ours['peak_rss_mb']} MB",
        )
        add(f"ingest {name}: raw encode ({enc['backend']})", f"{enc['chunks_per_s']} chunks/s")
        add(
            f"ingest {name}: tutorial (torch, 1000/200)",
            f"{tut['chunks']} chunks {tut['seconds']} s = {tut['chunks_per_s']} chunks/s, "
            f"peak RSS {tut['peak_rss_mb']} MB",
        )
        add(
            f"ingest {name}: ratios",
            f"x{cmp['ingest_vs_encode']} of encode, x{cmp['ingest_vs_tutorial_chunks']} tutorial "
            f"chunks/s, x{cmp['ingest_vs_tutorial_chars']} tutorial chars/s",
        )
    for backend, enc in results.get("encode_backends", {}).items():
        add(f"raw encode {backend} (ClapNQ chunks)", f"{enc['chunks_per_s']} chunks/s")
    for case in results.get("scale", []):
        size = case["ingest"]["chunks"]
        ing, q, tq = case["ingest"], case["query"], case["tutorial_query"]
        add(
            f"{size} chunks: ingest (stand-in vectors)",
            f"{ing['seconds']} s = {ing['chunks_per_s']} chunks/s, "
            f"peak RSS {ing['peak_rss_mb']} MB",
        )
        add(f"{size} chunks: retrieve p50/p95 ms", _p(q["retrieve"]))
        add(f"{size} chunks: answer() p50/p95 ms", _p(q["answer"]))
        add(
            f"{size} chunks: tutorial similarity_search p50/p95 ms ({tq['chunks']} chunks)",
            _p(tq["similarity_search"]),
        )
        add(f"{size} chunks: query process peak RSS MB", q["peak_rss_mb"])
        if "resync" in case:
            rs = case["resync"]
            add(
                f"{size} chunks: re-sync unchanged / one file edited",
                f"{rs['unchanged_s']} s / {rs['one_file_edit_s']} s "
                f"({rs['one_file_edit_embedded']} chunks embedded)",
            )
    for case in results.get("server", {}).get("cases", []):
        size, ing, rep = case["ingest"]["chunks"], case["ingest"], case["replica"]
        ingest = f"{ing['seconds']} s = {ing['chunks_per_s']} chunks/s"
        if "local_ingest" in case:
            ingest += f" (local {case['local_ingest']['seconds']} s: x{case['ingest_s_ratio']})"
        add(f"{size} chunks server: ingest (stand-in vectors)", ingest)
        if "query" in case:
            q = case["query"]
            add(
                f"{size} chunks server: answer() p50/p95 ms, server | local",
                f"{_p(q['answer']['server'])} | {_p(q['answer']['local'])} "
                f"(x{q['p50_ratio']} p50, x{q['p95_ratio']} p95)",
            )
        add(
            f"{size} chunks server: new replica's first answer",
            f"{rep['first_answer_s']} s, next {rep['next_answer_ms']} ms: "
            f"+{rep['first_extra_s']} s",
        )
        add(
            f"{size} chunks server: cache rebuild",
            f"BM25 {rep['bm25_rebuild_s']} s, document list {rep['document_list_s']} s "
            f"({rep['documents']} documents), peak RSS {rep['peak_rss_mb']} MB",
        )
    if results.get("server", {}).get("server_peak_rss_mb"):
        add("chroma run peak RSS MB", results["server"]["server_peak_rss_mb"])
    for name, cold in results.get("cold_start", {}).items():
        add(
            f"cold start rag ask ({name})",
            f"{cold['wall_s']} s (imports {cold['imports_s']} s, rest {cold['after_imports_s']} s)",
        )
        modules = sorted(cold["imports_by_module_s"].items(), key=lambda item: -item[1])
        add(f"cold start imports ({name})", ", ".join(f"{m} {s} s" for m, s in modules))
    width = max(len(label) for label, _ in rows) if rows else 0
    return "\n".join(f"{label:<{width}}  {value}" for label, value in rows)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rag bench", description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="seeds + ~300 chunks, a minute")
    parser.add_argument("--sizes", default="1000,10000,100000", help="store sizes in chunks")
    parser.add_argument("--resync-size", type=int, default=10000)
    parser.add_argument(
        "--embed-chunks", type=int, default=10000, help="synthetic corpus for the ingest rates"
    )
    parser.add_argument(
        "--backends", default="onnx,onnx-int8,torch,torch-bf16", help="raw encode rates"
    )
    parser.add_argument("--backend", default=None, help="RAG_EMBED_BACKEND for our pipeline")
    parser.add_argument("-n", type=int, default=50, help="questions per query measurement")
    parser.add_argument("--repeat", type=int, default=1, help="ingest runs (fastest kept)")
    parser.add_argument(
        "--server-sizes",
        default=None,
        help="server mode (a chroma run of its own): store sizes in chunks; default "
        "10000,100000, none with --smoke",
    )
    parser.add_argument(
        "--server-query-size", type=int, default=10000, help="server mode: answer() vs local"
    )
    parser.add_argument("--skip", default="", help="comma list: ingest,encode,scale,server,cold")
    parser.add_argument("--out", type=Path, default=OUT)
    load = parser.add_argument_group("load (bench/load.py; --load runs only this part)")
    load.add_argument("--load", type=int, default=0, metavar="USERS", help="simulated users")
    load.add_argument("--load-questions", type=int, default=5, help="questions per user")
    load.add_argument("--burst", type=int, default=100, help="questions sent at once (0: none)")
    load.add_argument("--load-chunks", type=int, default=2000, help="corpus size in chunks")
    load.add_argument("--catch-up-size", type=int, default=100000, help="0: skip the replica")
    load.add_argument("--page-queue", action="store_true", help="the page's own queue values")
    return parser


def backend_env(backend: str) -> dict[str, str]:
    """``torch-bf16`` is the bulk runtime of the fp32 backends; the others run with it off."""
    if backend == "torch-bf16":
        return {"RAG_EMBED_BACKEND": "onnx", "RAG_EMBED_BULK": "auto"}
    return {"RAG_EMBED_BACKEND": backend, "RAG_EMBED_BULK": "off"}


def main_load(args: argparse.Namespace) -> int:
    from bench import load

    results: dict[str, Any] = {"machine": machine(), "started": time.time()}
    results["load"] = load.run(
        args.load,
        args.load_questions,
        args.burst,
        args.load_chunks,
        args.catch_up_size,
        args.page_queue,
    )
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"load-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(results, indent=2))
    print(load.table(results["load"]))
    print(f"\nwrote {path}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(list(argv or []))
    if args.load:
        return main_load(args)
    env = {"RAG_EMBED_BACKEND": args.backend} if args.backend else {}
    skip = set(filter(None, args.skip.split(",")))
    results: dict[str, Any] = {"machine": machine(), "smoke": args.smoke, "started": time.time()}
    results["command"] = "python -m bench " + " ".join(argv or [])
    if args.smoke:
        corpora = {"seeds": SEEDS}
        sizes, resync_size, n, backends = [300], 300, 10, []
        server_sizes = [int(s) for s in (args.server_sizes or "").split(",") if s]
        server_query_size = server_sizes[0] if server_sizes else 0
    else:
        corpora = {"seeds": SEEDS, "clapnq": CLAPNQ}
        if args.embed_chunks:
            corpora[f"syn-{args.embed_chunks}"] = synthetic(args.embed_chunks)
        sizes = [int(s) for s in args.sizes.split(",") if s]
        resync_size, n = args.resync_size, args.n
        server_sizes = [int(s) for s in (args.server_sizes or "10000,100000").split(",") if s]
        server_query_size = args.server_query_size
        backends = [b for b in args.backends.split(",") if b]
    started = time.perf_counter()
    if "ingest" not in skip:
        results["ingest"] = {}
        for name, docs in corpora.items():
            print(f"[bench] ingest comparison on {name}", file=sys.stderr, flush=True)
            results["ingest"][name] = compare_ingest(name, docs, env, args.repeat)
    if "encode" not in skip and backends:
        results["encode_backends"] = {}
        for backend in backends:
            print(f"[bench] raw encode {backend}", file=sys.stderr, flush=True)
            results["encode_backends"][backend] = worker(
                "encode", CLAPNQ, STORES / "encode", env={**env, **backend_env(backend)}
            )
    if "scale" not in skip:
        results["scale"] = []
        for size in sizes:
            print(f"[bench] scale {size} chunks", file=sys.stderr, flush=True)
            results["scale"].append(scale_case(size, n, env, resync=size == resync_size))
    if "server" not in skip and server_sizes:
        results["server"] = {"cases": []}
        with chroma_server(results["server"]) as url:
            for size in server_sizes:
                print(f"[bench] server mode {size} chunks", file=sys.stderr, flush=True)
                case = server_case(size, n, env, url, compare=size == server_query_size)
                results["server"]["cases"].append(case)
    if "cold" not in skip:
        print("[bench] cold start", file=sys.stderr, flush=True)
        docs = SEEDS if args.smoke else CLAPNQ
        store = STORES / ("seeds-ours" if args.smoke else "clapnq-ours")
        if not (store / "manifest.json").exists():
            worker("ingest", docs, fresh(store), env=env)
        results["cold_start"] = {"default": cold_start(store, docs, env)}
        if not args.smoke:  # the same store answered through sentence-transformers on torch
            torch_env = {**env, "RAG_EMBED_BACKEND": "torch"}
            if Path(store / "manifest.json").read_text().find('"all-MiniLM-L6-v2/fp32"') >= 0:
                results["cold_start"]["torch"] = cold_start(store, docs, torch_env)
    results["seconds"] = round(time.perf_counter() - started, 1)
    args.out.mkdir(parents=True, exist_ok=True)
    name = "smoke.json" if args.smoke else f"bench-{time.strftime('%Y%m%d-%H%M%S')}.json"
    (args.out / name).write_text(json.dumps(results, indent=2))
    print(table(results))
    print(f"\nwrote {args.out / name} ({results['seconds']} s)")
    return 0
