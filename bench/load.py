"""``rag bench --load USERS``: the chat page under many users at once (issue 21).

The real Gradio app runs in a subprocess on a free 127.0.0.1 port; simulated users ask through
its own HTTP API (gradio_client, the ``/ask`` endpoint the page calls). Measured in one run:

- ``users``: USERS users, each asking ``--load-questions`` questions one after another;
- ``burst``: ``--burst`` questions sent at the same moment (each its own client);
- ``in_process``: ``rag.answer()`` one question after another in this process (the throughput
  the page is compared with) and ``rag.retrieve()`` on the same questions;
- ``catch_up``: a replica's BM25 cache after a one-file sync elsewhere, caught up row by row
  against a full rebuild, at ``--catch-up-size`` chunks (in-process, texts at hand: the cost of
  reading the changed chunks from the server is not in it).

Usage: python -m bench.load serve --port P  (the page as the bench runs it; see ``serve``)
"""

from __future__ import annotations

import argparse
import functools
import os
import ssl
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench.corpus import CACHE, ROOT, questions, synthetic
from bench.run import free_port

STORES = CACHE / "stores"
QUEUE_FULL = "queue is full"
POLL_SECONDS = 1.0  # ui/app.py's TICK_SECONDS: each open tab polls the page this often


def figures(samples: list[float]) -> dict[str, float]:
    if not samples:
        return {"n": 0}
    s = np.array(samples)
    return {
        "n": len(samples),
        "p50_s": round(float(np.percentile(s, 50)), 3),
        "p95_s": round(float(np.percentile(s, 95)), 3),
        "max_s": round(float(s.max()), 3),
    }


# -- the page ----------------------------------------------------------------------------------


def serve(port: int, settings_queue: bool) -> int:
    """Serve the page as ``rag ui --no-sync`` does. ``settings_queue``: its chat concurrency and
    queue bound from ``Settings`` (RAG_CHAT_CONCURRENCY, RAG_QUEUE_SIZE) - what ui/app.py does
    once it calls ``app.queue(**settings.queue_options())`` - instead of the page's own."""
    from rag.config import Settings
    from ui.app import create_app
    from ui.app import serve as serve_app

    settings = Settings.from_env()
    app = create_app(settings)
    if settings_queue:
        for fn in app.fns.values():
            if fn.concurrency_id == "chat":
                fn.concurrency_limit = settings.chat_concurrency
        app.queue(**settings.queue_options())
    url = serve_app(app, settings, "127.0.0.1", port)
    queue = app._queue
    print(
        f"Ask your documents at {url} (queue max_size {queue.max_size}, chat concurrency "
        f"{next(f.concurrency_limit for f in app.fns.values() if f.concurrency_id == 'chat')})",
        flush=True,
    )
    app.block_thread()
    return 0


