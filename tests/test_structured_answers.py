"""Answers over structured documents (issue 17): what completes an answer joins it, headings,
captions and code never answer alone, a heading the question names gives its section's lead.

The chunks are built here with ``Chunk.kinds`` and ``Chunk.section`` (the structure-aware
loaders' contract), from text written for these tests in the manner of a technical manual.
"""

from __future__ import annotations

import pytest

from rag.answering import (
    answer_extractive,
    candidate_sentences,
    introduces,
    is_caption,
    is_question,
    judge,
    looks_like_code,
    section_lead,
    spans,
)
from rag.chunking import split_sentences
from rag.generation import Checks, CitationChecker
from rag.models import Chunk, Passage
from rag.reader import shared_reader
from rag.reader_input import reader_pair

Blocks = list[tuple[str, str]]

CARGO: Blocks = [
    ("heading", "Creating a Project with Cargo"),
    (
        "text",
        "Let's create a new project using Cargo and look at how it differs from a plain rustc "
        "build. Go back to your projects directory and enter the following commands:",
    ),
    ("code", "$ cargo new hello_cargo\n$ cd hello_cargo"),
    ("text", "The first command creates a new directory and project called hello_cargo."),
    (
        "caption",
        "Listing 1-2: The contents of the Cargo.toml file that cargo new generated for the "
        "hello_cargo project.",
    ),
    ("code", '[package]\nname = "hello_cargo"\nversion = "0.1.0"\nedition = "2021"'),
    ("heading", "Building and Running a Cargo Project"),
    ("text", "Cargo keeps the build output apart from your source code. To build the project, run"),
    ("code", "$ cargo build"),
    (
        "text",
        "This command creates an executable file in target/debug rather than in the current "
        "directory.",
    ),
]
CHANNELS: Blocks = [
    ("heading", "Using Message Passing to Transfer Data Between Threads"),
    (
        "text",
        "A channel has two halves: a transmitter and a receiver. The receiver gets the values "
        "that the transmitter sends.",
    ),
    ("code", "use std::sync::mpsc;"),
    ("text", "The abbreviation mpsc stands for multiple producer, single consumer."),
    ("code", "error[E0382]: borrow of moved value: `val`"),
]
OPTIONS: Blocks = [
    ("heading", "Configuring the test runner"),
    ("text", "The test runner accepts these flags:"),
    (
        "list",
        "--test-threads sets how many tests run at once\n--nocapture shows the output of "
        "passing tests\n--ignored runs only the ignored tests",
    ),
    ("text", "Flags after the two dashes go to the test binary rather than to Cargo."),
]


def structured(blocks: Blocks, section: str, source: str = "book.html") -> tuple[str, Passage]:
    """A document made of blocks (text is split into sentences, other units stay whole) and the
    one chunk that holds it, with the kinds and section path a structure-aware loader gives."""
    text, bounds, kinds = "", [], []
    for kind, body in blocks:
        if text:
            text += "\n\n"
        if kind == "text":
            for start, end in split_sentences(body):
                bounds.append((len(text) + start, len(text) + end))
                kinds.append("text")
        else:
            bounds.append((len(text), len(text) + len(body)))
            kinds.append(kind)
        text += body
    chunk = Chunk(
        id=f"{source}#0",
        source=source,
        start=0,
        end=len(text),
        text=text,
        sentences=tuple(bounds),
        section=section,
        kinds=tuple(kinds),
    )
    return text, Passage(chunk=chunk, score=1.0, dense_score=0.5, lexical_score=1.0)


