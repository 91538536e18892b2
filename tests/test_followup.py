"""Follow-up questions: merged with the last one only when they refer back to it."""

from __future__ import annotations

from pathlib import Path

import pytest

import rag
from rag.config import Settings
from rag.followup import (
    _CONTINUING,
    _REFERRING,
    ELLIPSIS_WORDS,
    carries_subject,
    condense_offline,
    continues,
    conversation_turns,
    refers_back,
    search_words,
    user_turns,
)
from tests.documents import indexed

QUUX = (
    "The quux tower stands in the old harbour of Pellham. "
    "The quux tower is 312 metres tall and was finished in 1931. "
    "Its lantern room is open to visitors in summer."
)
GROMMET = (
    "The grommet bridge is a cable-stayed crossing of the river Lune near Pellham. "
    "It carries two railway tracks and a footpath. "
    "The grommet bridge opened to trains in 1988."
)
# A small manual, in the manner of a programming-language book (written for these tests).
MANUAL = {
    "question_mark.txt": (
        "The question mark operator\n\n"
        "The ? operator placed after a Result value propagates errors to the calling code. If "
        "the value is an Err, the ? operator returns early from the whole function and gives the "
        "error to the caller. If the value is an Ok, the expression evaluates to the value inside "
        "the Ok and the function goes on.\n"
        "The ? operator can only be used in functions whose return type is compatible with the "
        "value it is used on. Inside a closure, the ? operator works only when the closure "
        "itself returns a Result or an Option.\n"
    ),
    "closures.txt": (
        "Closures\n\n"
        "Closures are anonymous functions you can save in a variable or pass as arguments to "
        "other functions. Unlike functions, closures can capture values from the scope in which "
        "they are defined. A closure borrows, mutably borrows or takes ownership of the values it "
        "captures, depending on what its body does with them.\n"
        "The move keyword before the parameter list forces a closure to take ownership of the "
        "values it uses, which is mostly useful when passing a closure to a new thread.\n"
    ),
    "rc.txt": (
        "Reference counting\n\n"
        "The Rc<T> type keeps track of the number of references to a value, to determine whether "
        "or not the value is still in use. Rc<T> is used when we want to allocate some data on "
        "the heap for multiple parts of our program to read.\n"
        "Rc<T> is not safe to share across threads: its reference count is updated without "
        "atomic operations. For shared ownership between threads, use Arc<T>, the atomically "
        "reference-counted type, which is thread-safe at a small cost in performance.\n"
    ),
    "iterators.txt": (
        "Processing a series of items with iterators\n\n"
        "To iterate over the elements of a vector, call the iter method on it and use the "
        "resulting iterator in a for loop. Iterators are lazy: they have no effect until you "
        "call methods that consume them.\n"
        "The skip adapter skips the first n elements of an iterator, and skip_while skips "
        "elements as long as a predicate returns true. The take adapter yields only the first n "
        "elements.\n"
    ),
    "threads.txt": (
        "Using threads to run code simultaneously\n\n"
        "Splitting the computation in your program into multiple threads can improve "
        "performance, but it also adds complexity. To create a new thread, call the "
        "thread::spawn function and pass it a closure containing the code to run in the new "
        "thread.\n"
        "Data races happen when two threads access the same data at the same time and at least "
        "one of them writes. Types that are safe to send to another thread implement the Send "
        "trait.\n"
    ),
}
KOSOVO = (
    "Talks on Kosovo resumed in Brussels this week. "
    "The Kosovo delegation asked for guarantees on energy supplies. "
    "Mediators from the European Union chaired the meeting."
)


@pytest.mark.parametrize(
    ("question", "refers"),
    [
        ("How tall is it?", True),
        ("And what about Kosovo?", True),
        ("What about the bridge?", True),
        ("Liberation from whom?", True),
        ("When did he arrive there?", True),
        ("What is the grommet bridge?", False),
        ("Who finished the quux tower?", False),
        ("Who is the president of Serbia?", False),
    ],
)
def test_a_question_refers_back_by_pronoun_opening_or_ellipsis(question: str, refers: bool) -> None:
    assert refers_back(question) is refers


