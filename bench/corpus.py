"""Benchmark corpora: the seeds, the ClapNQ passages, and synthetic folders built from them."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
CLAPNQ = ROOT / "evals" / "benchmarks" / "clapnq" / "docs"
CLAPNQ_QUESTIONS = ROOT / "evals" / "benchmarks" / "clapnq" / "questions.jsonl"
CACHE = ROOT / "bench" / "cache"
SEED = 20261126
PASSAGES_PER_FILE = 4


def passages() -> list[str]:
    texts = [p.read_text(encoding="utf-8").strip() for p in sorted(CLAPNQ.glob("*.txt"))]
    return [t for t in texts if t]


def _perturb(text: str, rng: random.Random) -> str:
    """Drop and swap a few words per paragraph, so every synthetic chunk text is unique."""
    paragraphs = []
    for paragraph in text.split("\n"):
        words = paragraph.split(" ")
        out: list[str] = []
        for word in words:
            roll = rng.random()
            if roll < 0.03 and len(words) > 8:
                continue
            if roll < 0.06 and out:
                out.insert(len(out) - 1, word)
            else:
                out.append(word)
        paragraphs.append(" ".join(out))
    return "\n".join(paragraphs)


def synthetic(chunks: int, folder: Path | None = None) -> Path:
    """A deterministic folder of about ``chunks`` chunks: files of 4 perturbed passages."""
    from rag.chunking import chunk_document
    from rag.config import Settings

    settings = Settings()
    size, overlap = settings.chunk_size, settings.chunk_overlap
    folder = folder or CACHE / f"corpus-{chunks}-{size}-{overlap}"
    marker = folder / ".complete"
    if marker.exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    base = passages()
    rng = random.Random(SEED)
    total = i = 0
    while total < chunks:
        picked = rng.sample(base, PASSAGES_PER_FILE)
        text = "\n\n".join(_perturb(p, rng) for p in picked)
        path = folder / f"{i // 1000:03d}" / f"doc_{i:06d}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n", encoding="utf-8")
        total += len(chunk_document(path.name, text, size=size, overlap=overlap))
        i += 1
    marker.write_text(f"{i} files, {total} chunks\n")
    return folder


def questions(limit: int) -> list[str]:
    import json

    lines = CLAPNQ_QUESTIONS.read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["question"] for line in lines if line.strip()][:limit]
