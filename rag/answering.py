"""Offline extractive answers: the reader picks the passage sentences that answer the question.

Every sentence of the retrieved passages is scored by the reader (rag/reader.py, our own small
cross-encoder), seen with its section path (or document title) and the words before it, as in
training. The best sentence's calibrated probability is ``Answer.confidence``; below the refusal
threshold (chosen on the reader's validation split) the answer is a refusal that still shows the
closest sentences, marked as not an answer.

Spans have kinds (``Chunk.kinds``). Headings, captions, code and questions are context, never an
answer on their own; a sentence that introduces the code block, list or table right after it
("run the following:") is judged and cited together with it, as one span, and so is a sentence
with the short ones that continue it ("Defaults to 4093."). When the question names a section's
heading (one the loader marked), the section's lead paragraph answers.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache

from rag.chunking import SECTION_SEPARATOR, introduces
from rag.citations import make_citation, sentence_spans, span_text
from rag.models import Answer, Chunk, Citation, Passage
from rag.questions import asked_sentences
from rag.reader import Reader
from rag.reader_input import reader_pair
from rag.text import fold, terms

REFUSAL_TEXT = "The documents do not contain an answer to this question."
# One reader call scores at most this many sentences, those of the best-ranked passages first.
MAX_READ = 16
# Of those, the reader reads the ones sharing the most of the question's terms: chosen on the
# validation corpora, where reading 10 (of 13.5 on average there) changed no refusal (13 of
# 1,166 answers moved; answered right 0.548 -> 0.546), and reading 8 changed refusals
# (bench/README.md, "Reading fewer sentences").
READ = 10
# A further sentence joins the answer when the reader judges it an answer as well: its own
# probability clears the refusal threshold and this share of the best sentence's probability.
# Chosen on validation data, not on an eval set: `python -m train constants` (train/constants.py),
# the best mean citation F1 over five validation corpora (grid 0.5-1.0, run of 2026-12-03 on
# reader 09edcf20: 0.9, F1 0.514; table in rag/reader_model/CARD.md).
FURTHER_SENTENCE_SHARE = 0.9
# Candidates are ranked by ``logit + RANK_PRIOR / (1 + passage rank)``: retrieval judged the whole
# passage against the corpus, the reader the sentence alone, and a sentence of the best passage
# wins a near tie. Chosen on the validation corpora, not on an eval set: `python -m train.ranking`
# (train/ranking.py), the best mean share of questions whose first sentence is an answer over
# five corpora (0.568 -> 0.614; left out in turn, four corpora gain and SelQA loses 0.02).
RANK_PRIOR = 3.25
# A list or table of more words than this is read as windows of its lines (``windows``): of the
# reader's 128 tokens, about 70 are left for the sentence after a question of 15 and 12 words each
# of section path and words before (rag/reader_input.py); documentation runs to about 1.5 tokens
# a word (identifiers split in several), so 40 words, rounded down. Derived, not tuned.
WINDOW_WORDS = 40
_LINE = re.compile(r"[^\s](?:[^\n]*[^\s])?")
# How many closest sentences (one per passage) a refusal shows as "not an answer".
CLOSEST = 3
# A line of at most this many words with no closing punctuation is a heading, not a sentence.
HEADING_WORDS = 12
_CLOSING = tuple(".!?…:;\"'”’")
# A sentence of at most this many words that continues a paragraph ("Defaults to 4093.", "Use
# rm instead.", "Returns undefined.") says too little alone: it is read and cited with the
# sentence before it (``continues``). A product choice (2-3% of the sentences of the manuals
# here; its effect on the validation sets: evals/README.md, round 12).
CONTINUATION_WORDS = 4
# A sentence that opens with a word pointing back ("This function will print ...", "It also
# becomes a no-op ...") leaves its subject in the sentence before it: a cited sentence takes
# that one along, back over at most this many sentences of its paragraph (``antecedent``).
_REFERS_BACK = re.compile(r"^\W*(?:this|these|that|those|such|it|its|they|their|them)\b", re.I)
MAX_BACK = 2
# A cited sentence whose paragraph has at most this many sentences is cited with its whole
# paragraph: in documentation a paragraph is a few sentences that lean on each other (the
# option's description, then its default: "The -w option specifies the number of processes.
# By default, only 1 worker is started."), and the reader's best is often not the one with
# the fact. 1 turns it off. A product choice; its effect on the validation sets is in
# evals/README.md (round 15).
PARAGRAPH_SENTENCES = 4
# Span kinds that may answer; the units that complete a sentence introducing them.
ANSWERING_KINDS = frozenset({"text", "list", "table"})
COMPLETING_KINDS = frozenset({"code", "list", "table"})
# A heading names the question's subject when their terms overlap this much (Jaccard): the
# heading's terms are most of the question's, and the question's most of the heading's.
HEADING_MATCH = 0.5
# "Listing 15-23: ...", "Figure 3.", "Table 2-1: ...": a caption describes a unit, it is no answer.
_CAPTION = re.compile(r"^\W*(?:listing|figure|fig\.|table)\s+[\w.-]*\d[\w.-]*\s*[:.]", re.I)
# A code line or a tool's output where the loader could not tell (plain text): a line that ends
# like a statement and holds code marks, a shell prompt, a compiler's diagnostic.
_CODE_MARKS = re.compile(r"::|=>|->|[{}()=<>]|\b(?:fn|def|let|var|const|import|use)\b")
_PROMPT = re.compile(r"^\s*[$%]\s+\S")
_DIAGNOSTIC = re.compile(r"^\s*(?:error|warning)(?:\[\w+\])?:|^\s*-->\s")


@dataclass(frozen=True)
class Judged:
    """One sentence of a passage with the reader's verdict."""

    passage: Passage
    start: int
    end: int
    text: str
    logit: float
    probability: float
    # "text", or the unit the sentence introduces and is cited with ("code", "list", "table").
    kind: str = "text"