def test_an_introducing_sentence_is_judged_and_cited_with_its_code() -> None:
    text, passage = structured(CARGO, "The Cargo Book > Hello, Cargo!")
    # The reader judges what would be cited: the sentence with the code it introduces.
    candidates = {c.text: c.kind for c in candidate_sentences([passage])}
    intro = "Go back to your projects directory and enter the following commands:"
    assert candidates[f"{intro}\n\n$ cargo new hello_cargo\n$ cd hello_cargo"] == "code"
    assert candidates["To build the project, run\n\n$ cargo build"] == "code"
    result = answer_extractive(
        "What command builds the project?", [passage], shared_reader(), refusal_threshold=0.0
    )
    assert result.citations, result
    cited = result.citations[0]
    assert text[cited.start : cited.end] == cited.text
    # One span from the start of a sentence to the end of the code block after it.
    assert cited.kind == "code"
    assert cited.text.endswith(("$ cargo build", "$ cd hello_cargo"))
    # The answer is the span, led by its section's heading (the page renders the code as code).
    assert result.text == f"Hello, Cargo! \u2014 {cited.text} [1]"


@pytest.mark.parametrize(
    "question",
    [
        "What is in Cargo.toml?",
        "What do I import to use mpsc?",
        "How do I bring mpsc into scope?",
        "What error does the compiler give for a moved value?",
    ],
)
def test_captions_code_lines_and_compiler_output_never_answer_alone(question: str) -> None:
    cargo_text, cargo = structured(CARGO, "The Cargo Book > Hello, Cargo!", "cargo.html")
    channels_text, channels = structured(CHANNELS, "The Rust Book > Concurrency", "threads.html")
    texts = {"cargo.html": cargo_text, "threads.html": channels_text}
    result = answer_extractive(question, [cargo, channels], shared_reader(), refusal_threshold=0.0)
    assert result.citations
    alone = {"Listing 1-2:", "use std::sync::mpsc;", "error[E0382]", "[package]"}
    for citation in result.citations:
        assert not any(citation.text.startswith(unit) for unit in alone), citation.text
        assert texts[citation.source][citation.start : citation.end] == citation.text
        assert citation.kind in ("text", "code", "list")


@pytest.mark.parametrize("kinds", ["loader", "none"])
def test_a_sentence_that_asks_is_context_never_the_answer(kinds: str) -> None:
    """A title line that is a question ("Where Am I Going?") and an FAQ's question state
    nothing: the reader reads the sentence after them, with the question as its context."""
    faq: Blocks = [
        ("text", "Where Am I Going?"),
        ("text", "Dusty Springfield released her third album in 1967."),
        ("text", "How do I reset my password?"),
        ("text", "Open Settings, choose Account and press Reset password."),
    ]
    _, passage = structured(faq, "", "faq.txt")
    if kinds == "none":  # a store written before kinds: the shape alone tells
        passage = Passage(chunk=Chunk(**{**vars(passage.chunk), "kinds": ()}), score=1.0)
    candidates = candidate_sentences([passage])
    assert [c.text for c in candidates] == [
        "Dusty Springfield released her third album in 1967.",
        "Open Settings, choose Account and press Reset password.",
    ]
    assert candidates[1].before == "How do I reset my password?"
    for question in ("where am i and where am i going", "How do I reset my password?"):
        result = answer_extractive(question, [passage], shared_reader(), refusal_threshold=0.0)
        assert result.citations
        assert all(not c.text.rstrip().endswith("?") for c in result.citations), result.text
    assert is_question("Is that thread-safe?") and is_question('He asked "why?"')
    assert not is_question("The ? operator returns early.")


def test_old_stores_without_kinds_still_keep_code_and_captions_out() -> None:
    """Text the loader could not mark (kinds ()): a code line, a prompt, a diagnostic and a
    caption are recognised by their shape and kept out of the candidates."""
    _, passage = structured(CHANNELS + CARGO[4:6], "")
    bare = Passage(chunk=Chunk(**{**vars(passage.chunk), "kinds": ()}), score=1.0)
    texts = [c.text for c in candidate_sentences([bare])]
    assert texts == [
        "A channel has two halves: a transmitter and a receiver.",
        "The receiver gets the values that the transmitter sends.",
        "The abbreviation mpsc stands for multiple producer, single consumer.",
        # The Cargo.toml listing is several lines with no statement end: the loader's job.
        '[package]\nname = "hello_cargo"\nversion = "0.1.0"\nedition = "2021"',
    ]
    assert looks_like_code("use std::sync::mpsc;") and looks_like_code("$ cargo build")
    assert looks_like_code("error[E0382]: borrow of moved value: `val`")
    assert not looks_like_code("The mpsc module provides channels; see below.")
    assert is_caption("Listing 15-23: Creating a Mutex<T>") and is_caption("Figure 3: Layout")
    assert not is_caption("Table salt is sodium chloride.")


