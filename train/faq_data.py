"""Reader pairs from questions documentation authors wrote: FAQ entries and question headings.

train/data/faq/<package>/ holds reStructuredText pages copied from PyPI source distributions
(provenance in train/data/README.md and manifest.json). Every section heading that is a question
("How do I ...?", "Why does ...?") is asked as it is written; the sentences of the first
paragraph (or list) below it are the positives, and sentences of the page's other sections (other
questions' answers: on topic, not this answer) the negatives, with one sentence of another page
(off topic). Pages are held out for validation by hash, as train/data.py holds out articles.

The question must never be part of what the reader sees with a sentence: at answer time the
title is the section path, and for a FAQ page that path ends with the question itself. Here every
heading that is a question is left out of the title, and the first sentence of a section has no
previous sentence, so that the model cannot learn to match a heading.

    python -m train.faq_data      # writes train/out/faq-train.jsonl and faq-val.jsonl
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rag.answering import is_question
from rag.chunking import section_path, split_sentences
from rag.loaders import LoadedDocument
from rag.loaders.rst import load_rst
from rag.reader_input import reader_pair
from rag.text import terms
from train.data import DATA, OUT, TITLE_DROPOUT, held_out, write_jsonl

FAQ = DATA / "faq"
SOURCE = "faq"
SEED = 17
# Negatives kept per training question: the ones sharing most words with it, plus random ones.
HARD_NEGATIVES = 3
RANDOM_NEGATIVES = 2
# Negatives kept per validation question (drawn at random from the page's other sections).
VAL_NEGATIVES = 12
# Positives: the first sentences of the answer's first paragraph, at most this many.
MAX_POSITIVES = 3
# A sentence shorter than this many words ("Yes.", "No.") is neither a positive nor a negative.
MIN_WORDS = 4
SUFFIXES = (".rst", ".txt")
NUMBERING = re.compile(r"^\d+(?:\.\d+)*\.?\s+")
ANSWER_LABEL = re.compile(r"^(?:Answer|A)\s*:\s*", re.IGNORECASE)
PROSE_KINDS = ("paragraph", "list")
ELLIPSIS = ("...", "…")
# A positive that only points elsewhere ("See Why won't my Task run?.") answers nothing itself.
POINTER = re.compile(r"^(?:See|Refer to)\b", re.IGNORECASE)
POINTER_WORDS = 12


@dataclass(frozen=True)
class Sentence:
    """One sentence of a page as the reader sees it: its text, title and previous sentence."""

    text: str
    title: str
    before: str
    path: tuple[str, ...]  # the headings above it (page title first), questions included
    block: int  # the index of its block in the page


@dataclass
class FaqGroup:
    """One question of a page: its answer sentences and the page's other sentences."""

    page: str  # package/relative path: the unit of the train/validation split
    question: str
    positives: list[Sentence]
    negatives: list[Sentence] = field(default_factory=list)


def question_text(heading: str, parent: str = "") -> str:
    """The heading as a user would ask it: numbering ("1.2 ") dropped, spaces collapsed, and a
    heading that continues its parent's ("How do I..." > "... use X?") joined to it."""
    text = " ".join(NUMBERING.sub("", heading.strip()).split())
    if text.startswith(ELLIPSIS) and parent.rstrip().endswith(ELLIPSIS):
        stem = question_text(parent).rstrip(".… ")
        text = f"{stem.strip()} {text.lstrip('.… ')}"
    return text


def page_sentences(document: LoadedDocument) -> list[Sentence]:
    """The prose sentences of a loaded rst page, each with the title and previous sentence the
    reader would see, questions taken out of both."""
    title = document.title
    # A page whose title is a question ("What's a Task Queue?") shows no title at all.
    title = "" if is_question(title) else title
    out: list[Sentence] = []
    last_path: tuple[str, ...] | None = None
    before = ""
    for k, block in enumerate(document.blocks):
        if block.kind not in PROSE_KINDS:
            if block.kind == "heading":
                last_path, before = None, ""
            continue
        if block.path != last_path:
            last_path, before = block.path, ""  # a section's first sentence: no previous one
        shown = section_path(title, [h for h in block.path if not is_question(h)]) or title
        chunk = document.text[block.start : block.end]
        for start, end in split_sentences(chunk):
            sentence = " ".join(chunk[start:end].split())
            out.append(Sentence(sentence, shown, before, block.path, k))
            before = sentence
    return out


def page_groups(text: str, page: str) -> list[FaqGroup]:
    """Every question heading of one page with its answer's first paragraph as positives and
    the sentences outside that question's section as negatives (all of them, in page order)."""
    document = load_rst(text)
    sentences = page_sentences(document)
    groups: list[FaqGroup] = []
    for block in document.blocks:
        heading = document.text[block.start : block.end]
        if block.kind != "heading" or not is_question(heading):
            continue
        path = block.path
        inside = [s for s in sentences if s.path[: len(path)] == path]
        first = [s for s in inside if s.path == path]
        if not first:
            continue
        # The answer's first paragraph (or list): the first block of prose below the heading.
        paragraph = [s for s in first if s.block == first[0].block][:MAX_POSITIVES]
        positives = [_unlabelled(s) for s in paragraph]
        positives = [s for s in positives if len(s.text.split()) >= MIN_WORDS and not _pointer(s)]
        negatives = [
            s for s in sentences if s.path[: len(path)] != path and len(s.text.split()) >= MIN_WORDS
        ]
        if positives and negatives:
            parent = path[-2] if len(path) > 1 else ""
            groups.append(FaqGroup(page, question_text(heading, parent), positives, negatives))
    return groups