@pytest.mark.parametrize(
    ("question", "carries"),
    [
        ("Does it work inside a closure too?", True),
        ("Is that thread-safe?", True),
        ("How do I skip some of them?", True),
        ("And what about Kosovo?", False),  # names its own subject: its words are searched
        ("What about the bridge?", False),
        ("Liberation from whom?", False),
        ("What is the grommet bridge?", False),
    ],
)
def test_a_pronoun_carries_the_last_subject_over(question: str, carries: bool) -> None:
    assert carries_subject(question) is carries
    query = f"{question} How does the ? operator propagate errors?"
    assert search_words(question, query) == (query if carries else question)


def test_a_follow_up_of_a_follow_up_keeps_the_first_subject() -> None:
    history = [
        ("How does the ? operator propagate errors?", "..."),
        ("Does it work inside a closure too?", "..."),
    ]
    assert condense_offline("Is that thread-safe?", history) == (
        "Is that thread-safe? Does it work inside a closure too? "
        "How does the ? operator propagate errors?"
    )
    # A question that names its subject ends the chain.
    history.insert(1, ("What is the grommet bridge?", "..."))
    assert condense_offline("Is that thread-safe?", history[1:]) == (
        "Is that thread-safe? Does it work inside a closure too? What is the grommet bridge?"
    )


def test_only_a_referring_question_borrows_the_last_one() -> None:
    history = [("How tall is the quux tower?", "312 metres [1]")]
    assert condense_offline("What is the grommet bridge?", history) == "What is the grommet bridge?"
    assert condense_offline("When was it finished?", history) == (
        "When was it finished? How tall is the quux tower?"
    )
    assert condense_offline("When was it finished?", []) == "When was it finished?"