def is_heading(text: str, title: str = "") -> bool:
    """A title or section line: short, no closing punctuation (or the document's title)."""
    stripped = text.strip()
    if title and stripped == title:
        return True
    return len(stripped.split()) <= HEADING_WORDS and not stripped.endswith(_CLOSING)


def is_question(text: str) -> bool:
    """A sentence that asks ("Where Am I Going?", an FAQ's question): it states nothing, so it
    answers nothing, though it is good context for the sentence after it."""
    return text.strip().rstrip("\"'”’)]»").endswith(("?", "？"))


def is_caption(text: str) -> bool:
    """A listing's, figure's or table's caption ("Listing 15-23: ...")."""
    return bool(_CAPTION.match(text))


def looks_like_code(text: str) -> bool:
    """A line of code or of a tool's output, in text the loader could not mark as code."""
    stripped = text.strip()
    if _PROMPT.match(stripped) or _DIAGNOSTIC.match(stripped):
        return True
    return stripped.endswith((";", "{", "}")) and bool(_CODE_MARKS.search(stripped[:-1]))


def span_kind(declared: str, text: str, title: str = "", following: str = "text") -> str:
    """A span's kind: the loader's, and for text what its words show it to be. ``following``:
    the kind of the next span (a short line that introduces code is no heading)."""
    kind = shape(declared, text)
    if kind != "text":
        return kind
    if is_heading(text, title) and not (following in COMPLETING_KINDS and introduces(text)):
        return "heading"
    return "text"


def shape(declared: str, text: str) -> str:
    """The loader's kind, or for text a code line or a caption its words show it to be."""
    if declared != "text":
        return declared
    if looks_like_code(text):
        return "code"
    if is_caption(text):
        return "caption"
    if is_question(text):
        return "question"
    return "text"


def context_title(chunk: Chunk) -> str:
    """What the reader sees as a sentence's title: the section path, else the document title."""
    return chunk.section or chunk.title


@dataclass(frozen=True)
class Span:
    """One span of a chunk, with its kind: headings, captions, code, lists, tables, text."""

    start: int
    end: int
    text: str
    kind: str


