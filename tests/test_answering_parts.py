"""rag/answering.py's parts on hand-made sentences and scores: no reader call, no index. Written
for the holes mutation testing found (tests/README.md); each was seen failing on its mutant."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from rag import answering
from rag.answering import (
    RANK_PRIOR,
    Cited,
    Judged,
    Span,
    answer_extractive,
    answer_spans,
    antecedent,
    candidate_sentences,
    choose,
    closest,
    completed,
    continues,
    heading_match,
    is_heading,
    judge,
    labelled,
    looks_like_code,
    reading_groups,
    refers_back,
    refusal,
    rerank,
    section_label,
    section_lead,
    shape,
    short_paragraph,
    spans,
    top_dense,
)
from rag.chunking import chunk_document
from rag.loaders import load_document
from rag.models import Chunk, Passage
from rag.reader import shared_reader
from rag.reader_input import reader_pair
from tests.test_bug_guards import BODY, passages, tied_reader
from tests.test_structured_answers import CARGO, Blocks, structured


def passage(source: str, text: str = "One sentence here. Another one there.") -> Passage:
    (chunk,) = chunk_document(source, text, size=2000, overlap=0)
    return Passage(chunk=chunk, score=1.0, dense_score=0.5, lexical_score=1.0)


def judged(p: Passage, logit: float, probability: float = 0.5, start: int = 0) -> Judged:
    end = p.chunk.text.index(".", start) + 1
    return Judged(p, start, end, p.chunk.text[start:end], logit, probability)


def test_passages_are_reranked_as_their_best_sentences_are_judged_unjudged_last() -> None:
    a, b, c = passage("a.txt"), passage("b.txt"), passage("c.txt")
    # Best first, as judge() returns them: b's best sentence beats a's, its second does not.
    scores = [judged(b, 3.0), judged(a, 1.0), judged(b, 0.5, start=19)]
    assert [p.chunk.source for p in rerank([a, c, b], scores)] == ["b.txt", "a.txt", "c.txt"]
    assert [p.chunk.source for p in rerank([c, a], [judged(a, -2.0)])] == ["a.txt", "c.txt"]
    assert [p.chunk.source for p in rerank([c, b, a], [])] == ["c.txt", "b.txt", "a.txt"]
    # judge()'s order holds the retrieval prior: a sentence of the first passage with a lower
    # logit may lead; the generative path asks about the passages in that order too.
    prior_led = [judged(a, 1.0), judged(b, 2.0)]
    assert [p.chunk.source for p in rerank([b, a], prior_led)] == ["a.txt", "b.txt"]


def test_a_refusal_shows_the_best_sentence_of_each_of_the_best_passages() -> None:
    a, b, c, d = (passage(f"{name}.txt") for name in "abcd")
    scores = [judged(a, 3.0, 0.4), judged(a, 2.0, 0.3, start=19), judged(b, 1.0, 0.2)]
    scores += [judged(c, 0.5, 0.1), judged(d, 0.2, 0.05)]
    shown = closest(scores)
    assert [(c.index, c.source, c.start, c.verified) for c in shown] == [
        (1, "a.txt", 0, False),
        (2, "b.txt", 0, False),
        (3, "c.txt", 0, False),
    ]
    assert all(c.verified is False for c in shown)
    assert [c.source for c in closest(scores, limit=2)] == ["a.txt", "b.txt"]
    assert closest([replace(scores[0], kind="code")], limit=1)[0].kind == "code"


def test_a_refusal_keeps_the_question_and_a_four_digit_confidence() -> None:
    answer = refusal("Who?", 0.123456)
    assert answer.question == "Who?" and answer.confidence == 0.1235 and answer.refused


def test_a_question_or_heading_without_content_terms_matches_nothing() -> None:
    assert heading_match("what is it?", "Installing the tool") == 0.0
    assert heading_match("How do I install the tool?", "What is it") == 0.0
    assert heading_match("How do I install the tool?", "Install the tool") > 0.5


PARAGRAPHS: Blocks = [
    ("heading", "Installing the tool"),
    ("text", "Download the archive for your system. Unpack it into a folder on your path."),
    ("text", "Older releases are listed on the archive page."),
]


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_a_blank_line_ends_a_sections_lead(newline: str) -> None:
    text, found = structured(PARAGRAPHS, "Guide > Installing the tool")
    pieces = [text[s:e] for s, e in found.chunk.sentences]
    text = text.replace("\n", newline)
    bounds = tuple((text.index(piece), text.index(piece) + len(piece)) for piece in pieces)
    chunk = replace(found.chunk, text=text, end=len(text), sentences=bounds)
    lead = section_lead("How do I install the tool?", [replace(found, chunk=chunk)], 3)
    assert lead is not None
    assert [s.text for s in lead[1]] == [
        "Download the archive for your system.",
        "Unpack it into a folder on your path.",
    ]


def test_sentences_of_different_documents_at_the_same_offsets_are_both_cited() -> None:
    # Other words at the same offsets (the same words would be said once: the next test).
    a, b = passage("a.txt"), passage("b.txt", "Two sentences now. Another one there.")
    scores = [judged(a, 3.0, 0.9), judged(b, 2.9, 0.9)]
    cited = answer_spans("Which one?", [a, b], scores, 0.5, 2)
    assert [(c.passage.chunk.source, c.start) for c in cited] == [("a.txt", 0), ("b.txt", 0)]


@pytest.mark.usefixtures("sentence_citations")
def test_adjacent_sentences_do_not_overlap_but_a_repeated_one_does() -> None:
    a = passage("a.txt", "First one.Second one.")
    first = Judged(a, 0, 10, "First one.", 3.0, 0.9)
    second = Judged(a, 10, 21, "Second one.", 2.9, 0.9)
    cited = answer_spans("Which one?", [a], [first, second], 0.5, 2)
    assert [(c.start, c.end) for c in cited] == [(0, 10), (10, 21)]
    later_first = answer_spans("Which one?", [a], [replace(second, logit=4.0), first], 0.5, 2)
    assert [(c.start, c.end) for c in later_first] == [(10, 21), (0, 10)]
    again = answer_spans("Which one?", [a], [first, replace(first, logit=2.0)], 0.5, 2)
    assert [(c.start, c.end) for c in again] == [(0, 10)]
    repeated = [first, replace(first, logit=2.95), second]
    skipped = answer_spans("Which one?", [a], repeated, 0.5, 3)
    assert [(c.start, c.end) for c in skipped] == [(0, 10), (10, 21)]
    assert all(isinstance(c, Cited) for c in cited)


def test_an_answer_never_says_a_sentence_twice() -> None:
    """Tried on Apache Ant's manual: two deprecated tasks' pages hold the same parameter row,
    and the answer said it twice, one citation each. A further sentence the answer already
    says word for word (white space and case aside) is passed over for the next one."""
    a = passage("copyfile.txt", "Overwrite existing files. Keep the dates.")
    b = passage("copydir.txt", "Overwrite  existing FILES. Ignore empty folders.")
    best, repeat = judged(a, 3.0, 0.9), judged(b, 2.9, 0.9)
    other = judged(b, 2.8, 0.9, start=27)
    assert choose([best, repeat, other], 0.3, 2) == [best, other]
    assert choose([best, repeat], 0.3, 2) == [best]
    assert choose([best, judged(a, 2.9, 0.9, start=26), other], 0.3, 2)[1].text == "Keep the dates."


def test_choose_keeps_a_further_sentence_exactly_at_the_floor() -> None:
    a = passage("a.txt")
    both = [judged(a, 2.0, 0.3), judged(a, 1.0, 0.3, start=19)]
    assert len(choose(both, 0.3, 2)) == 2


THREE: Blocks = [
    ("heading", "Installing the tool"),
    (
        "text",
        "Download the archive for your system. Unpack it into a folder on your path. "
        "Open a new terminal afterwards.",
    ),
    ("text", "Older releases are listed on the archive page."),
]


@pytest.mark.parametrize("most", [2, 3])
def test_a_section_lead_holds_at_most_max_sentences_scored_by_its_own(most: int) -> None:
    text, found = structured(THREE, "Guide > Installing the tool")
    first = found.chunk.sentences[1]  # the lead's first sentence (0 is the heading)
    outside = found.chunk.sentences[-1]
    other = passage("other.txt", "A sentence far away. " * 5)
    scores = [
        Judged(other, first[0] + 1, first[0] + 5, "x", 5.0, 0.9),  # another document
        Judged(found, outside[0], outside[1], "Older", 4.0, 0.8),  # outside the lead
        Judged(found, first[0], first[1], "Download", 3.0, 0.6),
    ]
    (cited,) = answer_spans("How do I install the tool?", [found], scores, 0.5, most)
    sentences = found.chunk.sentences[1 : 1 + most]
    assert (cited.start, cited.end) == (sentences[0][0], sentences[-1][1])
    assert text[cited.start : cited.end].count(". ") == most - 1
    assert cited.probability == 0.6
    # No sentence of the lead was read: the reader's best sentence scores it, even when another
    # sentence leads the judged list (the retrieval prior).
    (unread,) = answer_spans("How do I install the tool?", [found], scores[:2], 0.5, most)
    assert unread.probability == 0.9
    (unread,) = answer_spans("How do I install the tool?", [found], scores[1::-1], 0.5, most)
    assert unread.probability == 0.9


def test_a_section_is_found_after_a_passage_without_structure() -> None:
    _, found = structured(PARAGRAPHS, "Guide > Installing the tool")
    plain = passage("plain.txt")
    plain = replace(plain, chunk=replace(plain.chunk, kinds=()))  # an index from before kinds
    lead = section_lead("How do I install the tool?", [plain, found], 2)
    assert lead is not None and lead[0] is found


def test_a_heading_followed_by_one_sentence_leads_to_it() -> None:
    blocks: Blocks = [
        ("text", "Some words before the section."),
        ("heading", "Installing the tool"),
        ("text", "Download the archive for your system."),
    ]
    _, found = structured(blocks, "Guide > Installing the tool")
    lead = section_lead("How do I install the tool?", [found], 2)
    assert lead is not None
    assert [s.text for s in lead[1]] == ["Download the archive for your system."]


def test_a_heading_that_names_half_the_subject_is_enough() -> None:
    """Jaccard of {instal, tool} and {instal}: exactly HEADING_MATCH, 0.5."""
    blocks: Blocks = [("heading", "Installing"), ("text", "Download the archive first.")]
    _, found = structured(blocks, "Guide > Installing")
    assert heading_match("install tool", "Installing") == 0.5
    assert section_lead("install tool", [found], 2) is not None


def test_of_two_sections_that_name_the_subject_alike_the_first_leads() -> None:
    _, first = structured(PARAGRAPHS, "Guide > Installing the tool", source="guide.html")
    other: Blocks = [("heading", "Installing the tool"), ("text", "Ask your administrator.")]
    _, second = structured(other, "Admin > Installing the tool", source="admin.html")
    lead = section_lead("How do I install the tool?", [first, second], 2)
    assert lead is not None and lead[0] is first


def test_a_section_after_one_that_does_not_match_is_found() -> None:
    blocks: Blocks = [
        ("heading", "Release history"),
        ("text", "The first release came out in 2019."),
        *PARAGRAPHS,
    ]
    _, found = structured(blocks, "Guide")
    lead = section_lead("How do I install the tool?", [found], 2)
    assert lead is not None
    assert lead[1][0].text == "Download the archive for your system."


@pytest.mark.usefixtures("sentence_citations")
def test_an_extractive_answer_has_two_sentences_by_default(tmp_path: Path) -> None:
    reader = tied_reader(tmp_path / "tied")  # every sentence at probability 0.5
    answer = answer_extractive("What happened?", passages(BODY), reader, refusal_threshold=0.5)
    assert len(answer.citations) == 2


def test_the_corpus_baseline_reaches_the_reader() -> None:
    reader = shared_reader()
    assert reader.card.baseline_range is not None
    low, high = reader.card.baseline_range
    found = passages(BODY)
    question = "Who led the Serbian delegation?"
    for baseline in (low, high):
        answer = answer_extractive(
            question, found, reader, refusal_threshold=0.0, dense_baseline=baseline
        )
        best = judge(question, found, reader, baseline)[0]
        assert answer.confidence == round(best.probability, 4)
    assert judge(question, found, reader, low)[0].probability != (
        judge(question, found, reader, high)[0].probability
    )


def test_no_passages_is_a_refusal_of_this_question() -> None:
    answer = answer_extractive("Anything?", [], shared_reader(), refusal_threshold=0.5)
    assert answer.refused and answer.question == "Anything?"
    below = answer_extractive("Anything?", passages(BODY), shared_reader(), refusal_threshold=1.0)
    assert below.refused and below.question == "Anything?"


def test_a_section_lead_that_introduces_code_is_cited_as_code() -> None:
    _, found = structured(CARGO, "The Cargo Book > Hello, Cargo!")
    scores = judge("How do I create a new project with Cargo?", [found], shared_reader())
    (cited,) = answer_spans("How do I create a new project with Cargo?", [found], scores, 0.0, 2)
    assert cited.kind == "code" and found.chunk.text[cited.start : cited.end].endswith(
        "hello_cargo"
    )


def test_the_best_sentences_document_comes_first_in_the_answer(tmp_path: Path) -> None:
    reader = tied_reader(tmp_path / "tied")  # ties keep retrieval order: b.txt's is the best
    found = passages("The bridge opened in 1932.", "b.txt")
    found += passages("Ferries stopped running in 1940.", "a.txt")
    answer = answer_extractive("What happened?", found, reader, refusal_threshold=0.5)
    assert [c.source for c in answer.citations] == ["b.txt", "a.txt"]
    assert answer.question == "What happened?"
    assert answer.text == "The bridge opened in 1932. [1] Ferries stopped running in 1940. [2]"


def chunk_in(section: str) -> Chunk:
    return Chunk(id="c", source="cli.md", start=0, end=1, text="x", section=section)


def test_a_sentence_is_led_by_its_sections_heading_when_it_leaves_the_heading_out() -> None:
    assert section_label(chunk_in("Manual > Options > --watch-path")) == "--watch-path"
    assert section_label(chunk_in("Manual")) == ""  # the document's title alone: no section
    assert section_label(chunk_in("")) == ""
    long = " ".join(["word"] * 13)  # a paragraph styled as a heading
    assert section_label(chunk_in(f"Manual > {long}")) == ""
    assert section_label(chunk_in("Manual > " + " ".join(["word"] * 12))) != ""
    said = "Starts Node.js in watch mode and specifies what paths to watch."
    assert labelled(said, "--watch-path") == f"--watch-path \u2014 {said}"
    # A sentence that holds the heading's text already is left alone (case folded).
    assert labelled("Use --Watch-Path twice.", "--watch-path") == "Use --Watch-Path twice."
    assert labelled(said, "") == said


def test_a_heading_holding_the_path_separator_is_still_its_own_label(tmp_path: Path) -> None:
    # "a > b" in a heading (shell redirection, comparisons) must not split it into two headings.
    (tmp_path / "shell.md").write_text(
        "# Shell > Guide\n\n## Redirect: cmd > file\n\nWrites the output to a file.\n",
        encoding="utf-8",
    )
    document = load_document(tmp_path / "shell.md")
    chunks = chunk_document(
        "shell.md", document.text, size=400, overlap=0, blocks=document.blocks, title="Shell"
    )
    body = [c for c in chunks if "Writes the output" in c.text]
    assert body and section_label(body[0]) == "Redirect: cmd › file"
    assert section_label(chunk_in("Manual > a › b")) == "a › b"


@pytest.mark.usefixtures("sentence_citations")
def test_an_answer_labels_the_first_span_of_each_section_once(tmp_path: Path) -> None:
    reader = tied_reader(tmp_path / "tied")
    first = passages("The flag starts watch mode. It restarts the process on change.", "cli.md")
    first = [replace(p, chunk=replace(p.chunk, section="CLI > --watch")) for p in first]
    answer = answer_extractive("What does it do?", first, reader, refusal_threshold=0.5)
    assert answer.text == (
        "--watch \u2014 The flag starts watch mode. [1] It restarts the process on change. [2]"
    )
    # The citations are the sentences alone: the label is context, never cited.
    assert [c.text for c in answer.citations] == [
        "The flag starts watch mode.",
        "It restarts the process on change.",
    ]


def test_a_chunk_stored_without_sentences_is_one_text_span() -> None:
    """An index from before sentences were stored: the whole chunk is one span of text, at its
    document offsets, whatever its words look like."""
    body = "Installing the tool"  # a heading's words: not looked at without sentences
    chunk = passage("old.txt", body).chunk
    old = Passage(replace(chunk, start=100, end=100 + len(body), sentences=(), kinds=()), 1.0)
    assert spans(old) == [Span(100, 100 + len(body), body, "text")]


def test_spans_keep_the_loaders_kinds_and_offsets_or_read_the_words() -> None:
    text, found = structured(
        [("heading", "Setup"), ("text", "Some words before it. Then run"), ("code", "make all")],
        "Guide > Setup",
    )
    shifted = replace(found.chunk, start=50, end=50 + len(text))
    units = spans(replace(found, chunk=shifted))
    starts = [50 + s for s, _ in found.chunk.sentences]
    assert [(u.start, u.end - u.start) for u in units] == [
        (start, e - s) for start, (s, e) in zip(starts, found.chunk.sentences, strict=True)
    ]
    # A short line that introduces the code right after it is no heading.
    assert [(u.text, u.kind) for u in units] == [
        ("Setup", "heading"),
        ("Some words before it.", "text"),
        ("Then run", "text"),
        ("make all", "code"),
    ]
    # Followed by text, the same line is a heading; with kinds that do not fit the sentences
    # (another loader's), every kind is read from the words.
    _, plain = structured([("text", "Some words before it. Then run"), ("text", "Done.")], "G")
    assert [u.kind for u in spans(plain)] == ["text", "heading", "text"]
    unfit = replace(found, chunk=replace(found.chunk, kinds=found.chunk.kinds[:-1]))
    assert [u.kind for u in spans(unfit)] == ["heading", "text", "heading", "heading"]


def test_a_line_that_is_the_documents_title_is_a_heading() -> None:
    found = passage("t.txt", "Read me first. The tool is small.")
    titled = replace(found, chunk=replace(found.chunk, title="Read me first."))
    assert [u.kind for u in spans(titled)] == ["heading", "text"]
    assert [u.kind for u in spans(found)] == ["text", "text"]


def test_the_retrieval_signal_is_the_best_dense_score_none_counting_as_zero() -> None:
    a, b = passage("a.txt"), passage("b.txt")
    assert top_dense([replace(a, dense_score=0.4), replace(b, dense_score=0.6)]) == 0.6
    assert top_dense([replace(a, dense_score=None), replace(b, dense_score=0.3)]) == 0.3
    assert top_dense([replace(a, dense_score=None)]) == 0.0  # BM25 alone found it
    assert top_dense([]) == 0.0


@pytest.mark.parametrize(
    "line",
    [
        "$ cargo build",  # a shell prompt
        "% make",
        "error: could not compile `hello`",  # a compiler's diagnostic
        "warning[W1]: unused variable",
        "  --> src/main.rs:2:5",
        "let x = 5;",  # a statement
        "fn main() {",
        "map.insert(key, value) }",
        "}}",  # the mark is the line's last but one character
    ],
)
def test_lines_of_code_or_tool_output_read_as_code(line: str) -> None:
    assert looks_like_code(line)
    assert shape("text", line) == "code"  # in text the loader could not mark
    assert shape("list", line) == "list"  # the loader's kind wins


@pytest.mark.parametrize(
    "line", ["Use a semicolon;", "The values go in braces {", "x", "Run it: $ cargo build"]
)
def test_sentences_that_end_like_code_without_its_marks_are_text(line: str) -> None:
    assert not looks_like_code(line)
    assert shape("text", line) == "text"


def test_a_caption_is_read_from_its_words() -> None:
    assert shape("text", "Listing 1-2: The contents of the Cargo.toml file.") == "caption"
    assert shape("code", "Listing 1-2: The contents of the Cargo.toml file.") == "code"


def test_each_sentence_is_read_with_its_title_and_the_sentence_before_it() -> None:
    """As in training: the reader sees a sentence with the chunk's title and the words before
    it, so a sentence that says "it" is read knowing what "it" is."""
    texts = [
        "The Harbour bridge opened in 1932.",
        "It carries rail and road traffic.",
        "Painters keep it a shade of grey.",
    ]
    found = passage("bridge.txt", " ".join(texts))
    found = replace(found, chunk=replace(found.chunk, title="Sydney Harbour Bridge"))
    question = "What does the bridge carry?"
    reader = shared_reader()
    logits = {j.text: j.logit for j in judge(question, [found], reader)}
    pairs = [
        reader_pair(question, t, title="Sydney Harbour Bridge", before=texts[i - 1] if i else "")
        for i, t in enumerate(texts)
    ]
    expected = reader.logits(pairs)
    assert [logits[t] for t in texts] == pytest.approx([float(x) for x in expected], abs=1e-4)


def test_a_sentence_in_two_chunks_or_two_documents_is_read_once() -> None:
    """Overlapping chunks of one document hold the same sentence at the same offsets: the
    reader judges it once (the better-ranked chunk's)."""
    text = "One sentence here. Another sentence stands right there."
    first = passage("a.txt", text)
    overlap = replace(first, chunk=replace(first.chunk, id="another chunk"), score=0.5)
    found = candidate_sentences([first, overlap])
    assert [(s.passage, s.start) for s in found] == [(first, 0), (first, 19)]
    other = passage("b.txt", "One sentence here. A sentence only b.txt holds.")
    # The same sentence in another document (an included page) is read once too, in the
    # better-ranked passage; the other document's own sentence is read.
    assert [(s.passage.chunk.source, s.text) for s in candidate_sentences([first, other])] == [
        ("a.txt", "One sentence here."),
        ("a.txt", "Another sentence stands right there."),
        ("b.txt", "A sentence only b.txt holds."),
    ]
    assert [s.passage.chunk.source for s in candidate_sentences([other, first])][:2] == [
        "b.txt",
        "b.txt",
    ]


def test_a_sentence_is_completed_by_the_unit_it_introduces_even_the_last_one() -> None:
    text, found = structured(
        [("text", "Some words first. Install it like this:"), ("code", "$ make install")], "G"
    )
    units = spans(found)
    whole = completed(found, units, 1)
    assert (whole.start, whole.end, whole.kind) == (units[1].start, len(text), "code")
    assert whole.text == "Install it like this:\n\n$ make install"
    assert completed(found, units, 0) == replace(units[0], kind="text")
    # An introducing sentence with nothing after it stays a sentence.
    _, ending = structured([("text", "Some words first. Install it like this:")], "G")
    last = spans(ending)
    assert completed(ending, last, 1) == last[1]


def test_a_list_keeps_its_kind_and_a_twelve_word_line_is_a_heading() -> None:
    _, found = structured([("text", "Plain words here."), ("list", "one\ntwo\nthree")], "G")
    units = spans(found)
    assert [completed(found, units, i).kind for i in range(2)] == ["text", "list"]
    twelve = " ".join(["word"] * 12)
    assert is_heading(twelve) and not is_heading(twelve + " more")


def test_each_section_of_an_answer_gets_its_own_label(tmp_path: Path) -> None:
    """Kills ``answer_text_12`` (one label for the whole answer)."""
    reader = tied_reader(tmp_path / "tied")
    first = passages("The flag starts watch mode.", "cli.md")
    first = [replace(p, chunk=replace(p.chunk, section="CLI > --watch")) for p in first]
    second = passages("The other flag stops it.", "cli2.md")
    second = [replace(p, chunk=replace(p.chunk, section="CLI > --stop")) for p in second]
    answer = answer_extractive("What do they do?", first + second, reader, refusal_threshold=0.5)
    parts = sorted(re.sub(r" \[\d\]", "", part) for part in re.split(r"(?<=\]) ", answer.text))
    assert parts == [
        "--stop \u2014 The other flag stops it.",
        "--watch \u2014 The flag starts watch mode.",
    ]


class ScriptedReader:
    """The shipped reader's calibration with logits set per sentence (a sentence's last words)."""

    def __init__(self, logits: dict[str, float]) -> None:
        self.reader = shared_reader()
        self.scripted = logits

    def logits(self, pairs: list[tuple[str, str]]) -> np.ndarray:
        return np.array(
            [next(v for k, v in self.scripted.items() if second.endswith(k)) for _, second in pairs]
        )

    def probability(self, logit: float, dense: float, baseline: float | None = None) -> float:
        return self.reader.probability(logit, dense, baseline)


def ranked(sources_and_sentences: list[tuple[str, str]]) -> list[Passage]:
    """One passage per sentence, in this retrieval order."""
    return [passage(source, sentence) for source, sentence in sources_and_sentences]


def test_the_best_passages_sentence_wins_a_near_tie_but_not_a_clear_loss() -> None:
    retrieved = ranked([("a.txt", "Alpha holds it."), ("b.txt", "Beta holds it.")])
    # Rank 0's prior is RANK_PRIOR, rank 1's half that: a lead of less than half the prior in
    # logit does not beat the first passage's sentence, a lead of more does.
    near = ScriptedReader({"Alpha holds it.": 0.0, "Beta holds it.": RANK_PRIOR / 2 - 0.1})
    assert judge("Who holds it?", retrieved, near)[0].text == "Alpha holds it."  # type: ignore[arg-type]
    clear = ScriptedReader({"Alpha holds it.": 0.0, "Beta holds it.": RANK_PRIOR / 2 + 0.1})
    assert judge("Who holds it?", retrieved, clear)[0].text == "Beta holds it."  # type: ignore[arg-type]


def test_the_refusal_is_the_readers_best_probability_whichever_sentence_leads() -> None:
    retrieved = ranked([("a.txt", "Alpha holds it."), ("b.txt", "Beta holds it.")])
    beta = -4.0 + RANK_PRIOR / 2 - 0.1
    reader = ScriptedReader({"Alpha holds it.": -4.0, "Beta holds it.": beta})
    threshold = (reader.probability(-4.0, 0.5) + reader.probability(beta, 0.5)) / 2
    answer = answer_extractive("Who holds it?", retrieved, reader, refusal_threshold=threshold)  # type: ignore[arg-type]
    # The first passage's sentence leads, but its own probability is under the threshold: the
    # decision is the reader's best, Beta's, which clears it.
    assert not answer.refused
    assert answer.citations[0].text == "Alpha holds it."
    assert answer.confidence == round(reader.probability(beta, 0.5), 4)


# A short sentence that continues a paragraph is read and cited with the sentence before it.

COOKIE = "Warn if cookie headers are larger than this many bytes. Defaults to 4093."


def test_a_short_continuation_is_read_and_cited_with_the_sentence_before_it() -> None:
    _, found = structured([("text", COOKIE)], "Config > MAX_COOKIE_SIZE")
    assert [u.text for u in spans(found)] == [COOKIE[:55], "Defaults to 4093."]
    assert [(s.start, s.end, s.text) for s in candidate_sentences([found])] == [
        (0, len(COOKIE), COOKIE)
    ]
    (group,) = reading_groups(found)  # the generative path's claims read it the same way
    assert group == (Span(0, len(COOKIE), COOKIE, "text"), "")


def test_what_a_continuation_is_not() -> None:
    # Five words stand alone; a blank line starts another paragraph; a sentence that
    # introduces a unit belongs to the unit; a first sentence stays alone.
    cases: list[tuple[Blocks, list[str]]] = [
        (
            [("text", "Warn if headers are too large. It defaults to 4093 bytes.")],
            ["Warn if headers are too large.", "It defaults to 4093 bytes."],
        ),
        (
            [("text", "Warn if headers are too large."), ("text", "Defaults to 4093.")],
            ["Warn if headers are too large.", "Defaults to 4093."],
        ),
        (
            [("text", "Warn if headers are too large. For example:"), ("code", "x = 1")],
            ["Warn if headers are too large.", "For example:\n\nx = 1"],
        ),
        (
            [("text", "Not used. Warn if headers are too large.")],
            ["Not used.", "Warn if headers are too large."],
        ),
    ]
    for blocks, expected in cases:
        _, found = structured(blocks, "S")
        assert [s.text for s in candidate_sentences([found])] == expected, blocks
        assert len(reading_groups(found)) == len(spans(found)), blocks
    # A short sentence after a line of code (no blank line between) continues no sentence.
    code = passage("run.txt", "Install it with this command.\n$ npm install --save\nDone in 3s.")
    units = spans(code)
    assert [u.kind for u in units] == ["text", "code", "text"]
    assert not continues(code, units[1], units[2])
    assert [s.text for s in candidate_sentences([code])][-1] == "Done in 3s."


def test_a_section_lead_counts_sentences_not_their_short_continuations() -> None:
    _, found = structured(
        [
            ("heading", "MAX_COOKIE_SIZE"),
            ("text", f"{COOKIE} The check runs on every response the app sends."),
        ],
        "Config",
    )
    passage_, lead = section_lead("What is MAX_COOKIE_SIZE?", [found], max_sentences=2) or (
        None,
        [],
    )
    assert passage_ is found
    assert [u.text for u in lead] == [
        COOKIE[:55],
        "Defaults to 4093.",
        "The check runs on every response the app sends.",
    ]
    # Read after a heading, a sentence has no words before it, in both paths.
    assert [(g.text, before) for g, before in reading_groups(found)][1] == (COOKIE, "")
    assert next((s.text, s.before) for s in candidate_sentences([found])) == (COOKIE, "")


def test_a_run_of_short_continuations_is_read_as_one_and_the_next_sentence_knows_it() -> None:
    body = "The old command is kept for projects. Not used. Do not use. It prints a warning now."
    _, found = structured([("text", body)], "S")
    found_ = candidate_sentences([found])
    assert [s.text for s in found_] == [
        "The old command is kept for projects. Not used. Do not use.",
        "It prints a warning now.",
    ]
    assert found_[1].before == "Do not use."  # the words right before it, as in training
    groups = reading_groups(found)
    assert [(g.text, before) for g, before in groups] == [(s.text, s.before) for s in found_]
    whole = completed(found, spans(found), 0)
    assert (whole.text, whole.kind) == (found_[0].text, "text")


def test_an_answer_cites_the_default_with_its_sentence(tmp_path: Path) -> None:
    reader = tied_reader(tmp_path / "tied")
    _, found = structured([("text", COOKIE)], "Config > MAX_COOKIE_SIZE")
    answer = answer_extractive(
        "Above what size is a warning given?", [found], reader, refusal_threshold=0.5
    )
    assert [c.text for c in answer.citations] == [COOKIE]
    assert "Defaults to 4093. [1]" in answer.text


def test_the_edges_of_a_continuation_four_words_a_crlf_blank_line_and_a_lead_before_a_heading() -> (
    None
):
    _, found = structured([("text", "Warn if headers are too large. It is not used.")], "S")
    assert [s.text for s in candidate_sentences([found])] == [
        "Warn if headers are too large. It is not used."  # four words still continue
    ]
    crlf = passage("w.txt", "Warn if headers are too large.\r\n\r\nDefaults to 4093.")
    units = spans(crlf)
    assert len(units) == 2 and not continues(crlf, units[0], units[1])  # another paragraph
    one_line = passage("w.txt", "Warn if headers are too large.\r\nDefaults to 4093.")
    units = spans(one_line)
    assert len(units) == 2 and continues(one_line, units[0], units[1])
    _, sections = structured(
        [
            ("heading", "MAX_COOKIE_SIZE"),
            ("text", "Warn if cookie headers are too large for the server."),
            ("heading", "Other settings"),
            ("text", "Another sentence that is long enough here."),
        ],
        "Config",
    )
    found_lead = section_lead("What is MAX_COOKIE_SIZE?", [sections], max_sentences=2)
    assert found_lead is not None
    assert [u.text for u in found_lead[1]] == [
        "Warn if cookie headers are too large for the server."
    ]


# A cited sentence that points back ("This function ...") is cited with the sentence it points to.

PAUSE = (
    "In click, this is done with the pause function. This function prints a message and waits "
    "for a key. It also does nothing when the script is not run interactively."
)


@pytest.mark.usefixtures("sentence_citations")
def test_a_sentence_that_points_back_is_cited_with_the_sentence_it_points_to() -> None:
    found = passage("utils.txt", PAUSE)
    second = PAUSE.index("This function")
    third = PAUSE.index("It also")
    assert antecedent(found, 0) == 0  # the first sentence points nowhere
    assert antecedent(found, second) == 0
    assert antecedent(found, third) == 0  # two sentences back, each pointing back
    ends = [PAUSE.index(" This"), PAUSE.index(" It also")]
    cited = answer_spans("What waits?", [found], [judged(found, 2.0, 0.9, second)], 0.5, 2)
    assert [(c.start, c.end) for c in cited] == [(0, ends[1])]
    # Chosen after it, the sentence pointed to is not cited twice; chosen before it, it is
    # cited alone and the sentence that points back follows, alone too.
    both = [judged(found, 2.0, 0.9, second), judged(found, 1.9, 0.9, 0)]
    assert [(c.start, c.end) for c in answer_spans("Q?", [found], both, 0.5, 2)] == [(0, ends[1])]
    both.reverse()
    assert [(c.start, c.end) for c in answer_spans("Q?", [found], both, 0.5, 2)] == [
        (0, ends[0]),
        (second, ends[1]),
    ]


def test_pointing_back_goes_at_most_two_sentences_within_the_paragraph() -> None:
    chain = (
        "Use the tool on your files. It reads each file in turn. It writes a log as it goes. "
        "It stops at the end of the last file."
    )
    found = passage("chain.txt", chain)
    last = chain.index("It stops")
    assert antecedent(found, last) == chain.index("It reads")  # MAX_BACK sentences, no more
    assert antecedent(found, chain.index("It writes")) == 0
    # A blank line (LF or CRLF) starts another paragraph: nothing before it is taken.
    for gap in ("\n\n", "\r\n\r\n"):
        text = f"Use the tool for files.{gap}It reads a file and writes a log."
        apart = passage("apart.txt", text)
        assert antecedent(apart, text.index("It reads")) == text.index("It reads")
    # A heading or code before it stops it (the heading labels the answer anyway).
    _, headed = structured([("heading", "The pause function"), ("text", PAUSE[48:])], "Utils")
    units = spans(headed)
    assert antecedent(headed, units[1].start) == units[1].start
    _, coded = structured(
        [("text", "Run this:"), ("code", "click.pause()"), ("text", "It waits for a key.")], "U"
    )
    units = spans(coded)
    assert antecedent(coded, units[-1].start) == units[-1].start
    # The sentence pointed to is taken with the short sentences that continue it.
    run = "The old command is kept. Not used. It prints a warning now."
    kept = passage("old.txt", run)
    assert antecedent(kept, run.index("It prints")) == 0
    # An offset that starts no sentence is left as it is.
    assert antecedent(kept, 3) == 3


# A cited sentence is cited with its paragraph when that has at most PARAGRAPH_SENTENCES.

GUNICORN = (
    "The -w option specifies the number of processes to run. A starting value could be CPU * 2. "
    "The default is only 1 worker. Workers are restarted when they die."
)


def test_a_sentence_is_cited_with_its_paragraph_of_at_most_four_sentences() -> None:
    assert answering.PARAGRAPH_SENTENCES == 4
    found = passage("gunicorn.txt", GUNICORN)
    second = GUNICORN.index("A starting")
    # Each of the four sentences gives the whole paragraph; the best one is the second.
    for start, end in [(u.start, u.end) for u in spans(found)]:
        assert short_paragraph(found, start, end) == (0, len(GUNICORN))
    cited = answer_spans("How many workers?", [found], [judged(found, 2.0, 0.9, second)], 0.5, 2)
    assert [(c.start, c.end) for c in cited] == [(0, len(GUNICORN))]
    # A second chosen sentence of the same paragraph is in the answer already: not cited twice.
    both = [judged(found, 2.0, 0.9, second), judged(found, 1.9, 0.9, 0)]
    assert [(c.start, c.end) for c in answer_spans("Q?", [found], both, 0.5, 2)] == [
        (0, len(GUNICORN))
    ]
    # Five sentences are no short paragraph: the sentence is cited alone.
    five = GUNICORN + " Each worker is a process."
    longer = passage("five.txt", five)
    end = five.index(" The default")
    assert short_paragraph(longer, second, end) == (second, end)
    # A short sentence that continues another counts with it ("Not used." below).
    run = GUNICORN + " Not used."
    continued = passage("run.txt", run)
    assert short_paragraph(continued, second, end) == (0, len(run))


def test_a_paragraph_ends_at_a_blank_line_a_heading_or_another_unit() -> None:
    for gap in ("\n\n", "\r\n\r\n"):
        text = f"Use the tool for files.{gap}It reads a file. It writes a log."
        apart = passage("apart.txt", text)
        start = text.index("It reads")
        assert short_paragraph(apart, start, text.index(" It writes")) == (start, len(text))
        assert short_paragraph(apart, 0, text.index(gap)) == (0, text.index(gap))
    _, doc = structured(
        [
            ("heading", "Pausing"),
            ("text", "Click can pause. It waits for a key."),
            ("code", "click.pause()"),
            ("text", "The pause is skipped when not interactive."),
        ],
        "Utils",
    )
    units = spans(doc)
    assert [u.kind for u in units] == ["heading", "text", "text", "code", "text"]
    # Not the heading before it, not the code after it.
    assert short_paragraph(doc, units[2].start, units[2].end) == (units[1].start, units[2].end)
    assert short_paragraph(doc, units[4].start, units[4].end) == (units[4].start, units[4].end)
    # A sentence that introduces the code is cited through it: the end never moves back.
    assert short_paragraph(doc, units[2].start, units[3].end) == (units[1].start, units[3].end)
    # Bounds that are not the passage's spans are left as they are.
    assert short_paragraph(doc, units[1].start + 1, units[1].end) == (
        units[1].start + 1,
        units[1].end,
    )


def test_a_paragraph_does_not_take_a_sentence_that_introduces_the_unit_after_it() -> None:
    # "To pause, run the following:" is read with its code (``completed``); the paragraph of a
    # sentence before it stopped after it, and the answer quoted the introduction without the
    # code it introduces.
    for kind, body in [("code", "click.pause()"), ("list", "- a key\n- a click")]:
        text, doc = structured(
            [
                (
                    "text",
                    "Click can pause the program. It waits for a key. To pause, run the following:",
                ),
                (kind, body),
            ],
            "Utils",
        )
        units = spans(doc)
        assert [u.kind for u in units] == ["text", "text", "text", kind]
        intro = units[2]
        assert short_paragraph(doc, units[1].start, units[1].end) == (0, units[1].end)
        best = Judged(doc, units[1].start, units[1].end, units[1].text, 2.0, 0.9)
        cited = answer_spans("What does it wait for?", [doc], [best], 0.5, 2)
        assert [text[c.start : c.end] for c in cited] == [text[: units[1].end]]
        # The introducing sentence itself is still cited through its unit, with its paragraph.
        assert short_paragraph(doc, intro.start, units[3].end) == (0, units[3].end)


def test_a_code_citation_keeps_the_words_before_its_code_on_one_line(tmp_path: Path) -> None:
    """The page shows a code citation as its first line, then the code (ui/render.py
    ``code_html``). In a text file each line is a sentence: the paragraph of "To build it,
    run:" took the line before it, and the page showed "To build it, run:" inside the code
    block. The sentence and its code are then cited without the lines before them."""
    from ui.render import code_html

    path = tmp_path / "build.txt"
    path.write_text("Building\n\nYou need a C compiler first.\nTo build it, run:\n$ make install\n")
    document = load_document(path)
    (chunk,) = chunk_document(
        "build.txt", document.text, size=2000, overlap=0, blocks=document.blocks
    )
    doc = Passage(chunk=chunk, score=1.0, dense_score=0.5, lexical_score=1.0)
    units = spans(doc)
    assert [u.kind for u in units] == ["heading", "text", "text", "code"]
    intro, code = units[2], units[3]
    best = Judged(doc, intro.start, code.end, "", 2.0, 0.9, "code")
    (cited,) = answer_spans("How do I install it?", [doc], [best], 0.5, 2)
    shown = code_html(document.text[cited.start : cited.end])
    assert "<code>$ make install</code>" in shown
    assert (cited.start, cited.end, cited.kind) == (intro.start, code.end, "code")


@pytest.mark.parametrize(
    ("sentence", "points"),
    [
        ("This function prints.", True),
        ("These options are read.", True),
        ("That is the default.", True),
        ("Those are kept.", True),
        ("Such a file is read.", True),
        ("It waits.", True),
        ("Its value is 3.", True),
        ("They are kept.", True),
        ("Their names are kept.", True),
        ("Them aside, all are kept.", True),
        ("*It* waits.", True),
        ("Items are kept.", False),
        ("Thistle is a plant.", False),
        ("The function prints.", False),
        ("Theirs is kept.", False),
        ("Use it.", False),
    ],
)
def test_which_opening_words_point_back(sentence: str, points: bool) -> None:
    assert refers_back(sentence) is points