def _pointer(sentence: Sentence) -> bool:
    return bool(POINTER.match(sentence.text)) and len(sentence.text.split()) <= POINTER_WORDS


def _unlabelled(sentence: Sentence) -> Sentence:
    """``**Answer:** No, ...`` (Celery's FAQ) without its label, which no manual's answer has."""
    text = ANSWER_LABEL.sub("", sentence.text)
    return Sentence(text, sentence.title, sentence.before, sentence.path, sentence.block)


def faq_groups(root: Path = FAQ) -> Iterator[FaqGroup]:
    for path in sorted(p for p in root.rglob("*") if p.suffix in SUFFIXES and p.is_file()):
        if path.name.upper().startswith("LICENSE"):
            continue
        page = str(path.relative_to(root))
        yield from page_groups(path.read_text(encoding="utf-8", errors="replace"), page)


def _row(question: str, s: Sentence, label: int, source: str, title: bool) -> dict[str, object]:
    a, b = reader_pair(question, s.text, title=s.title if title else "", before=s.before)
    return {"a": a, "b": b, "label": label, "source": source}


def training_pairs(group: FaqGroup, rng: random.Random) -> list[dict[str, object]]:
    """Every positive, the negatives sharing most words with the question and random ones."""
    question = set(terms(group.question))
    ranked = sorted(
        range(len(group.negatives)),
        key=lambda i: (-len(question & set(terms(group.negatives[i].text))), i),
    )
    chosen = ranked[:HARD_NEGATIVES]
    rest = [i for i in ranked if i not in chosen]
    chosen += rng.sample(rest, min(RANDOM_NEGATIVES, len(rest)))
    rows = [(s, 1) for s in group.positives] + [(group.negatives[i], 0) for i in chosen]
    return [
        _row(group.question, s, label, SOURCE, rng.random() >= TITLE_DROPOUT) for s, label in rows
    ]


def off_topic_pairs(groups: Sequence[FaqGroup], rng: random.Random) -> list[dict[str, object]]:
    """One negative per question: a sentence of another page."""
    rows = []
    for group in groups:
        other = groups[rng.randrange(len(groups))]
        if other.page == group.page:
            continue
        pool = other.positives + other.negatives
        sentence = pool[rng.randrange(len(pool))]
        rows.append(
            _row(group.question, sentence, 0, f"{SOURCE}-off-topic", rng.random() >= TITLE_DROPOUT)
        )
    return rows


def validation_group(group: FaqGroup) -> dict[str, object]:
    """train/export.py's validation shape: every positive and up to VAL_NEGATIVES negatives."""
    rng = random.Random(f"{group.page}:{group.question}")
    negatives = rng.sample(group.negatives, min(VAL_NEGATIVES, len(group.negatives)))
    pairs = [_row(group.question, s, 1, SOURCE, True) for s in group.positives]
    pairs += [_row(group.question, s, 0, SOURCE, True) for s in negatives]
    return {
        "source": SOURCE,
        "question": group.question,
        "answerable": True,
        "pairs": [[p["a"], p["b"], p["label"]] for p in pairs],
    }


@dataclass
class FaqSummary:
    questions: dict[str, int] = field(default_factory=dict)  # per package, all splits
    train_questions: int = 0
    val_questions: int = 0
    val_pages: list[str] = field(default_factory=list)
    train_pairs: dict[str, int] = field(default_factory=dict)
    train_positive: int = 0


def split(groups: Sequence[FaqGroup]) -> tuple[list[FaqGroup], list[FaqGroup]]:
    """(training, validation): whole pages held out, chosen by hash of their path."""
    train = [g for g in groups if not held_out(SOURCE, g.page)]
    val = [g for g in groups if held_out(SOURCE, g.page)]
    return train, val


def build(out: Path = OUT, root: Path = FAQ) -> FaqSummary:
    rng = random.Random(SEED)
    out.mkdir(parents=True, exist_ok=True)
    groups = list(faq_groups(root))
    train, val = split(groups)
    rows = [row for group in train for row in training_pairs(group, rng)]
    rows += off_topic_pairs(train, rng)
    rng.shuffle(rows)
    summary = FaqSummary(train_questions=len(train), val_questions=len(val))
    summary.val_pages = sorted({g.page for g in val})
    for group in groups:
        package = group.page.split("/")[0]
        summary.questions[package] = summary.questions.get(package, 0) + 1
    for row in rows:
        summary.train_pairs[str(row["source"])] = summary.train_pairs.get(str(row["source"]), 0) + 1
        summary.train_positive += int(str(row["label"]))
    write_jsonl(out / "faq-train.jsonl", rows)
    write_jsonl(out / "faq-val.jsonl", [validation_group(g) for g in val])
    (out / "faq-summary.json").write_text(json.dumps(asdict(summary), indent=2) + "\n")
    return summary


if __name__ == "__main__":
    print(json.dumps(asdict(build()), indent=2))