def spans(passage: Passage) -> list[Span]:
    """The passage's spans in order, with their kinds (document offsets): found once per
    passage, though an answer looks at them three times (``candidate_sentences``,
    ``section_lead``, ``complete``)."""
    return list(_spans(passage))


@lru_cache(maxsize=256)
def _spans(passage: Passage) -> tuple[Span, ...]:
    chunk = passage.chunk
    bounds = sentence_spans(passage)
    if not chunk.sentences:
        return tuple(
            Span(start, end, span_text(passage, start, end), "text") for start, end in bounds
        )
    declared = list(chunk.kinds) if len(chunk.kinds) == len(bounds) else ["text"] * len(bounds)
    texts = [span_text(passage, start, end) for start, end in bounds]
    shapes = [shape(kind, text) for kind, text in zip(declared, texts, strict=True)]
    out = []
    for i, (start, end) in enumerate(bounds):
        following = shapes[i + 1] if i + 1 < len(bounds) else "text"
        kind = span_kind(declared[i], texts[i], chunk.title, following)
        out.append(Span(start, end, texts[i], kind))
    return tuple(out)


def completed(passage: Passage, units: list[Span], i: int) -> Span:
    """Span ``i`` and, when it introduces it, the code block, list or table right after it, as
    one span; its kind is that unit's ("code", "list", "table"), else "text". A sentence that a
    short one continues (``continues``) takes it along, as text."""
    span = units[i]
    if span.kind == "text" and i + 1 < len(units):
        following = units[i + 1]
        if introduces(span.text) and following.kind in COMPLETING_KINDS:
            end = following.end
            return Span(span.start, end, span_text(passage, span.start, end), following.kind)
        last = continued_to(passage, units, i)
        if last > i:
            end = units[last].end
            return Span(span.start, end, span_text(passage, span.start, end), "text")
    return replace(span, kind=span.kind if span.kind in COMPLETING_KINDS else "text")


def reading_groups(passage: Passage) -> list[tuple[Span, str]]:
    """Every span of the passage with the words before it (none after a heading), a short
    sentence that continues another (``continues``) read with it, as ``candidate_sentences``
    reads them (which also leaves out headings and code, and adds the unit a sentence
    introduces): the generative path's claims are checked against these."""
    units = spans(passage)
    out = []
    for first, unit in enumerate(units):
        if first and continues(passage, units[first - 1], unit):
            continue  # read with the sentence it continues
        start, end = unit.start, units[continued_to(passage, units, first)].end
        whole = Span(start, end, span_text(passage, start, end), unit.kind)
        before = units[first - 1] if first else None
        out.append((whole, before.text if before and before.kind != "heading" else ""))
    return out


def continued_to(passage: Passage, units: list[Span], i: int) -> int:
    """The index of the last of the short sentences that continue span ``i`` (``i`` if none)."""
    last = i
    while last + 1 < len(units) and continues(passage, units[last], units[last + 1]):
        last += 1
    return last


def continues(passage: Passage, span: Span, following: Span) -> bool:
    """Whether ``following`` is a short sentence that continues ``span``'s paragraph (no blank
    line between them) and introduces nothing of its own."""
    return (
        span.kind == following.kind == "text"
        and len(following.text.split()) <= CONTINUATION_WORDS
        and not introduces(following.text)
        and not blank_line_between(passage, span, following)
    )


def blank_line_between(passage: Passage, span: Span, following: Span) -> bool:
    """Whether a blank line (CRLF or LF) separates ``span`` from ``following``: a new
    paragraph starts."""
    return "\n\n" in span_text(passage, span.end, following.start).replace("\r", "")


@dataclass(frozen=True)
class _Sentence:
    passage: Passage
    start: int
    end: int
    text: str
    before: str
    kind: str = "text"
    # A window of a long list or table (``windows``): the whole unit's bounds, what is cited.
    whole: tuple[int, int] | None = None