class Page:
    """The page in a subprocess, on a free port; stopped by ``close``."""

    def __init__(self, env: dict[str, str], settings_queue: bool) -> None:
        self.port = free_port()
        self.log = (CACHE / f"page-{self.port}.log").open("w")
        args = [sys.executable, "-m", "bench.load", "serve", "--port", str(self.port)]
        if not settings_queue:
            args.append("--page-queue")
        self.process = subprocess.Popen(
            args,
            env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
            stdout=self.log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
        self.url = f"http://127.0.0.1:{self.port}/"
        deadline = time.monotonic() + 300
        path = Path(self.log.name)
        while "Ask your documents at" not in path.read_text():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise RuntimeError(f"the page did not start:\n{path.read_text()[-3000:]}")
            time.sleep(0.3)
        self.banner = path.read_text().strip().splitlines()[-1]

    def cpu_s(self) -> float:
        """CPU seconds (user + system) the page process has used so far."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The certificate store every simulated user shares, loaded once."""
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


def client(url: str) -> Any:
    """One simulated user: a gradio_client ``Client`` (its own session, heartbeat and event
    stream, as a browser tab has).

    gradio_client opens a new httpx client for each request it sends, and httpx loads the
    certificate store into a new TLS context for each one (about 20 ms of CPU, even for
    http://): a browser loads it once. The users share one context, loaded once; what they send
    and receive is unchanged.
    """
    from gradio_client import Client

    # A page in a browser tab waits as long as the answer takes; gradio_client's own 20 s read
    # timeout would count a slow answer as a failure.
    return Client(url, verbose=False, ssl_verify=tls_context(), httpx_kwargs={"timeout": 600.0})


def ask(page_client: Any, question: str) -> tuple[float, str | None]:
    """One question through ``/ask``: seconds, and the error text (None when answered)."""
    started = time.perf_counter()
    try:
        result = page_client.predict(question, 5, "hybrid", "extractive", api_name="/ask")
    except Exception as exc:  # the client raises its own errors ("Queue is full", timeouts)
        return time.perf_counter() - started, str(exc) or type(exc).__name__
    seconds = time.perf_counter() - started
    messages = result[0]
    answered = bool(messages) and messages[-1].get("role") == "assistant"
    return seconds, None if answered else f"no answer in the reply: {str(result)[:200]}"


class Tab:
    """One simulated user as a browser tab: its questions through ``/ask`` (``client``), and
    what the page's own script sends besides: the indexing state polled each second (``poll``).
    (The conversation the browser keeps comes with each answer's last update.)"""

    def __init__(self, url: str) -> None:
        import httpx

        self.url = url
        self.client = client(url)
        dependencies = self.client.config["dependencies"]
        self.poll = next(d for d in dependencies if any(t[1] == "tick" for t in d["targets"]))
        self.http = httpx.Client(verify=tls_context(), timeout=600.0)
        self.closed = threading.Event()
        self.poll_errors: list[str] = []
        self.polls = 0

    def send(self, event: dict[str, Any]) -> None:
        """One of the page's own events, as its script posts it (no queue)."""
        body = {
            "fn_index": event["id"],
            "data": [None] * len(event["inputs"]),
            "session_hash": self.client.session_hash,
        }
        self.http.post(self.url + "gradio_api/run/predict", json=body).raise_for_status()

    def ask(self, question: str) -> tuple[float, str | None]:
        """A question, timed until its answer."""
        return ask(self.client, question)

    def keep_polling(self) -> None:
        while not self.closed.wait(POLL_SECONDS):
            try:
                self.send(self.poll)
                self.polls += 1
            except Exception as exc:
                self.poll_errors.append(str(exc) or type(exc).__name__)


def run_clients(
    tabs: list[Tab], work: Callable[[int, Tab], list[tuple[float, str | None]]]
) -> tuple[list[tuple[float, str | None]], float]:
    """Run ``work(i, tab)`` for every tab at once, each tab polling meanwhile; every result and
    the wall time."""
    results: list[list[tuple[float, str | None]]] = [[] for _ in tabs]
    start = threading.Barrier(len(tabs) + 1)

    def one(i: int) -> None:
        start.wait()
        results[i] = work(i, tabs[i])

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(tabs))]
    polls = [threading.Thread(target=tab.keep_polling, daemon=True) for tab in tabs]
    for thread in threads + polls:
        thread.start()
    start.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    for tab in tabs:
        tab.closed.set()
    return [r for rs in results for r in rs], wall


def summary(
    results: list[tuple[float, str | None]], wall: float, tabs: Sequence[Tab] = ()
) -> dict[str, Any]:
    answered = [s for s, error in results if error is None]
    errors = [error for _, error in results if error is not None]
    errors += [f"poll: {error}" for tab in tabs for error in tab.poll_errors]
    full = sum(1 for e in errors if QUEUE_FULL in e.lower())
    return {
        "asked": len(results),
        "answered": len(answered),
        "queue_full": full,
        "other_errors": sorted(set(e[:200] for e in errors if QUEUE_FULL not in e.lower()))[:5],
        "latency": figures(answered),
        "wall_s": round(wall, 2),
        "answers_per_s": round(len(answered) / wall, 3) if wall else None,
        "polls": sum(tab.polls for tab in tabs),
    }


