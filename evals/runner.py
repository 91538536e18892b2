"""``rag eval``: index a folder into an isolated store, ask a question set, score it.

Usage: rag eval [--suite NAME | --questions FILE --docs DIR] [--out DIR]
                [--mode hybrid|dense|bm25|all] [--llm extractive|openai] [--limit N]
                [--set NAME=VALUE ...]
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import io
import json
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, get_args, get_type_hints

from evals import metrics
from rag import durable
from rag.config import BACKENDS, MODES, Mode, Settings, apply_offline_env

if TYPE_CHECKING:
    from rag.models import Passage

apply_offline_env()

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_QUESTIONS = ROOT / "evals" / "questions.jsonl"
DEFAULT_DOCS = ROOT / "seeds"
DEFAULT_OUT = ROOT / "evals" / "out"
BENCHMARKS = ROOT / "evals" / "benchmarks"
# Named question sets and the documents folder each is asked over (`--suite NAME`). The Node.js
# set is one question file over the same pages in two formats: one suite per format.
SUITES = {
    "seed": (DEFAULT_QUESTIONS, DEFAULT_DOCS),
    "clapnq": (BENCHMARKS / "clapnq" / "questions.jsonl", BENCHMARKS / "clapnq" / "docs"),
    "nodejs-html": (BENCHMARKS / "nodejs" / "questions.jsonl", BENCHMARKS / "nodejs" / "html"),
    "nodejs-md": (BENCHMARKS / "nodejs" / "questions.jsonl", BENCHMARKS / "nodejs" / "md"),
}
RETRIEVAL_DEPTH = 10
TUNABLE = ("chunk_size", "chunk_overlap", "k", "candidates", "rrf_k", "refusal_threshold",
           "max_answer_sentences")  # fmt: skip
# Headline columns of the Markdown table: (summary key, column title).
COLUMNS = (
    ("hit_at_1", "hit@1"),
    ("hit_at_5", "hit@5"),
    ("mrr", "MRR"),
    ("evidence_hit_at_5", "ev hit@5"),
    ("key_fact_hit", "key-fact"),
    ("token_f1", "F1"),
    ("evidence_recall", "ev recall"),
    ("citation_precision", "cite P"),
    ("citation_recall", "cite R"),
    ("gold_source_cited", "gold cited"),
    ("title_answers", "title ans"),
    ("cut_spans", "cut spans"),
    ("refusal_rate", "refuse unans"),
    ("false_refusal_rate", "false refuse"),
    ("balanced_accuracy", "bal acc"),
    ("confidence_auroc", "AUROC"),
    ("latency_p50_ms", "p50 ms"),
    ("latency_p95_ms", "p95 ms"),
)


@dataclass(frozen=True)
class Question:
    """One line of a question file (see evals/README.md for the schema)."""

    id: str
    question: str
    answerable: bool
    answers: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    related_sources: tuple[str, ...] = ()
    # Earlier questions of the conversation, oldest first: this one is a follow-up.
    history: tuple[str, ...] = ()


def load_questions(path: Path, limit: int | None = None) -> list[Question]:
    """Read a JSONL question file; ``id``, ``question`` and ``answerable`` are required."""
    questions: list[Question] = []
    first_line: dict[str, int] = {}
    with path.open(encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError as exc:
                raise ValueError(
                    f"{path}:{line_no}: not JSON ({exc}): fix or delete that line (a writer "
                    "stopped mid-line, by a crash or a full disk, leaves a partial last line)"
                ) from exc
            if not isinstance(row, dict):
                raise ValueError(f"{path}:{line_no}: not a JSON object (evals/README.md)")
            missing = [key for key in ("id", "question", "answerable") if key not in row]
            if missing:
                raise ValueError(f"{path}:{line_no}: missing {', '.join(missing)}")
            question = _question(row, f"{path}:{line_no}")
            if question.id in first_line:
                raise ValueError(
                    f"{path}:{line_no}: id {question.id!r} is used on line "
                    f"{first_line[question.id]} too: give each question its own id"
                )
            first_line[question.id] = line_no
            questions.append(question)
    return questions[:limit] if limit else questions


LISTS = ("answers", "evidence", "sources", "related_sources", "history")


def _question(row: dict[str, Any], where: str) -> Question:
    """A question from a row whose fields have the schema's types: ``"answerable": "false"``
    was true, ``"answers": "Paris"`` five one-letter answers, ``"question": null`` asked as
    "None"."""
    ident, text, answerable = row["id"], row["question"], row["answerable"]
    if isinstance(ident, bool) or not isinstance(ident, (str, int)) or str(ident) == "":
        raise ValueError(f"{where}: id must be a string (or a number), not {ident!r}")
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"{where}: question must be a non-empty string, not {text!r}")
    if not isinstance(answerable, bool):
        raise ValueError(f"{where}: answerable must be true or false, not {answerable!r}")
    lists: dict[str, tuple[str, ...]] = {}
    for key in LISTS:
        value = row.get(key)
        if value is None:
            value = []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError(
                f"{where}: {key} must be a list of strings, not {json.dumps(value)[:80]}"
            )
        lists[key] = tuple(value)
    return Question(id=str(ident), question=text, answerable=answerable, **lists)


def source_id(source: str) -> str:
    """The document id of an indexed source: its relative path without the suffix."""
    return str(PurePosixPath(source).with_suffix(""))


def label_passages(
    passages: Sequence[Passage], question: Question, spans: dict[str, list[metrics.Span]]
) -> tuple[list[bool], list[bool]]:
    """Per retrieved passage: is it relevant (from a gold source, or on the evidence), and is
    it on the evidence (overlaps one of the evidence spans of its document)."""
    gold = set(question.sources)
    on_evidence = [
        metrics.overlaps_any((p.chunk.start, p.chunk.end), spans.get(p.chunk.source, ()))
        for p in passages
    ]
    relevant = [
        source_id(p.chunk.source) in gold or hit
        for p, hit in zip(passages, on_evidence, strict=True)
    ]
    return relevant, on_evidence


def store_dir_for(out: Path, docs: Path, settings: Settings) -> Path:
    """An isolated store per documents folder and chunking, reused while they stay the same."""
    key = f"{docs.resolve()}|{settings.chunk_size}|{settings.chunk_overlap}"
    return out / f"store-{hashlib.sha256(key.encode()).hexdigest()[:12]}"


def eval_settings(
    docs: Path,
    out: Path,
    *,
    mode: Mode = "hybrid",
    llm: str = "extractive",
    overrides: dict[str, Any] | None = None,
) -> Settings:
    """Settings for an evaluation: the user's environment, but never the user's store."""
    values: dict[str, Any] = {"docs_dir": docs, "chroma_url": None, "collection": "documents"}
    values.update(overrides or {})
    values.update(mode=mode, llm=llm)
    base = Settings.from_env(**values)
    return base.with_(store_dir=store_dir_for(out, docs, base))


class Evidence:
    """Character spans of each question's evidence strings in the indexed documents."""

    def __init__(self, settings: Settings) -> None:
        import rag

        self.settings = settings
        self.sources = [d.source for d in rag.documents(settings).documents]
        self._texts: dict[str, str] = {}

    def text(self, source: str) -> str:
        if source not in self._texts:
            import rag

            self._texts[source] = rag.document_text(source, self.settings)
        return self._texts[source]

    def spans(self, question: Question) -> dict[str, list[metrics.Span]]:
        """Evidence spans by source, looked up in the gold sources (else in every document)."""
        gold = set(question.sources)
        candidates = [s for s in self.sources if source_id(s) in gold] or self.sources
        found: dict[str, list[metrics.Span]] = {}
        for source in candidates:
            text = self.text(source)
            for sentence in question.evidence:
                for span in metrics.find_spans(text, sentence):
                    found.setdefault(source, []).append(span)
        return found