def candidate_sentences(passages: list[Passage]) -> list[_Sentence]:
    """The passages' sentences that may answer, best passage first, each once, each with the
    unit it introduces: the reader judges what would be cited. A sentence another passage
    already holds word for word (a page included in two others, a paragraph repeated) is read
    once, in the better-ranked passage: an answer never says it twice (``choose``), and each
    copy took one of the ``READ`` places (CMake's reference includes its option lists twice).

    Headings, captions and code are left out; ``before`` is the span before a sentence (not a
    heading): the reader's context.
    """
    seen: set[tuple[str, int, int]] = set()
    said: set[str] = set()
    out: list[_Sentence] = []
    for passage in passages:
        before = ""
        units = spans(passage)
        for i, span in enumerate(units):
            if span.kind == "heading":
                before = ""
                continue
            if i and continues(passage, units[i - 1], span):
                pass  # read with the sentence it continues
            elif span.kind in ANSWERING_KINDS:
                whole = completed(passage, units, i)
                key = (passage.chunk.source, whole.start, whole.end)
                text = _said(whole.text)
                if key not in seen and text not in said:
                    seen.add(key)
                    said.add(text)
                    out.append(
                        _Sentence(passage, whole.start, whole.end, whole.text, before, whole.kind)
                    )
            before = span.text
    # A list a sentence introduces is read with it and alone: cut into windows, the two share
    # all windows but the first, each read once.
    read: dict[tuple[str, int, int], _Sentence] = {}
    for sentence in out[:MAX_READ]:
        for window in windows(sentence):
            read.setdefault((window.passage.chunk.id, window.start, window.end), window)
    return list(read.values())


def windows(sentence: _Sentence) -> list[_Sentence]:
    """A list or table longer than the reader sees (``WINDOW_WORDS``) as windows of whole lines
    (its items, its rows) of at most ``WINDOW_WORDS`` words (a longer line is one window); else
    the sentence alone. A lead line (a table's header row, the sentence that introduces a list)
    opens the first window, its words counted there, and is the words before the others;
    without one, every window is read after the words before the unit.

    The reader reads 128 tokens: a long list's later items, a table's later rows, were never
    seen, so a question about the fifth parameter of a table was judged on the first four. A
    list is read alone as well as with its introduction: their windows are the same after the
    first (``_with_lead``), and each is read once (``candidate_sentences``)."""
    if sentence.kind not in ("list", "table") or len(sentence.text.split()) <= WINDOW_WORDS:
        return [sentence]
    lines = line_spans(sentence.text)
    first_line = sentence.text[slice(*lines[0])]
    led = sentence.kind == "table" or introduces(first_line)
    lead, rest = (first_line, lines[1:]) if led else (sentence.before, lines)
    if not rest:
        return [sentence]  # one line (a long header alone): nothing to cut it into
    sizes = [len(sentence.text[slice(*line)].split()) for line in rest]
    runs = _windows_of(sizes)
    if led:
        runs = _with_lead(runs, sizes, len(first_line.split()))
    out: list[_Sentence] = []
    for first, last in runs:
        start = lines[0][0] if led and not out else rest[first][0]
        end = rest[last][1]
        out.append(
            replace(
                sentence,
                start=sentence.start + start,
                end=sentence.start + end,
                text=sentence.text[start:end],
                before=sentence.before if led and not out else lead,
                whole=(sentence.start, sentence.end),
            )
        )
    return out


def _windows_of(words: list[int]) -> list[tuple[int, int]]:
    """Consecutive runs of lines (first, last indices) of at most ``WINDOW_WORDS`` words in all,
    each as long as it may be; a longer line is a run of its own."""
    runs: list[tuple[int, int]] = []
    first = 0
    while first < len(words):
        last = _run_end(words, first, words[first], len(words) - 1)
        runs.append((first, last))
        first = last + 1
    return runs


def _with_lead(runs: list[tuple[int, int]], words: list[int], lead: int) -> list[tuple[int, int]]:
    """``runs`` with the first cut where it no longer fits beside a lead line of ``lead`` words
    (it keeps at least its first line); the others stay as they are, the same windows as the
    unit read without its lead (a list is read alone too: ``candidate_sentences``)."""
    first, last = runs[0]
    end = _run_end(words, first, lead + words[first], last)
    return [(first, end), (end + 1, last), *runs[1:]] if end < last else runs