@pytest.fixture(scope="module")
def towns(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    pages = {"quux.txt": QUUX, "grommet.txt": GROMMET, "kosovo.txt": KOSOVO}
    return indexed(tmp_path_factory.mktemp("towns"), pages)


@pytest.mark.slow
def test_an_unrelated_question_is_answered_on_its_own(towns: Settings) -> None:
    history = [("How tall is the quux tower?", "The quux tower is 312 metres tall. [1]")]
    result = rag.answer("What is the grommet bridge?", history=history, settings=towns)
    assert not result.refused
    assert {c.source for c in result.citations} == {"grommet.txt"}


@pytest.mark.usefixtures("sentence_citations")
@pytest.mark.slow
def test_a_pronoun_follow_up_answers_about_the_last_topic(towns: Settings) -> None:
    history = [{"role": "user", "content": "What is the quux tower?"}]
    result = rag.answer("When was it finished?", history=history, settings=towns)
    # The sentence the reader judged best (cited, or shown as closest: "quux" is a made-up word,
    # so the dense similarity that the confidence weighs is low in this toy corpus).
    best = (result.citations or result.closest)[0]
    assert best.source == "quux.txt"
    assert best.text == "The quux tower is 312 metres tall and was finished in 1931."
    # Asked alone, the only "finished" sentence is found too, but with less certainty: the
    # merged question names what "it" is.
    alone = rag.answer("When was it finished?", settings=towns)
    assert alone.confidence < result.confidence
    # After a question about the bridge, "it" is the bridge: the bridge's passage comes first.
    # (Which sentence the reader then prefers is the reader's judgement, not the follow-up's: the
    # bridge's text never says when it was finished, and since issue 21's unpadded scoring the
    # reader prefers "this week" in the Kosovo text, which only this three-file corpus retrieves.)
    bridge = [{"role": "user", "content": "What is the grommet bridge?"}]
    other = rag.retrieve("When was it finished?", history=bridge, settings=towns)
    assert other[0].chunk.source == "grommet.txt"


@pytest.mark.slow
def test_and_what_about_x_retrieves_x(towns: Settings, tmp_path: Path) -> None:
    history = [("When did the grommet bridge open to trains?", "In 1988. [1]")]
    passages = rag.retrieve("And what about Kosovo?", history=history, k=3, settings=towns)
    assert passages[0].chunk.source == "kosovo.txt"


@pytest.fixture(scope="module")
def manual(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return indexed(tmp_path_factory.mktemp("manual"), MANUAL)


DOCUMENTATION_FOLLOW_UPS = pytest.mark.parametrize(
    ("previous", "question", "source", "sentence"),
    [
        (
            "How does the ? operator propagate errors?",
            "Does it work inside a closure too?",
            "question_mark.txt",
            "Inside a closure, the ? operator works only when the closure itself returns a "
            "Result or an Option.",
        ),
        (
            "What is Rc<T> used for?",
            "Is that thread-safe?",
            "rc.txt",
            "Rc<T> is not safe to share across threads: its reference count is updated without "
            "atomic operations.",
        ),
        (
            "How do I iterate over the elements of a vector?",
            "How do I skip some of them?",
            "iterators.txt",
            "The skip adapter skips the first n elements of an iterator, and skip_while skips "
            "elements as long as a predicate returns true.",
        ),
    ],
)


@pytest.mark.usefixtures("sentence_citations")
@pytest.mark.slow
@DOCUMENTATION_FOLLOW_UPS
def test_a_follow_up_over_documentation_answers_about_the_thing_just_asked_about(
    manual: Settings, previous: str, question: str, source: str, sentence: str
) -> None:
    history = [{"role": "user", "content": previous}, {"role": "assistant", "content": "..."}]
    passages = rag.retrieve(question, history=history, k=3, settings=manual)
    assert passages[0].chunk.source == source
    result = rag.answer(question, history=history, settings=manual)
    assert not result.refused, result.closest
    assert result.citations[0].source == source
    assert sentence in [c.text for c in result.citations]
    text = rag.document_text(source, settings=manual)
    assert all(text[c.start : c.end] == c.text for c in result.citations)


@pytest.mark.slow
@DOCUMENTATION_FOLLOW_UPS
def test_a_follow_up_over_documentation_cites_its_sentence_by_default(
    manual: Settings, previous: str, question: str, source: str, sentence: str
) -> None:
    """As shipped (a sentence cited with its short paragraph): the answer's first citation is
    from the page about the thing just asked about and holds the follow-up's sentence."""
    history = [{"role": "user", "content": previous}, {"role": "assistant", "content": "..."}]
    result = rag.answer(question, history=history, settings=manual)
    assert not result.refused, result.closest
    assert result.citations[0].source == source
    assert sentence in result.citations[0].text


# Fast checks of the rules' parts (mutation testing, tests/README.md): every referring word, every
# continuing opening, the ellipsis length, and both history shapes.


@pytest.mark.parametrize("word", sorted(_REFERRING))
def test_each_referring_word_refers_back(word: str) -> None:
    assert carries_subject(f"Was {word} built in stone today?")


@pytest.mark.parametrize("opening", _CONTINUING)
def test_each_continuing_opening_continues(opening: str) -> None:
    question = f"{opening.capitalize()} the grommet bridge near Pellham?"
    assert continues(question) and refers_back(question) and not carries_subject(question)


def test_the_ellipsis_is_three_words_or_fewer() -> None:
    assert ELLIPSIS_WORDS == 3
    assert refers_back("Built by whom?") and refers_back("Liberation from whom?")
    assert not refers_back("Who built the tower?")
    assert not refers_back("") and not refers_back("?!")
    assert not continues("") and not continues("?") and not continues("Anderson built it?")


def test_history_in_either_shape_gives_the_users_questions_and_the_turns() -> None:
    pairs = [("First?", "One."), ["Second?", None], ("", "Empty."), [None, "x"], (), ("Third?",)]
    assert user_turns(pairs) == ["First?", "Second?", "", "Third?"]
    assert conversation_turns(pairs) == [
        ("user", "First?"),
        ("assistant", "One."),
        ("user", "Second?"),
        ("assistant", "Empty."),
        ("assistant", "x"),
        ("user", "Third?"),
    ]
    messages = [
        {"role": "user", "content": "First?"},
        {"role": "assistant", "content": "One."},
        {"role": "user", "content": None},
        {"role": "user", "content": ""},
        {"role": "system", "content": "Be brief."},
        {"content": "No role."},
        {"role": "user", "content": "Second?"},
    ]
    assert user_turns(messages) == ["First?", "", "Second?"]
    assert conversation_turns(messages) == [
        ("user", "First?"),
        ("assistant", "One."),
        ("user", "Second?"),
    ]
    assert user_turns(None) == [] and conversation_turns(None) == []  # type: ignore[arg-type]
    assert condense_offline("And it?", None) == "And it?"  # type: ignore[arg-type]


def test_a_follow_up_borrows_only_the_last_question_and_its_own_chain() -> None:
    history = [("Who built the quux tower?", "."), ("What is the grommet bridge?", ".")]
    assert condense_offline("How long is it?", history) == (
        "How long is it? What is the grommet bridge?"
    )
    history.append(("And its height?", "."))
    assert condense_offline("Why?", history) == ("Why? And its height? What is the grommet bridge?")


def test_a_list_of_strings_is_the_users_earlier_questions() -> None:
    history = ["Who built the quux tower?", "", "What is the grommet bridge?"]
    assert user_turns(history) == history
    assert conversation_turns(history) == [
        ("user", "Who built the quux tower?"),
        ("user", "What is the grommet bridge?"),
    ]
    assert condense_offline("How long is it?", history) == (
        "How long is it? What is the grommet bridge?"
    )
    # One question passed alone, not in a list: one question, not its characters.
    assert user_turns("What is the grommet bridge?") == ["What is the grommet bridge?"]
    assert conversation_turns("Why?") == [("user", "Why?")]
    assert condense_offline("How long is it?", "What is the grommet bridge?") == (
        "How long is it? What is the grommet bridge?"
    )


@pytest.mark.slow
def test_a_list_of_earlier_questions_is_a_history(towns: Settings) -> None:
    """``history=["earlier question"]``, the shape a script writer reaches for first, was
    ignored: "it" was then whatever the follow-up alone found (the tower, finished in 1931)."""
    question = "When was it finished?"
    assert rag.retrieve(question, k=3, settings=towns)[0].chunk.source == "quux.txt"
    bridge = ["What is the grommet bridge?"]
    assert rag.retrieve(question, history=bridge, k=3, settings=towns)[0].chunk.source == (
        "grommet.txt"
    )
    tower = ["What is the quux tower?"]
    assert rag.answer(question, history=tower, settings=towns) == rag.answer(
        question, history=[{"role": "user", "content": tower[0]}], settings=towns
    )


# A manual of 64 pages where one says "i. e.": the word "i" is rare in the index, as in real
# documentation (CMake's reference, Flask's docs).
TOOL_PAGES = {
    "instance.txt": (
        "Instance folders\n\nThe instance_path attribute holds the path to the instance "
        "folder of an application. The open_instance_resource method opens a file inside the "
        "instance folder for reading.\n"
    ),
    "config.txt": (
        "Configuration\n\nSettings are read from a module first, i. e. the defaults, and then "
        "from environment variables that start with the prefix.\n"
    ),
    **{
        f"widget_{n:02d}.txt": (
            f"Widget {n}\n\nThe widget number {n} draws a coloured box on the screen. Its "
            f"border is {n} pixels wide and it redraws itself every {n + 1} seconds.\n"
        )
        for n in range(62)
    },
}


@pytest.fixture(scope="module")
def tool_manual(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return indexed(tmp_path_factory.mktemp("tool_manual"), TOOL_PAGES)


@pytest.mark.usefixtures("sentence_citations")
@pytest.mark.slow
def test_a_how_do_i_follow_up_is_answered(tool_manual: Settings) -> None:
    """ "How do I open a file inside it?": the follow-up's only capitalised word, "I", was taken
    for a rare name (the index says "i. e." once), and the right answer, which never says "i",
    was refused."""
    history = [("Which attribute holds the path to the instance folder?", "")]
    result = rag.answer("How do I open a file inside it?", history=history, settings=tool_manual)
    assert not result.refused, result.closest
    assert (result.citations[0].source, result.citations[0].text) == (
        "instance.txt",
        "The open_instance_resource method opens a file inside the instance folder for reading.",
    )