def index(settings: Settings) -> None:
    import rag

    rag.ingest(settings.docs_dir, settings=settings)


def evaluate_question(question: Question, settings: Settings, evidence: Evidence) -> dict[str, Any]:
    """Ask one question through the public API and score the answer and the retrieval."""
    import rag

    started = time.perf_counter()
    history = [(earlier, "") for earlier in question.history]
    result = rag.answer(question.question, history=history, settings=settings)
    latency_ms = (time.perf_counter() - started) * 1000.0
    passages = rag.retrieve(
        question.question, history=history, k=RETRIEVAL_DEPTH, settings=settings
    )

    spans = evidence.spans(question)
    relevant, on_evidence = label_passages(passages, question, spans)
    citations: list[dict[str, Any]] = [
        {
            "index": c.index,
            "source": c.source,
            "start": c.start,
            "end": c.end,
            "on_evidence": metrics.overlaps_any((c.start, c.end), spans.get(c.source, ())),
            # A document's first line (its title) is never an answer on its own.
            "title_line": c.text.strip() == evidence.text(c.source).strip().split("\n", 1)[0],
        }
        for c in result.citations
    ]
    record: dict[str, Any] = {
        "id": question.id,
        "question": question.question,
        "answerable": question.answerable,
        "refused": result.refused,
        "confidence": result.confidence,
        "answer": result.text,
        "latency_ms": round(latency_ms, 2),
        "citations": citations,
        "title_answer": not result.refused and any(c["title_line"] for c in citations),
        # Citations and closest passages that start or end inside a word.
        "cut_spans": sum(
            metrics.cuts_a_word(evidence.text(c.source), c.start, c.end)
            for c in [*result.citations, *result.closest]
        ),
        "retrieved": [
            {"source": p.chunk.source, "start": p.chunk.start, "end": p.chunk.end} for p in passages
        ],
    }
    if question.answerable:
        record.update(
            first_relevant_rank=metrics.first_relevant_rank(relevant),
            first_evidence_rank=metrics.first_relevant_rank(on_evidence),
            hit_at_1=metrics.hit_at(relevant, 1),
            hit_at_5=metrics.hit_at(relevant, 5),
            reciprocal_rank=metrics.reciprocal_rank(relevant),
            evidence_hit_at_5=metrics.hit_at(on_evidence, 5),
            evidence_spans=sum(len(found) for found in spans.values()),
            cited_evidence=any(c["on_evidence"] for c in citations) if spans else None,
        )
        if question.sources:
            gold = set(question.sources)
            record["gold_source_cited"] = any(source_id(c["source"]) in gold for c in citations)
        if question.answers:  # a question file may leave out reference answers or evidence
            record.update(
                key_fact_hit=metrics.key_fact_hit(result.text, question.answers),
                key_fact_recall=metrics.key_fact_recall(result.text, question.answers),
                token_f1=metrics.best_token_f1(result.text, question.answers),
            )
        if question.evidence:
            record["evidence_overlap"] = metrics.evidence_overlap(result.text, question.evidence)
    return record


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def summarise(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Aggregate per-question records into the headline metrics."""
    answerable = [r for r in records if r["answerable"]]
    unanswerable = [r for r in records if not r["answerable"]]
    citations = [
        c for r in answerable if r.get("cited_evidence") is not None for c in r["citations"]
    ]
    refusal_rate = metrics.mean(float(r["refused"]) for r in unanswerable)
    false_refusal_rate = metrics.mean(float(r["refused"]) for r in answerable)
    latencies = [r["latency_ms"] for r in records]

    def avg(key: str) -> float | None:
        """Mean over the answerable questions that have the value (None when none has)."""
        return metrics.mean(float(r[key]) for r in answerable if r.get(key) is not None)

    summary: dict[str, Any] = {
        "questions": len(records),
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "hit_at_1": avg("hit_at_1"),
        "hit_at_5": avg("hit_at_5"),
        "mrr": avg("reciprocal_rank"),
        "evidence_hit_at_5": avg("evidence_hit_at_5"),
        "key_fact_hit": avg("key_fact_hit"),
        "key_fact_recall": avg("key_fact_recall"),
        "token_f1": avg("token_f1"),
        "evidence_recall": avg("evidence_overlap"),
        "citation_precision": metrics.mean(float(c["on_evidence"]) for c in citations),
        "citation_recall": avg("cited_evidence"),
        "gold_source_cited": avg("gold_source_cited"),
        "title_answers": sum(bool(r.get("title_answer")) for r in records),
        "cut_spans": sum(int(r.get("cut_spans", 0)) for r in records),
        "citations_per_answer": metrics.mean(
            float(len(r["citations"])) for r in answerable if not r["refused"]
        ),
        "refusal_rate": refusal_rate,
        "false_refusal_rate": false_refusal_rate,
        "balanced_accuracy": metrics.balanced_accuracy(refusal_rate, false_refusal_rate),
        "confidence_auroc": metrics.auroc(
            [r["confidence"] for r in answerable], [r["confidence"] for r in unanswerable]
        ),
        "latency_p50_ms": metrics.percentile(latencies, 50),
        "latency_p95_ms": metrics.percentile(latencies, 95),
    }
    return {key: _round(v) if isinstance(v, float) else v for key, v in summary.items()}


def run_mode(
    questions: Sequence[Question],
    settings: Settings,
    *,
    progress: bool = True,
    checkpoint: Path | None = None,
) -> list[dict[str, Any]]:
    """Index (incrementally), warm the model up, then ask every question.

    With a ``checkpoint`` file, each answer is appended to it as it is scored, and a run that
    stopped (killed, a model error, a power cut) is resumed from it: the questions it answered
    are not asked again, provided the questions, the settings and the index are the same."""
    import rag

    index(settings)
    evidence = Evidence(settings)
    rag.answer("warm up", settings=settings)  # load the model outside the timings
    key = run_key(questions, settings)
    done = read_checkpoint(checkpoint, key) if checkpoint is not None else {}
    if done:
        print(
            f"Resuming {settings.mode}: {len(done)} of {len(questions)} questions were answered "
            f"by a run that stopped ({checkpoint})",
            file=sys.stderr,
        )
    todo = [q for q in questions if q.id not in done]
    saving = _Checkpoint(checkpoint, key, list(done.values())) if checkpoint else None
    if progress:
        from tqdm import tqdm

        iterator: Any = tqdm(todo, desc=settings.mode, unit="q", file=sys.stderr)
    else:
        iterator = todo
    from rag.errors import RagError

    answered: dict[str, dict[str, Any]] = dict(done)
    for question in iterator:
        try:
            record = evaluate_question(question, settings, evidence)
        except RagError as exc:  # said with where the run stopped (main prints the note)
            kept = f"; the {len(answered)} answered are kept in {checkpoint}" if saving else ""
            exc.add_note(
                f"at question {question.id!r}, {len(answered)} of {len(questions)} answered in "
                f"{settings.mode} mode; no results were written{kept}"
            )
            raise
        answered[question.id] = record
        if saving is not None:
            saving.add(record)
    unfound = [q.id for q in questions if q.evidence and not evidence.spans(q)]
    if unfound:
        shown = ", ".join(unfound[:5]) + (", ..." if len(unfound) > 5 else "")
        print(
            f"warning: the evidence of {len(unfound)} question(s) was not found in the documents "
            f"({shown}): their citations are not scored; check their evidence sentences and "
            "sources",
            file=sys.stderr,
        )
    return [answered[q.id] for q in questions]


def checkpoint_path(target: Path, mode: str) -> Path:
    """Where a run of ``mode`` into ``target`` keeps its answers until its results are written."""
    return target / f"progress-{mode}.jsonl"


# Settings outside TUNABLE that change what an answer says (read from the environment): a
# run stopped by a reply cut at its size, resumed with RAG_LLM_MAX_TOKENS raised, mixed answers
# cut at 400 tokens with answers of 800.
ANSWER_SETTINGS = ("llm_max_tokens", "max_question_chars")


def run_key(questions: Sequence[Question], settings: Settings) -> str:
    """What a run's answers depend on: the questions, the settings that shape answers, the
    backend, the index (each document's chunks, size and last sync) and the code."""
    import rag

    status = rag.documents(settings)
    index_state = [(d.source, d.chunks, d.size, d.synced_at) for d in status.documents]
    shaping = (*TUNABLE, *ANSWER_SETTINGS, "mode", "llm")
    described = {
        "questions": [dataclasses.asdict(q) for q in questions],
        "settings": {name: getattr(settings, name) for name in shaping},
        # Which server answered: another one's answers are not this run's.
        "model": (settings.model, settings.openai_base_url) if settings.llm != "extractive" else "",
        "index": index_state,
        "code": code_version(),
    }
    text = json.dumps(described, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def code_version() -> str:
    """A digest of the answering code, the reader's files (its card and off-topic bank) and
    the scoring code (evals/: a record holds its scores): answers kept by a run of other code
    (a change being measured) are never mixed into this one's."""
    import rag

    digest = hashlib.sha256()
    for package in (Path(rag.__file__).parent, Path(__file__).parent):
        model = package / "reader_model"
        files = [*package.rglob("*.py"), *model.glob("*.json"), *model.glob("*.txt")]
        for path in sorted(files):
            digest.update(f"{package.name}/{path.relative_to(package).as_posix()}".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def read_checkpoint(path: Path, key: str) -> dict[str, dict[str, Any]]:
    """The answers a stopped run of the same ``key`` saved in ``path`` (a torn last line, from a
    kill mid-write, is left out); {} when there are none, or they are another run's."""
    try:
        lines = path.read_text(encoding="utf-8").split("\n")
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        print(f"warning: cannot read {path} ({exc}): every question is asked", file=sys.stderr)
        return {}
    rows: list[dict[str, Any]] = []
    for line in lines:
        try:
            rows.append(json.loads(line))
        except ValueError:
            continue  # a torn line, or the empty one after the last newline
    if not rows or rows[0] != {"key": key}:
        return {}  # another run's (other questions, settings or documents): started afresh
    return {str(row["id"]): row for row in rows[1:] if isinstance(row, dict) and "id" in row}


class _Checkpoint:
    """The answers of a run as they are scored, one JSON line each after a line with the run's
    key; rewritten whole when a run starts (it holds the answers resumed from)."""

    def __init__(self, path: Path, key: str, resumed: list[dict[str, Any]]) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        lines = [{"key": key}, *resumed]
        text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in lines)
        write_whole(path, text.encode("utf-8"))

    def add(self, record: dict[str, Any]) -> None:
        # A line per answer, flushed: a killed run loses at most the answer being written.
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def markdown_table(summaries: dict[str, dict[str, Any]]) -> str:
    """One row per mode, the headline metrics as columns (blank when not applicable)."""
    header = "| mode | " + " | ".join(title for _, title in COLUMNS) + " |"
    rule = "|---|" + "---:|" * len(COLUMNS)
    rows = [header, rule]
    for mode, summary in summaries.items():
        cells = []
        for key, _ in COLUMNS:
            value = summary.get(key)
            if value is None:
                cells.append("")
            elif key.startswith("latency"):
                cells.append(f"{value:.1f}")
            elif isinstance(value, int):
                cells.append(str(value))
            else:
                cells.append(f"{value:.3f}")
        rows.append(f"| {mode} | " + " | ".join(cells) + " |")
    return "\n".join(rows) + "\n"


def plot(
    summaries: dict[str, dict[str, Any]],
    records: dict[str, list[dict[str, Any]]],
    path: Path | io.BytesIO,
) -> None:
    """Headline metrics by mode, and the confidence histogram answerable vs unanswerable."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = [k for k, _ in COLUMNS if not k.startswith("latency")]
    keys = [k for k in keys if any(s.get(k) is not None for s in summaries.values())]
    titles = dict(COLUMNS)
    figure, (bars, hist) = plt.subplots(1, 2, figsize=(15, 4.8), width_ratios=(2.2, 1))
    width = 0.8 / max(len(summaries), 1)
    for i, (mode, summary) in enumerate(summaries.items()):
        values = [summary.get(k) or 0.0 for k in keys]
        bars.bar([x + i * width for x in range(len(keys))], values, width, label=mode)
    bars.set_xticks([x + width * (len(summaries) - 1) / 2 for x in range(len(keys))])
    bars.set_xticklabels([titles[k] for k in keys], rotation=35, ha="right")
    bars.set_ylim(0, 1.05)
    bars.set_title("Metrics by retrieval mode")
    bars.legend()
    shown = "hybrid" if "hybrid" in records else next(iter(records))
    bins = [i / 20 for i in range(21)]
    for answerable, label in ((True, "answerable"), (False, "unanswerable")):
        values = [r["confidence"] for r in records[shown] if r["answerable"] == answerable]
        hist.hist(values, bins=bins, alpha=0.6, label=label)
    hist.set_title(f"Answer.confidence ({shown})")
    hist.set_xlabel("confidence")
    hist.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110, format="png")
    plt.close(figure)


def write_whole(path: Path, data: bytes) -> None:
    """Replace ``path`` so that a kill, a crash or a full disk leaves the old file or the new
    one, whole (``OSError`` if it cannot be written): a results file cut mid-line made every
    later run into that folder fail reading it."""
    try:
        durable.replace_file(path, data)  # a run killed before its rename: its file is swept
    except OSError as exc:  # named by the file it was for, not by the temporary one
        raise OSError(exc.errno, exc.strerror or str(exc), str(path)) from exc


def _earlier_run(target: Path, mode: str) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
    """The summary and records an earlier run of ``mode`` left in ``target``, if readable."""
    path = target / f"summary-{mode}.json"
    if not path.exists():
        return None
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
        text = (target / f"results-{mode}.jsonl").read_text(encoding="utf-8")
        lines = text.split("\n")  # not at U+2028 and its kin, which answers can hold
        rows = [json.loads(line) for line in lines if line]
    except (OSError, ValueError) as exc:
        print(
            f"warning: left out the earlier {mode} results in {target}/ (unreadable: "
            f"{' '.join(str(exc).split())[:120]}); run --mode {mode} again to redo them",
            file=sys.stderr,
        )
        return None
    return summary, rows


def write_outputs(
    target: Path, records: dict[str, list[dict[str, Any]]], meta: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """Per-question JSONL and summary JSON per mode; the table and plot cover every mode run.
    Each file is replaced whole (``write_whole``); earlier runs' files that cannot be read
    are left out of the table and plot, with a warning."""
    target.mkdir(parents=True, exist_ok=True)
    summaries: dict[str, dict[str, Any]] = {}
    all_records: dict[str, list[dict[str, Any]]] = {}
    for mode, rows in records.items():
        lines = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
        write_whole(target / f"results-{mode}.jsonl", lines.encode("utf-8"))
        summary = {**meta, "mode": mode, **summarise(rows)}
        write_whole(
            target / f"summary-{mode}.json", (json.dumps(summary, indent=2) + "\n").encode()
        )
        summaries[mode], all_records[mode] = summary, list(rows)
    for mode in MODES:  # include earlier runs of the other modes on the same set
        earlier = None if mode in records else _earlier_run(target, mode)
        if earlier is not None:
            summaries[mode], all_records[mode] = earlier
    summaries = {mode: summaries[mode] for mode in MODES if mode in summaries}
    write_whole(target / "summary.json", (json.dumps(summaries, indent=2) + "\n").encode())
    write_whole(target / "table.md", markdown_table(summaries).encode("utf-8"))
    image = io.BytesIO()
    plot(summaries, all_records, image)
    write_whole(target / "plot.png", image.getvalue())
    return summaries


def _setting_type(name: str) -> Any:
    """The type a setting holds: ``float`` for ``refusal_threshold: float | None``."""
    hint = get_type_hints(Settings)[name]
    return next((t for t in get_args(hint) if t is not type(None)), hint)


def _parse_overrides(items: Sequence[str]) -> dict[str, Any]:
    overrides: dict[str, Any] = {}
    for item in items:
        name, _, value = item.partition("=")
        if name not in TUNABLE or not value:
            raise SystemExit(f"--set takes NAME=VALUE with NAME one of {', '.join(TUNABLE)}")
        kind = _setting_type(name)
        try:
            overrides[name] = kind(value)
        except ValueError:
            raise SystemExit(f"--set {name}={value}: not a {kind.__name__}") from None
    return overrides


def _count(text: str) -> int:
    """A --limit: 1 or more (0 asked every question, -3 all but the last three)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of questions (1 or more)")
    return value


def _folder_name(text: str) -> str:
    """A --name: one folder under --out, never a path that leads elsewhere (``../x``, ``/x``)."""
    if not text or text in (".", "..") or "/" in text or "\\" in text or "\0" in text:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a folder name: --name names one folder under --out (no / or ..); "
            "to write the results elsewhere, pass --out"
        )
    return text


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rag eval", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--suite",
        choices=SUITES,
        default=None,
        help="a named question set with its documents folder (results folder: the name)",
    )
    parser.add_argument("--questions", type=Path, default=None, help="default: the seed set")
    parser.add_argument("--docs", type=Path, default=None, help="default: seeds/")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--mode", choices=(*MODES, "all"), default="hybrid")
    parser.add_argument("--llm", choices=BACKENDS, default="extractive")
    parser.add_argument("--limit", type=_count, default=None, help="only the first N questions")
    parser.add_argument("--name", type=_folder_name, default=None, help="results folder under OUT")
    parser.add_argument(
        "--set", action="append", default=[], metavar="NAME=VALUE", help="override a setting"
    )
    return parser


def choose_set(args: argparse.Namespace) -> tuple[Path, Path, str | None]:
    """The question file, documents folder and results folder name (None: from the file) that
    ``--suite`` or ``--questions``/``--docs`` choose."""
    if args.suite is None:
        return args.questions or DEFAULT_QUESTIONS, args.docs or DEFAULT_DOCS, args.name
    if args.questions or args.docs:
        raise SystemExit(
            f"--suite {args.suite} chooses both the questions and the documents: "
            "leave out --questions and --docs, or leave out --suite"
        )
    questions, docs = SUITES[args.suite]
    return questions, docs, args.name or args.suite


def set_name(questions: Path) -> str:
    """evals/questions.jsonl -> 'evals-questions'; clapnq/questions.jsonl -> 'clapnq-questions'."""
    return f"{questions.parent.name}-{questions.stem}"


def limited(name: str, limit: int | None) -> str:
    """The results folder when --name is not given: a run of the first N questions has its own
    ('evals-questions-first10'), so that its figures never replace the whole set's."""
    return name + (f"-first{limit}" if limit is not None else "")


def cannot_write(exc: OSError, target: Path) -> int:
    where = exc.filename or target
    print(
        f"error: cannot write the results to {where} ({exc.strerror or exc}): free some "
        "space or pass --out a writable folder, and run again (the results already there "
        "are whole: each file is replaced only once written).",
        file=sys.stderr,
    )
    return 1


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--"]:  # rag eval -- --limit 5 (the rag CLI passes the separator through)
        argv = argv[1:]
    args = build_parser().parse_args(argv)
    args.questions, args.docs, chosen = choose_set(args)
    overrides = _parse_overrides(args.set)
    try:
        questions = load_questions(args.questions, args.limit)
    except OSError as exc:
        print(
            f"error: cannot read the questions file {args.questions} ({exc.strerror or exc}): "
            "pass --questions PATH to a JSONL file (evals/README.md).",
            file=sys.stderr,
        )
        return 1
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    # Named after the suite or the question file, and the --limit, unless --name names it.
    name = args.name or limited(chosen or set_name(args.questions), args.limit)
    target = args.out / name
    try:
        with one_run(target):
            return _run(args, questions, overrides, target)
    except OSError as exc:
        return cannot_write(exc, target)
    except RunBusy as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


class RunBusy(Exception):
    """Another ``rag eval`` writes into the same results folder."""


RUN_LOCK = ".run.lock"


@contextmanager
def one_run(target: Path) -> Iterator[None]:
    """One run at a time per results folder: two runs of one --name shared its answers file
    (one run's answers resumed into the other's, under the other's settings) and its summary
    (one run's modes lost). The OS releases the lock of a killed run."""
    from filelock import FileLock, Timeout

    target.mkdir(parents=True, exist_ok=True)
    lock = FileLock(target / RUN_LOCK, thread_local=False)
    try:
        lock.acquire(timeout=0)
    except Timeout as exc:
        raise RunBusy(
            f"another rag eval is writing into {target}: wait for it to end, or pass --name "
            "(or --out) for a folder of its own."
        ) from exc
    try:
        yield
    finally:
        lock.release()


def _run(
    args: argparse.Namespace,
    questions: list[Question],
    overrides: dict[str, Any],
    target: Path,
) -> int:
    from rag.errors import RagError

    modes: list[Mode] = list(MODES) if args.mode == "all" else [args.mode]
    records: dict[str, list[dict[str, Any]]] = {}
    try:
        for mode in modes:
            settings = eval_settings(
                args.docs, args.out, mode=mode, llm=args.llm, overrides=overrides
            )
            records[mode] = run_mode(questions, settings, checkpoint=checkpoint_path(target, mode))
    except RagError as exc:
        notes = "".join(f" ({note})" for note in getattr(exc, "__notes__", ()))
        print(f"error: {exc}{notes}", file=sys.stderr)
        return 1
    except OSError as exc:  # the answers kept as they come (checkpoint_path)
        return cannot_write(exc, target)
    meta = {
        "questions_file": str(args.questions),
        "docs": str(args.docs),
        "llm": args.llm,
        "settings": {name: getattr(settings, name) for name in TUNABLE},
    }
    try:
        summaries = write_outputs(target, records, meta)
    except OSError as exc:
        return cannot_write(exc, target)
    for done in records:  # written whole: nothing left to resume
        checkpoint_path(target, done).unlink(missing_ok=True)
    print(markdown_table({mode: summaries[mode] for mode in records}), end="")
    print(f"Results in {target}/ (results-*.jsonl, summary.json, table.md, plot.png)")
    return 0