def _run_end(words: list[int], first: int, total: int, stop: int) -> int:
    """The last line of the run that starts at line ``first`` with ``total`` words so far: the
    lines after it join while the run stays within ``WINDOW_WORDS``, up to line ``stop``."""
    last = first
    while last < stop and total + words[last + 1] <= WINDOW_WORDS:
        last, total = last + 1, total + words[last + 1]
    return last


def line_spans(text: str) -> list[tuple[int, int]]:
    """The offsets of ``text``'s non-blank lines, each without its edge whitespace."""
    return [(m.start(), m.end()) for m in _LINE.finditer(text)]


def judge(
    question: str,
    passages: list[Passage],
    reader: Reader,
    dense_baseline: float | None = None,
    reading: str | None = None,
) -> list[Judged]:
    """Every candidate sentence with the reader's logit and probability, best first: by the
    logit, with the passage's retrieval rank as a prior (``RANK_PRIOR``).

    ``dense_baseline`` is the corpus's (rag/calibration.py); None: the reader card's default.
    ``reading``: what the reader reads of the question (rag/questions.reader_question); None:
    its sentences that ask. The scene helped find the passages, not read them."""
    sentences = worth_reading(question, candidate_sentences(passages))
    asked = asked_sentences(question) if reading is None else reading
    pairs = [
        reader_pair(asked, s.text, title=context_title(s.passage.chunk), before=s.before)
        for s in sentences
    ]
    logits = reader.logits(pairs)
    dense = top_dense(passages)
    judged = []
    for s, x in zip(sentences, logits, strict=True):
        # A window is judged as what would be cited: its whole list or table.
        start, end = s.whole or (s.start, s.end)
        probability = reader.probability(float(x), dense, dense_baseline)
        text = span_text(s.passage, start, end)
        judged.append(Judged(s.passage, start, end, text, float(x), probability, s.kind))
    rank = {p.chunk.id: i for i, p in enumerate(passages)}
    # Ties keep retrieval order (the sort is stable).
    judged.sort(key=lambda j: -ranked_score(j.logit, rank[j.passage.chunk.id]))
    # A list or table is judged by its best window.
    best: dict[tuple[str, int, int], Judged] = {}
    for j in judged:
        best.setdefault((j.passage.chunk.id, j.start, j.end), j)
    return list(best.values())


def ranked_score(logit: float, rank: int, prior: float = RANK_PRIOR) -> float:
    """A candidate's place in the answer: the reader's logit plus the prior for its passage's
    retrieval rank (0: the best passage)."""
    return logit + prior / (1 + rank)


def best_probability(judged: list[Judged]) -> float:
    """The reader's probability that the passages hold an answer: its best sentence's, whichever
    sentence leads ``judged`` (the refusal is the reader's, not the retrieval prior's)."""
    return max((j.probability for j in judged), default=0.0)


def worth_reading(question: str, sentences: list[_Sentence], limit: int = READ) -> list[_Sentence]:
    """The ``limit`` sentences that share the most of the question's terms (the sentence's own
    words), in their order; ties go to the better-ranked passage."""
    if len(sentences) <= limit:
        return sentences
    wanted = set(terms(question))
    counts = [len(wanted & set(terms(s.text))) for s in sentences]
    best = sorted(range(len(sentences)), key=lambda i: (-counts[i], i))[:limit]
    return [sentences[i] for i in sorted(best)]


def top_dense(passages: list[Passage]) -> float:
    """The question's cosine similarity with its closest retrieved passage (a retrieval signal)."""
    return max((p.dense_score or 0.0 for p in passages), default=0.0)


def rerank(passages: list[Passage], judged: list[Judged]) -> list[Passage]:
    """The passages in the order of their best sentences in ``judged`` (``judge``'s order: the
    reader's logit with the retrieval prior, as the extractive answer ranks them); passages with
    no judged sentence last, in retrieval order."""
    order: dict[str, int] = {}
    for j in judged:
        order.setdefault(j.passage.chunk.id, len(order))
    return sorted(passages, key=lambda p: order.get(p.chunk.id, len(order)))


