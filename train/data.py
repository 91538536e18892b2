"""Reader training data: (question, sentence in context, label) from public QA sets in train/data/.

Positives are the sentences that hold an answer; negatives the other sentences of the passage,
and every sentence of an unanswerable question's passage (written to look answerable: the hard
cases). A validation split is held out by article (SQuAD), by passage title (ClapNQ) or by
question (SelQA, which names no article); it keeps every sentence of each passage, so that the
answer-sentence accuracy and the no-answer AUROC can be measured the way answers are made.

    python -m train.data          # writes train/out/pairs-train.jsonl and groups-val.jsonl
"""

from __future__ import annotations

import csv
import hashlib
import json
import random
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rag.chunking import split_sentences
from rag.reader_input import reader_pair
from rag.text import terms

DATA = Path(__file__).parent / "data"
OUT = Path(__file__).parent / "out"
SEED = 13
# Articles held out for validation (chosen by hash, not by looking at them).
VAL_SHARE = 0.15
# Negatives kept per question in the training pairs: the ones sharing most words with the
# question (hard), plus one at random.
HARD_NEGATIVES = 3
RANDOM_NEGATIVES = 1
# A title is dropped from this share of training pairs: many documents (news files) have none.
TITLE_DROPOUT = 0.25


@dataclass
class Group:
    """One question over one passage: every sentence, and which of them hold the answer."""

    source: str
    key: str  # the unit of the train/validation split (article, title or question)
    question: str
    title: str
    sentences: list[str]
    positives: set[int] = field(default_factory=set)

    @property
    def answerable(self) -> bool:
        return bool(self.positives)


def held_out(source: str, key: str) -> bool:
    digest = hashlib.sha256(f"{source}:{key}".encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < VAL_SHARE


def _sentences(text: str) -> list[tuple[int, int]]:
    return split_sentences(text)


def squad_groups(path: Path, source: str) -> Iterator[Group]:
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    for article in data:
        title = article["title"].replace("_", " ")
        for paragraph in article["paragraphs"]:
            context = paragraph["context"]
            spans = _sentences(context)
            sentences = [context[s:e] for s, e in spans]
            for qa in paragraph["qas"]:
                group = Group(source, article["title"], qa["question"], title, sentences)
                if not qa.get("is_impossible"):
                    group.positives = _answer_sentences(context, spans, qa["answers"])
                    if not group.positives:
                        continue  # the answer could not be placed: leave the question out
                yield group


def _answer_sentences(
    context: str, spans: list[tuple[int, int]], answers: list[dict[str, object]]
) -> set[int]:
    """The sentence(s) most annotators' answers fall in (offsets may be a first occurrence)."""
    votes: dict[frozenset[int], int] = defaultdict(int)
    for answer in answers:
        text = str(answer["text"])
        start = int(str(answer["answer_start"]))
        if context[start : start + len(text)] != text:
            start = context.find(text)
            if start < 0:
                continue
        end = start + len(text)
        hit = frozenset(i for i, (s, e) in enumerate(spans) if s < end and start < e)
        if hit:
            votes[hit] += 1
    if not votes:
        return set()
    return set(max(votes.items(), key=lambda item: (item[1], -min(item[0])))[0])


def selqa_groups() -> Iterator[Group]:
    rows: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for name in ("selqa-ass-dev.tsv", "selqa-ass-test.tsv"):
        with (DATA / name).open(encoding="utf-8") as handle:
            for row in csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE):
                if len(row) == 3:
                    rows[row[0]].append((row[1], int(row[2])))
    for question, candidates in rows.items():
        group = Group("selqa", question, question, "", [s for s, _ in candidates])
        group.positives = {i for i, (_, label) in enumerate(candidates) if label}
        yield group