def users_case(url: str, users: int, per_user: int, qs: list[str]) -> dict[str, Any]:
    tabs = [Tab(url) for _ in range(users)]

    def work(i: int, tab: Tab) -> list[tuple[float, str | None]]:
        return [tab.ask(qs[(i * per_user + j) % len(qs)]) for j in range(per_user)]

    results, wall = run_clients(tabs, work)
    return {"users": users, "questions_each": per_user, **summary(results, wall, tabs)}


def burst_case(url: str, count: int, qs: list[str]) -> dict[str, Any]:
    tabs = [Tab(url) for _ in range(count)]
    results, wall = run_clients(tabs, lambda i, tab: [tab.ask(qs[i % len(qs)])])
    return {"simultaneous": count, **summary(results, wall, tabs)}


def with_cpu(page: Page, case: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """``case()`` with the CPU seconds per answer of the page process and of the simulated users
    (this process: only their threads run during a case). They share the machine's cores, so
    the users' share is CPU the page did not have."""
    page_cpu, clients_cpu = page.cpu_s(), time.process_time()
    out = case()
    answered = max(out["answered"], 1)
    page_cpu, clients_cpu = page.cpu_s() - page_cpu, time.process_time() - clients_cpu
    out["page_cpu_s_per_answer"] = round(page_cpu / answered, 3)
    out["clients_cpu_s_per_answer"] = round(clients_cpu / answered, 3)
    out["clients_cpu_share"] = round(clients_cpu / max(page_cpu + clients_cpu, 1e-9), 2)
    return out


# -- in process --------------------------------------------------------------------------------


def in_process(settings: Any, qs: list[str]) -> dict[str, Any]:
    """``answer()`` one question after another (its throughput is the page's yardstick) and
    ``retrieve()`` on the same question right after it, with the models loaded first: on a
    shared machine whose load moves, the ratio of the two then compares like with like."""
    import rag

    rag.answer(qs[0], settings=settings)
    timed: dict[str, list[float]] = {"answer": [], "retrieve": []}
    wall = cpu = 0.0
    for question in qs:  # in turn, question by question: both see the same load
        t, c = time.perf_counter(), time.process_time()
        rag.answer(question, settings=settings)
        wall += time.perf_counter() - t
        cpu += time.process_time() - c
        timed["answer"].append(time.perf_counter() - t)
        t = time.perf_counter()
        rag.retrieve(question, settings=settings)
        timed["retrieve"].append(time.perf_counter() - t)
    answer_p50 = statistics.median(timed["answer"])
    retrieve_p50 = statistics.median(timed["retrieve"])
    return {
        "answer": figures(timed["answer"]),
        "retrieve": figures(timed["retrieve"]),
        "answers_per_s": round(len(qs) / wall, 3),
        "cpu_s_per_answer": round(cpu / len(qs), 3),
        "answer_over_retrieve_p50": round(answer_p50 / retrieve_p50, 2),
    }


def in_process_concurrent(settings: Any, qs: list[str], threads: int) -> dict[str, Any]:
    """``answer()`` from ``threads`` threads at once, with the reader's and the query
    embedder's calls shared across questions, then with sharing off (one question per call)."""
    from concurrent.futures import ThreadPoolExecutor

    import rag
    from rag.api import shared_embedder
    from rag.batching import BatchedReader, Batcher, shared_reader

    reader = shared_reader()
    assert isinstance(reader, BatchedReader)
    batchers: list[Batcher[Any]] = [reader.batcher, shared_embedder(settings).queries]
    out: dict[str, Any] = {"threads": threads}
    for name, shared in (("shared", True), ("one_question_per_call", False)):
        saved = [b.max_items for b in batchers]
        if not shared:
            for b in batchers:
                b.max_items = 1  # every call carries one caller's items: no sharing
        before = (reader.batcher.stats.batches, reader.batcher.stats.requests)

        def one(question: str) -> float:
            t = time.perf_counter()
            rag.answer(question, settings=settings)
            return time.perf_counter() - t

        started = time.perf_counter()
        with ThreadPoolExecutor(threads) as pool:
            latencies = list(pool.map(one, qs))
        wall = time.perf_counter() - started
        for b, size in zip(batchers, saved):
            b.max_items = size
        batches = reader.batcher.stats.batches - before[0]
        requests = reader.batcher.stats.requests - before[1]
        out[name] = {
            **figures(latencies),
            "answers_per_s": round(len(qs) / wall, 3),
            "questions_per_reader_call": round(requests / max(batches, 1), 2),
        }
    return out


# -- replica catch-up --------------------------------------------------------------------------


def catch_up_case(chunks: int) -> dict[str, Any]:
    """A replica's cache at ``chunks`` rows after one file of the corpus changed elsewhere
    (its chunks removed, the edited file's chunks added): caught up, against a full rebuild."""
    import shutil

    from bench.worker import doc_files
    from rag.chunking import chunk_document, content_hash
    from rag.config import Settings
    from rag.lexical import LexicalIndex
    from rag.loaders import load_document

    settings = Settings()
    docs = synthetic(chunks)
    rows: list[tuple[str, str]] = []
    per_file: list[list[tuple[str, str]]] = []
    for path in doc_files(docs):
        text = load_document(path).text
        found = chunk_document(
            path.name, text, size=settings.chunk_size, overlap=settings.chunk_overlap
        )
        per_file.append([(c.id, c.text) for c in found])
        rows.extend(per_file[-1])
    edited = per_file[len(per_file) // 2]
    gone = {chunk_id for chunk_id, _ in edited}
    texts = {f"{content_hash(text)}-edited": text + " Edited." for _, text in edited}
    wanted = [chunk_id for chunk_id, _ in rows if chunk_id not in gone] + list(texts)
    folder = CACHE / f"catch-up-{chunks}"
    shutil.rmtree(folder, ignore_errors=True)
    LexicalIndex(folder / "bm25").build(rows, generation=1)
    replica = LexicalIndex(folder / "bm25")  # a fresh process: loads the cache from disk
    started = time.perf_counter()
    caught_up = replica.catch_up(wanted, lambda ids: [(i, texts[i]) for i in ids], 2)
    catch_up_s = time.perf_counter() - started
    by_id = dict(rows) | texts
    rebuilt = LexicalIndex(folder / "rebuilt")
    started = time.perf_counter()
    rebuilt.build(((i, by_id[i]) for i in wanted), generation=2)
    rebuild_s = time.perf_counter() - started
    same = sorted(replica._current().ids) == sorted(rebuilt._current().ids)
    shutil.rmtree(folder, ignore_errors=True)
    return {
        "chunks": len(rows),
        "changed_file_chunks": len(edited),
        "caught_up": caught_up,
        "catch_up_s": round(catch_up_s, 3),
        "full_rebuild_s_texts_at_hand": round(rebuild_s, 3),
        "same_rows": same,
    }


# -- the whole run -----------------------------------------------------------------------------


def run(
    users: int,
    per_user: int,
    burst: int,
    chunks: int,
    catch_up_chunks: int,
    page_queue: bool,
) -> dict[str, Any]:
    from rag.config import Settings

    docs = synthetic(chunks)
    store = STORES / f"load-{chunks}"
    settings = Settings.from_env(docs_dir=docs, store_dir=store, llm="extractive")
    import rag

    print(f"[bench] load: syncing {docs} into {store}", file=sys.stderr, flush=True)
    rag.ingest(settings=settings)
    qs = questions(100)
    out: dict[str, Any] = {
        "documents": len(rag.documents(settings).documents),
        "chunks": rag.documents(settings).total_chunks,
        "load_avg_1m_at_start": os.getloadavg()[0],
    }
    env = {"RAG_STORE_DIR": str(store), "RAG_DOCS_DIR": str(docs), "RAG_LLM": "extractive"}
    page = Page(env, settings_queue=not page_queue)
    out["page"] = page.banner
    try:
        warm = client(page.url)
        for question in qs[:3]:
            ask(warm, question)  # the page's models are loaded before the clock starts
        print(f"[bench] load: {users} users x {per_user} questions", file=sys.stderr, flush=True)
        out["users"] = with_cpu(page, lambda: users_case(page.url, users, per_user, qs))
        if burst:
            print(f"[bench] load: {burst} at once", file=sys.stderr, flush=True)
            out["burst"] = with_cpu(page, lambda: burst_case(page.url, burst, qs))
    finally:
        page.close()
    print("[bench] load: in-process answer() and retrieve()", file=sys.stderr, flush=True)
    out["in_process"] = in_process(settings, qs[: max(users * per_user, 20)])
    page_rate = out["users"]["answers_per_s"]
    out["in_process_concurrent"] = in_process_concurrent(
        settings, qs[: max(users * per_user, 20)], threads=8
    )
    out["page_over_in_process_throughput"] = round(
        page_rate / out["in_process"]["answers_per_s"], 2
    )
    if catch_up_chunks:
        print(f"[bench] load: replica catch-up at {catch_up_chunks}", file=sys.stderr, flush=True)
        out["catch_up"] = catch_up_case(catch_up_chunks)
    out["load_avg_1m_at_end"] = os.getloadavg()[0]
    return out


def table(out: dict[str, Any]) -> str:
    rows: list[tuple[str, str]] = [("page", out["page"])]
    rows.append(("corpus", f"{out['documents']} documents, {out['chunks']} chunks"))
    for key in ("users", "burst"):
        case = out.get(key)
        if case:
            lat = case["latency"]
            label = (
                f"{case['users']} users x {case['questions_each']}"
                if key == "users"
                else f"{case['simultaneous']} at once"
            )
            rows.append(
                (
                    label,
                    f"answered {case['answered']}/{case['asked']} (queue full "
                    f"{case['queue_full']}; {case.get('polls', 0)} polls), p50 {lat.get('p50_s')} "
                    f"s, p95 {lat.get('p95_s')} s, max {lat.get('max_s')} s, "
                    f"{case['answers_per_s']} answers/s"
                    + (
                        f", CPU s/answer: page {case['page_cpu_s_per_answer']}, users "
                        f"{case['clients_cpu_s_per_answer']} ({case['clients_cpu_share']:.0%} "
                        "of the two)"
                        if "clients_cpu_s_per_answer" in case
                        else ""
                    ),
                )
            )
    inproc = out["in_process"]
    rows.append(
        (
            "in-process",
            f"answer() p50 {inproc['answer']['p50_s']} s, retrieve() p50 "
            f"{inproc['retrieve']['p50_s']} s (x{inproc['answer_over_retrieve_p50']}), "
            f"{inproc['answers_per_s']} answers/s, CPU {inproc['cpu_s_per_answer']} s/answer",
        )
    )
    rows.append(("page / in-process throughput", str(out["page_over_in_process_throughput"])))
    conc = out.get("in_process_concurrent")
    if conc:
        for name in ("shared", "one_question_per_call"):
            case = conc[name]
            rows.append(
                (
                    f"in-process, {conc['threads']} threads, {name.replace('_', ' ')}",
                    f"p50 {case['p50_s']} s, p95 {case['p95_s']} s, {case['answers_per_s']} "
                    f"answers/s, {case['questions_per_reader_call']} questions per reader call",
                )
            )
    if "catch_up" in out:
        c = out["catch_up"]
        rows.append(
            (
                f"replica catch-up at {c['chunks']} chunks",
                f"{c['catch_up_s']} s (full rebuild, texts at hand: "
                f"{c['full_rebuild_s_texts_at_hand']} s), same rows {c['same_rows']}",
            )
        )
    rows.append(
        ("load average (1 min)", f"{out['load_avg_1m_at_start']} at start, "
         f"{out['load_avg_1m_at_end']} at end")
    )  # fmt: skip
    width = max(len(label) for label, _ in rows)
    return "\n".join(f"{label:<{width}}  {value}" for label, value in rows)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load")
    sub = parser.add_subparsers(dest="command", required=True)
    page = sub.add_parser("serve", help="serve the page (the bench starts it)")
    page.add_argument("--port", type=int, required=True)
    page.add_argument("--page-queue", action="store_true", help="the page's own queue values")
    args = parser.parse_args(list(argv) if argv is not None else None)
    return serve(args.port, settings_queue=not args.page_queue)


if __name__ == "__main__":
    sys.exit(main())