def closest(judged: list[Judged], limit: int = CLOSEST) -> list[Citation]:
    """The best sentence of each of the best passages: shown with a refusal, as not an answer."""
    out: list[Citation] = []
    passages: set[str] = set()
    for j in judged:
        if j.passage.chunk.id in passages:
            continue
        passages.add(j.passage.chunk.id)
        citation = make_citation(len(out) + 1, j.passage, j.start, j.end, j.probability, False)
        out.append(replace(citation, kind=j.kind))
        if len(out) == limit:
            break
    return out


def refusal(
    question: str, confidence: float = 0.0, nearest: list[Citation] | None = None
) -> Answer:
    """The answer given when the passages do not hold one: no citations, the closest passages."""
    return Answer(
        question=question,
        text=REFUSAL_TEXT,
        refused=True,
        confidence=round(confidence, 4),
        closest=list(nearest or []),
    )


def choose(judged: list[Judged], threshold: float, max_sentences: int) -> list[Judged]:
    """The best sentence, and others the reader also judges answers (up to ``max_sentences``);
    never a sentence the answer already says word for word (the same page under two names, a
    paragraph repeated in another document): it would only repeat itself."""
    best = judged[0]
    floor = max(threshold, FURTHER_SENTENCE_SHARE * best.probability)
    said = {_said(best.text)}
    chosen = [best]
    for j in judged[1:]:
        if len(chosen) >= max_sentences:
            break
        if j.probability >= floor and _said(j.text) not in said:
            said.add(_said(j.text))
            chosen.append(j)
    return chosen


def _said(text: str) -> str:
    return " ".join(fold(text).split())


@dataclass(frozen=True)
class Cited:
    """One span of the answer: a sentence (or a section's lead), with what completes it."""

    passage: Passage
    start: int
    end: int
    probability: float
    kind: str = "text"


def complete(passage: Passage, start: int, end: int, probability: float) -> Cited:
    """The span ``start:end`` (whole sentences) and, when its last sentence introduces it, the
    code, list or table after it."""
    units = spans(passage)
    last = next((i for i, u in enumerate(units) if u.end == end), None)
    if last is None:
        return Cited(passage, start, end, probability)
    whole = completed(passage, units, last)
    return Cited(passage, start, whole.end, probability, whole.kind)


def _cited(j: Judged) -> str:
    """What citing ``j`` would quote: its sentence and the unit it introduces."""
    return span_text(j.passage, j.start, complete(j.passage, j.start, j.end, j.probability).end)


def heading_match(question: str, heading: str) -> float:
    """How well a heading names the question's subject: the Jaccard overlap of their terms."""
    asked, named = set(terms(question)), set(terms(heading))
    if not asked or not named:
        return 0.0
    return len(asked & named) / len(asked | named)


def section_lead(
    question: str, passages: list[Passage], max_sentences: int
) -> tuple[Passage, list[Span]] | None:
    """The lead paragraph of the section whose heading (marked by the loader) best names the
    question's subject, if one names it: its first sentences, up to ``max_sentences``."""
    best: tuple[float, Passage, list[Span]] | None = None
    for passage in passages:
        declared = passage.chunk.kinds
        units = spans(passage)
        if len(declared) != len(units):
            continue  # no structure from the loader
        for i, unit in enumerate(units):
            # Only the loader's headings: short lines taken for headings are too often a
            # document's title line or a label.
            if declared[i] != "heading" or i + 1 >= len(units):
                continue
            score = heading_match(question, unit.text)
            if score < HEADING_MATCH or (best is not None and score <= best[0]):
                continue
            lead = lead_paragraph(passage, units[i + 1 :], declared[i + 1 :], max_sentences)
            if lead:
                best = (score, passage, lead)
    return (best[1], best[2]) if best else None