def test_in_plain_text_a_command_line_completes_the_line_that_introduces_it() -> None:
    _, passage = structured(CARGO[7:], "")
    bare = Passage(chunk=Chunk(**{**vars(passage.chunk), "kinds": ()}), score=1.0)
    assert [(c.text, c.kind) for c in candidate_sentences([bare])] == [
        ("Cargo keeps the build output apart from your source code.", "text"),
        ("To build the project, run\n\n$ cargo build", "code"),
        (
            "This command creates an executable file in target/debug rather than in the "
            "current directory.",
            "text",
        ),
    ]


def test_what_introduces_a_unit() -> None:
    assert introduces("Then, on any operating system, run the following:")
    assert introduces("To build the project, run")
    assert introduces("Run this command.")
    assert introduces("The following code shows how to spawn a thread.")
    assert not introduces("The first command creates a new directory.")
    assert not introduces("Threads run at the same time.")


def test_a_list_joins_the_sentence_that_introduces_it() -> None:
    text, passage = structured(OPTIONS, "The Cargo Book > Tests")
    result = answer_extractive(
        "Which flags does the test runner accept?",
        [passage],
        shared_reader(),
        refusal_threshold=0.0,
        max_sentences=1,
    )
    # The heading names the subject: its lead paragraph answers, with the list it introduces.
    assert [c.text for c in result.citations] == [
        "The test runner accepts these flags:\n\n--test-threads sets how many tests run at once"
        "\n--nocapture shows the output of passing tests\n--ignored runs only the ignored tests"
    ]
    assert result.citations[0].kind == "list"
    cited = result.citations[0]
    assert text[cited.start : cited.end] == cited.text


def test_a_question_naming_a_heading_gets_the_sections_lead_paragraph() -> None:
    text, passage = structured(CARGO, "The Cargo Book > Hello, Cargo!")
    result = answer_extractive(
        "How do I create a new project with Cargo?",
        [passage],
        shared_reader(),
        refusal_threshold=0.0,
    )
    lead = (
        "Let's create a new project using Cargo and look at how it differs from a plain rustc "
        "build. Go back to your projects directory and enter the following commands:\n\n"
        "$ cargo new hello_cargo\n$ cd hello_cargo"
    )
    assert [c.text for c in result.citations] == [lead]
    assert result.text == f"Hello, Cargo! \u2014 {lead} [1]"
    assert text[result.citations[0].start : result.citations[0].end] == lead
    # A heading is never the answer, and neither is a short line that is no sentence.
    assert all(s.kind != "heading" for s in spans(passage) if s.text.endswith("run"))


def test_a_section_lead_passes_over_what_opens_the_section() -> None:
    """API reference sections open with a version note and a parameter list: the lead is the
    first paragraph of text after them, and the next heading ends the search."""
    blocks: Blocks = [
        ("heading", "path.normalize(path)"),
        ("text", "Added in: v0.1.23"),
        ("list", "path <string>\nReturns: <string>"),
        (
            "text",
            "The path.normalize() method normalizes the given path, resolving parent directory "
            "segments. When multiple slashes are found, they are replaced by a single one.",
        ),
        ("text", "Trailing separators are preserved."),
        ("heading", "path.parse(path)"),
        ("text", "The path.parse() method returns an object describing the path."),
    ]
    text, passage = structured(blocks, "Path > path.normalize(path)")
    result = answer_extractive(
        "What does path.normalize do?", [passage], shared_reader(), refusal_threshold=0.0
    )
    lead = (
        "The path.normalize() method normalizes the given path, resolving parent directory "
        "segments. When multiple slashes are found, they are replaced by a single one."
    )
    assert [c.text for c in result.citations] == [lead]
    assert text[result.citations[0].start : result.citations[0].end] == lead
    # A section with no text before the next heading has no lead.
    _, bare = structured(blocks[:3] + blocks[5:], "Path")
    found = section_lead("What does path.normalize do?", [bare], 2)
    assert found is None