def clapnq_groups() -> Iterator[Group]:
    for line in (DATA / "clapnq-train.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        passage = row["passage"]
        spans = _sentences(passage)
        sentences = [passage[s:e] for s, e in spans]
        group = Group("clapnq", row["title"], row["question"], row["title"], sentences)
        if row["answerable"]:
            evidence = [" ".join(e.split()) for e in row["evidence"]]
            group.positives = {
                i
                for i, s in enumerate(sentences)
                if any(" ".join(s.split()) in e or e in " ".join(s.split()) for e in evidence)
            }
            if not group.positives:
                continue
        yield group


# Sentences of other sections of the same page kept as negatives of a documentation question.
DOCS_NEGATIVES = 6


def docs_groups(root: Path = DATA / "docs") -> Iterator[Group]:
    """Technical documentation (train/data/docs/: Click and Flask's rst, BSD-3-Clause): each
    section heading asked as a question ("What is Variadic Arguments?"), the first sentence of
    its lead paragraph the answer; negatives are sentences of the page's other sections (on
    topic, not the answer). The title the reader sees is the section path, as answers see it."""
    from train.docs_corpus import is_prose, pseudo_question, rst_pages

    for path, sections in rst_pages(root):
        page = str(path.relative_to(root))
        for k, section in enumerate(sections):
            question = pseudo_question(section, "manual")
            if not question or not is_prose(section.lead):
                continue
            lead = section.lead
            answer = [lead[a:b] for a, b in _sentences(lead)][:1]
            others = [
                paragraph[a:b]
                for j, other in enumerate(sections)
                if j != k
                for paragraph in other.paragraphs
                for a, b in _sentences(paragraph)
            ]
            if not others:
                continue  # a one-section page: no on-topic negative to learn from
            rng = random.Random(f"{page}:{k}")
            negatives = rng.sample(others, min(DOCS_NEGATIVES, len(others)))
            # The page's title: the negatives come from its other sections.
            yield Group("docs", page, question, section.path[0], answer + negatives, {0})


def all_groups() -> Iterator[Group]:
    yield from squad_groups(DATA / "squad2-dev.json", "squad2")
    yield from squad_groups(DATA / "squad11-dev-extra.json", "squad11")
    yield from selqa_groups()
    yield from clapnq_groups()
    yield from docs_groups()


def pair(group: Group, i: int, rng: random.Random, *, dropout: bool) -> dict[str, object]:
    title = "" if dropout and rng.random() < TITLE_DROPOUT else group.title
    # SelQA's sentences come without their neighbours; a documentation group's are drawn from
    # several sections.
    before = group.sentences[i - 1] if i > 0 and group.source not in ("selqa", "docs") else ""
    a, b = reader_pair(group.question, group.sentences[i], title=title, before=before)
    return {"a": a, "b": b, "label": int(i in group.positives), "source": group.source}


def training_pairs(group: Group, rng: random.Random) -> list[dict[str, object]]:
    """Every positive; the hardest negatives by shared words, one random, the one after."""
    question = set(terms(group.question))
    others = [i for i in range(len(group.sentences)) if i not in group.positives]
    overlap = sorted(others, key=lambda i: (-len(question & set(terms(group.sentences[i]))), i))
    chosen = overlap[:HARD_NEGATIVES]
    rest = [i for i in others if i not in chosen]
    chosen += rng.sample(rest, min(RANDOM_NEGATIVES, len(rest)))
    # The sentence after an answer reads it as context: it must still score as no answer.
    chosen += [p + 1 for p in group.positives if p + 1 in others and p + 1 not in chosen]
    return [pair(group, i, rng, dropout=True) for i in sorted(group.positives) + chosen]


def off_topic_pairs(groups: list[Group], rng: random.Random) -> list[dict[str, object]]:
    """One negative per question: a sentence (with its title) of a group about another subject."""
    rows = []
    for group in groups:
        other = groups[rng.randrange(len(groups))]
        if other.key == group.key or other.title == group.title:
            continue
        i = rng.randrange(len(other.sentences))
        title = "" if rng.random() < TITLE_DROPOUT else other.title
        before = other.sentences[i - 1] if i > 0 and other.source not in ("selqa", "docs") else ""
        a, b = reader_pair(group.question, other.sentences[i], title=title, before=before)
        rows.append({"a": a, "b": b, "label": 0, "source": f"{group.source}-off-topic"})
    return rows


def validation_group(group: Group) -> dict[str, object]:
    rng = random.Random(0)
    pairs = [pair(group, i, rng, dropout=False) for i in range(len(group.sentences))]
    return {
        "source": group.source,
        "question": group.question,
        "answerable": group.answerable,
        "pairs": [[p["a"], p["b"], p["label"]] for p in pairs],
    }


@dataclass
class Summary:
    train_pairs: dict[str, int] = field(default_factory=dict)
    train_positive: int = 0
    val_groups: dict[str, int] = field(default_factory=dict)
    val_unanswerable: int = 0


def build(out: Path = OUT) -> Summary:
    rng = random.Random(SEED)
    out.mkdir(parents=True, exist_ok=True)
    train: list[dict[str, object]] = []
    val: list[dict[str, object]] = []
    summary = Summary()
    kept: list[Group] = []
    for group in all_groups():
        if len(group.sentences) < 2:
            continue
        if held_out(group.source, group.key):
            val.append(validation_group(group))
            summary.val_groups[group.source] = summary.val_groups.get(group.source, 0) + 1
            summary.val_unanswerable += not group.answerable
            continue
        kept.append(group)
        pairs = training_pairs(group, rng)
        # ClapNQ is the one source of long-form, web-style passages: seen twice.
        for _ in range(2 if group.source == "clapnq" else 1):
            train.extend(pairs)
    rng.shuffle(train)
    # The second training stage adds, per question, a sentence of another article: a question
    # about nothing in the passage at all (SQuAD's unanswerable questions are all on topic).
    stage2 = train + off_topic_pairs(kept, rng)
    rng.shuffle(stage2)
    write_jsonl(out / "pairs-stage2.jsonl", stage2)
    for row in train:
        summary.train_pairs[str(row["source"])] = summary.train_pairs.get(str(row["source"]), 0) + 1
        summary.train_positive += int(str(row["label"]))
    write_jsonl(out / "pairs-train.jsonl", train)
    write_jsonl(out / "groups-val.jsonl", val)
    (out / "data-summary.json").write_text(json.dumps(asdict(summary), indent=2))
    return summary


def write_jsonl(path: Path, rows: Sequence[dict[str, object]]) -> None:
    """``rows`` as JSON lines at ``path``, written whole or not at all (a file renamed)."""
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    tmp.replace(path)


if __name__ == "__main__":
    print(json.dumps(asdict(build()), indent=2))