def lead_paragraph(
    passage: Passage, units: list[Span], declared: tuple[str, ...], max_sentences: int
) -> list[Span]:
    """The first sentences of the first paragraph of ``units`` (up to the next heading of the
    loader): what opens a section before it ("Added in: v0.1", a list of parameters, a code
    block) is passed over."""
    lead: list[Span] = []
    sentences = 0  # a short continuation is not one of its own (``continues``)
    for unit, kind in zip(units, declared, strict=True):
        if kind == "heading":
            break
        if lead and continues(passage, lead[-1], unit):
            lead.append(unit)
            continue
        if sentences == max_sentences:
            break
        if unit.kind != "text":
            if lead:
                break  # another kind of unit ends the paragraph
            continue
        if lead and blank_line_between(passage, lead[-1], unit):
            break  # a blank line ends the paragraph
        lead.append(unit)
        sentences += 1
    return lead


def answer_spans(
    question: str,
    passages: list[Passage],
    judged: list[Judged],
    threshold: float,
    max_sentences: int,
    admissible: Callable[[str], bool] | None = None,
) -> list[Cited]:
    """What the answer cites: a section's lead when the question names its heading (and the
    lead is ``admissible``, as ``answer_extractive`` asks of sentences), else the reader's
    sentences (each with the unit it introduces)."""
    found = section_lead(question, passages, max_sentences)
    if found is not None:
        passage, lead = found
        start, end = lead[0].start, lead[-1].end
        # The citation's score: the reader's best for a sentence of the lead, if it read one,
        # else its best of all (the answer's confidence), whichever sentence leads ``judged``.
        own = [
            j.probability
            for j in judged
            if j.passage.chunk.source == passage.chunk.source and start <= j.start < end
        ]
        led = complete(passage, start, end, max(own, default=best_probability(judged)))
        if admissible is None or admissible(span_text(passage, led.start, led.end)):
            return [led]
    cited: list[Cited] = []
    for j in choose(judged, threshold, max_sentences):
        alone = Cited(j.passage, j.start, j.end, j.probability, j.kind)
        start, end = short_paragraph(j.passage, j.start, j.end)
        whole = [replace(alone, start=start, end=end)] if (start, end) != (j.start, j.end) else []
        # With its short paragraph, or the sentence it points back to, unless those are cited
        # already.
        for span in (*whole, replace(alone, start=antecedent(j.passage, j.start)), alone):
            if span.kind == "code" and "\n" in span_text(j.passage, span.start, j.start):
                continue  # the page shows what comes before code as one line (ui/render.py)
            if not any(_overlaps(span, other) for other in cited):
                cited.append(span)
                break  # else already in the answer (the list a chosen sentence introduced, say)
    return cited


def refers_back(text: str) -> bool:
    """Whether a sentence opens with a word that points back to the one before it."""
    return bool(_REFERS_BACK.match(text))


def antecedent(passage: Passage, start: int) -> int:
    """Where the citation of the sentence at ``start`` begins: at the sentence its opening word
    points back to ("In click, this is done with the pause function. This function will print
    ..."), up to ``MAX_BACK`` sentences back within its paragraph (a blank line, a heading, code
    or the chunk's start stops it; the heading is shown as the answer's label anyway), with the
    sentence a short one continues (``continues``); else at ``start``."""
    units = spans(passage)
    i = next((k for k, u in enumerate(units) if u.start == start), None)
    if i is None:
        return start
    for _ in range(MAX_BACK):
        if not i or not refers_back(units[i].text):
            break
        before = units[i - 1]
        if before.kind != "text" or blank_line_between(passage, before, units[i]):
            break
        i -= 1
        while i and continues(passage, units[i - 1], units[i]):
            i -= 1
    return units[i].start