def test_only_the_loaders_headings_lead_to_a_section() -> None:
    _, passage = structured(OPTIONS, "The Cargo Book > Tests")
    question = "How do I configure the test runner?"
    found = section_lead(question, [passage], 2)
    assert found is not None
    assert [u.text for u in found[1]] == ["The test runner accepts these flags:"]
    # The same line in plain text (every span "text"): it is still no answer (a short line
    # without closing punctuation), but it is no section heading to answer from.
    plain = Chunk(**{**vars(passage.chunk), "kinds": ("text",) * len(passage.chunk.kinds)})
    assert spans(Passage(chunk=plain, score=1.0))[0].kind == "heading"
    assert section_lead(question, [Passage(chunk=plain, score=1.0)], 2) is None


def test_a_refusal_still_refuses_and_shows_no_code_as_closest() -> None:
    _, passage = structured(CHANNELS, "The Rust Book > Concurrency")
    result = answer_extractive(
        "How do I bake sourdough bread?", [passage], shared_reader(), refusal_threshold=0.999
    )
    assert result.refused and result.citations == []
    assert result.closest and all(
        not c.text.startswith(("use std", "error[")) for c in result.closest
    )
    # A closest passage that carries code says so, as a citation would.
    _, cargo = structured(CARGO, "The Cargo Book")
    near = answer_extractive(
        "What command builds the project?", [cargo], shared_reader(), refusal_threshold=0.999
    ).closest
    assert [c.kind for c in near] == ["code"] and near[0].text.endswith(("build", "hello_cargo"))


def test_the_reader_sees_the_section_path_as_title() -> None:
    section = "The Rust Book > Fearless Concurrency > Message Passing"
    _, passage = structured(CHANNELS[3:4], section)  # one sentence: a batch of one pair
    reader = shared_reader()
    question = "What does mpsc stand for?"
    [best] = judge(question, [passage], reader)
    sentence = "The abbreviation mpsc stands for multiple producer, single consumer."
    assert best.text == sentence
    with_section = float(reader.logits([reader_pair(question, sentence, title=section)])[0])
    without = float(reader.logits([reader_pair(question, sentence)])[0])
    assert with_section != pytest.approx(without, abs=1e-3)
    assert best.logit == pytest.approx(with_section, abs=1e-5)


def test_a_models_claim_is_checked_with_the_section_path_as_title() -> None:
    """The generative path's claim check reads a sentence as the extractive path does: with its
    section path as the title (it used the document title, so the two paths disagreed)."""
    section = "The Rust Book > Fearless Concurrency > Message Passing"
    _, passage = structured(CHANNELS[3:4], section)
    reader = shared_reader()
    claim = "mpsc stands for multiple producer, single consumer [1]."
    sentence = "The abbreviation mpsc stands for multiple producer, single consumer."
    checker = CitationChecker("What does mpsc stand for?", [passage], Checks(_one, reader, 0.0))
    _, _, probability, _ = checker._support(claim, passage)
    with_section = float(reader.logits([reader_pair(claim, sentence, title=section)])[0])
    without = float(reader.logits([reader_pair(claim, sentence)])[0])
    assert with_section != pytest.approx(without, abs=1e-3)
    assert probability == pytest.approx(reader.probability(with_section, 0.5), abs=1e-5)


def _one(term: str) -> float:
    return 1.0