def short_paragraph(passage: Passage, start: int, end: int) -> tuple[int, int]:
    """The bounds of the paragraph of the sentences ``start:end`` (as the passage holds it:
    text units with no blank line, heading or other unit between them) when it has at most
    ``PARAGRAPH_SENTENCES`` sentences (a short one that continues another counts with it);
    else ``start:end``. The end never comes before ``end`` (a list the sentence introduces); a
    sentence that introduces the unit after it goes with that unit (``completed``), not here."""
    units = spans(passage)
    first = next((i for i, u in enumerate(units) if u.start == start), None)
    last = next((i for i, u in enumerate(units) if u.end == end), None)
    if first is None or last is None or last < first or units[first].kind != "text":
        return start, end  # not whole spans of the passage
    last = first if units[last].kind != "text" else last  # the sentence introduced a unit

    def joined(a: int, b: int) -> bool:
        return units[a].kind == units[b].kind == "text" and not blank_line_between(
            passage, units[a], units[b]
        )

    while first and joined(first - 1, first):
        first -= 1
    while (
        last + 1 < len(units)
        and joined(last, last + 1)
        and completed(passage, units, last + 1).kind not in COMPLETING_KINDS
    ):
        last += 1
    sentences = sum(
        1
        for i in range(first, last + 1)
        if not (i > first and continues(passage, units[i - 1], units[i]))
    )
    if sentences > PARAGRAPH_SENTENCES:
        return start, end
    return units[first].start, max(end, units[last].end)


def section_label(chunk: Chunk) -> str:
    """The heading of the section a chunk is in, below the document's title ("" for none): in
    reference documentation the heading often names what its sentences describe ("--watch-path",
    "Event: 'line'") while they leave it out ("Starts Node.js in watch mode...")."""
    path = chunk.section.split(SECTION_SEPARATOR) if chunk.section else []
    label = path[-1].strip() if len(path) > 1 else ""
    # A "heading" longer than a heading is a paragraph a document styled as one: no label.
    return label if len(label.split()) <= HEADING_WORDS else ""


def labelled(sentence: str, label: str) -> str:
    """The sentence led by its section's heading, unless the sentence already holds it."""
    if not label or fold(label) in fold(sentence):
        return sentence
    return f"{label} — {sentence}"


def answer_text(citations: list[Citation], chunks: list[Chunk]) -> str:
    """Each cited span followed by its marker; the first span of each section is led by the
    section's heading (``labelled``), so an answer names what its sentences are about."""
    parts: list[str] = []
    shown: set[tuple[str, str]] = set()
    for citation, chunk in zip(citations, chunks, strict=True):
        label = section_label(chunk)
        key = (chunk.source, chunk.section)
        text = citation.text if key in shown else labelled(citation.text, label)
        shown.add(key)
        parts.append(f"{text} [{citation.index}]")
    return " ".join(parts)


def _overlaps(a: Cited, b: Cited) -> bool:
    return a.passage.chunk.source == b.passage.chunk.source and a.start < b.end and b.start < a.end


def answer_extractive(
    question: str,
    passages: list[Passage],
    reader: Reader,
    *,
    refusal_threshold: float,
    max_sentences: int = 2,
    dense_baseline: float | None = None,
    admissible: Callable[[str], bool] | None = None,
    reading: str | None = None,
) -> Answer:
    """Compose an answer from whole sentences (with the units they introduce), each followed by
    its ``[n]`` marker, or refuse. ``admissible``: what a sentence (with its unit) must be to
    answer, such as holding the number the question asks for (rag/numbers.py); the best of
    those is the answer, and the closest passages shown with a refusal are any sentence's.
    ``reading``: what the reader reads of the question (``judge``)."""
    judged = judge(question, passages, reader, dense_baseline, reading)
    if not judged:
        return refusal(question)
    fitting = judged if admissible is None else [j for j in judged if admissible(_cited(j))]
    score = best_probability(fitting)
    if not fitting or score < refusal_threshold:
        return refusal(question, score, closest(judged))
    chosen = answer_spans(question, passages, fitting, refusal_threshold, max_sentences, admissible)
    # Spans of one document keep their order, for a readable answer.
    lead = chosen[0].passage.chunk.source
    chosen.sort(key=lambda c: (c.passage.chunk.source != lead, c.passage.chunk.source, c.start))
    citations = [
        replace(make_citation(i, c.passage, c.start, c.end, c.probability), kind=c.kind)
        for i, c in enumerate(chosen, start=1)
    ]
    text = answer_text(citations, [c.passage.chunk for c in chosen])
    return Answer(question=question, text=text, citations=citations, confidence=round(score, 4))
