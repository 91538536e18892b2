"""rag/generation.py's parts on hand-made passages: the shipped reader and a real OpenAI-compatible
server on 127.0.0.1, but no index (tests/test_generation.py builds one from the seeds). Fast
enough to run for every mutant of the module (tests/README.md, mutation testing)."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import pytest

from rag.answering import REFUSAL_TEXT, closest, judge
from rag.chunking import chunk_document
from rag.config import Settings
from rag.errors import LLMError
from rag.generation import (
    HISTORY_TURNS,
    PLACEHOLDER_KEY,
    Checks,
    CitationChecker,
    answer_bounds,
    api_key,
    chat_model,
    condense_question,
    generate_answer,
    stream_generated_answer,
)
from rag.models import Answer, Chunk, Passage
from rag.prompts import (
    ANSWER_STOP,
    ANSWER_SYSTEM,
    CONDENSE_MAX_TOKENS,
    CONDENSE_STOP,
    CONDENSE_SYSTEM,
    REFUSAL_SENTINEL,
)
from rag.reader import shared_reader
from tests.openai_server import Body, OpenAIServer, Reply, passage_with, passages
from tests.test_generation import (
    ERROR_BRANCHES,
    SECRET,
    EchoingServer,
    free_port,
    on_server,
)
from tests.test_llm_deadline import Misbehaving

QUESTION = "When did the bridge open?"
BRIDGE = "The Harbour bridge opened to traffic in 1932. It is painted grey every few years."
FERRY = "Ferries stopped running across the bay in 1940. The water of the bay is cold."


def found() -> list[Passage]:
    """The ferry passage first, as retrieval might rank it: the reader puts the bridge first."""
    out = []
    for source, text, dense in (("ferry.txt", FERRY, 0.4), ("bridge.txt", BRIDGE, 0.6)):
        for chunk in chunk_document(source, text, size=2000, overlap=0):
            out.append(Passage(chunk=chunk, score=1.0, dense_score=dense, lexical_score=1.0))
    return out


def checks(threshold: float | None = None) -> Checks:
    reader = shared_reader()
    limit = reader.card.threshold if threshold is None else threshold
    return Checks(lambda term: 1.0, reader, limit)


@pytest.fixture
def llm(tmp_path: Path, server: OpenAIServer) -> Settings:
    return on_server(Settings(docs_dir=tmp_path, store_dir=tmp_path / "store"), server)


def cites_bridge(body: Body) -> str:
    return f"The bridge opened in 1932 [{passage_with(body, 'opened to traffic')}]."


def test_an_answer_asks_about_the_readers_best_passage_first_and_cites_it(
    llm: Settings, server: OpenAIServer
) -> None:
    server.script(Reply(cites_bridge))
    result = generate_answer(QUESTION, found(), llm, checks())
    assert result.text == "The bridge opened in 1932 [1]."
    assert [(c.source, c.text, c.verified) for c in result.citations] == [
        ("bridge.txt", "The Harbour bridge opened to traffic in 1932.", True)
    ]
    judged = judge(QUESTION, found(), shared_reader())
    assert result.confidence == round(max(j.probability for j in judged), 4) > 0.0
    (request,) = server.requests
    assert request.system == ANSWER_SYSTEM
    assert passages(request.body)[1].startswith("The Harbour bridge")
    assert request.body["model"] == "test-model"
    assert request.body["stop"] == list(ANSWER_STOP)
    assert request.body["max_tokens"] == llm.llm_max_tokens
    assert request.headers["authorization"] == f"Bearer {SECRET}"


def test_the_stream_yields_the_text_then_the_same_answer(
    llm: Settings, server: OpenAIServer
) -> None:
    server.script(Reply(cites_bridge))
    whole = generate_answer(QUESTION, found(), llm, checks())
    items = list(stream_generated_answer(QUESTION, found(), llm, checks()))
    *pieces, last = items
    assert all(isinstance(p, str) and p for p in pieces)
    assert "".join(str(p) for p in pieces) == whole.text
    assert last == whole
    assert server.requests[-1].body["stream"] is True


def test_no_passages_is_a_refusal_without_a_request(llm: Settings, server: OpenAIServer) -> None:
    answer = generate_answer(QUESTION, [], llm, checks())
    assert answer.refused and answer.text == REFUSAL_TEXT and answer.confidence == 0.0
    assert answer.question == QUESTION
    streamed = list(stream_generated_answer(QUESTION, [], llm, checks()))
    assert streamed[0] == REFUSAL_TEXT and isinstance(streamed[1], Answer)
    assert streamed[1].refused and streamed[1].question == QUESTION and len(streamed) == 2
    assert server.requests == []


@pytest.mark.parametrize("streamed", [False, True], ids=["answer", "stream"])
def test_the_sentinel_is_a_refusal_that_shows_the_closest_sentences(
    llm: Settings, server: OpenAIServer, streamed: bool
) -> None:
    server.script(Reply(REFUSAL_SENTINEL))
    judged = judge(QUESTION, found(), shared_reader())
    if streamed:
        items = list(stream_generated_answer(QUESTION, found(), llm, checks()))
        assert items[:-1] == [REFUSAL_TEXT]
        answer = items[-1]
        assert isinstance(answer, Answer)
    else:
        answer = generate_answer(QUESTION, found(), llm, checks())
    assert answer.refused and answer.text == REFUSAL_TEXT and answer.citations == []
    assert answer.question == QUESTION
    assert answer.closest == closest(judged) and len(answer.closest) == 2
    assert answer.confidence == round(max(j.probability for j in judged), 4)


def test_a_claim_is_matched_to_the_sentence_that_supports_it() -> None:
    """The second sentence of its passage (with the first as context) supports the claim."""
    found_ = found()
    checker = CitationChecker("How often is the bridge painted?", found_, checks(0.0))
    bridge = found_[1]
    start, end, probability, supported = checker._support("It is painted every few years.", bridge)
    assert BRIDGE[start:end] == "It is painted grey every few years."
    assert supported and 0.0 < probability < 1.0
    reader = shared_reader()
    assert probability > reader.probability(-5.0, 0.6)
    strict = CitationChecker("How often is the bridge painted?", found_, checks(1.0))
    assert strict._support("It is painted every few years.", bridge)[3] is False


HISTORY = [(f"Question {i}?", f"Answer {i} [1].") for i in range(HISTORY_TURNS + 2)]


def test_a_follow_up_is_condensed_from_the_last_turns(
    llm: Settings, server: OpenAIServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="rag.generation")
    server.script(Reply('Standalone question: "When did the Harbour bridge open?"\nAnything else'))
    rewritten = condense_question("and when?", HISTORY, llm.with_(llm_max_tokens=400))
    assert rewritten == "When did the Harbour bridge open?"
    said = [r.getMessage() for r in caplog.records if r.name == "rag.generation"]
    assert "Follow-up 'and when?' rewritten as 'When did the Harbour bridge open?'" in said
    (request,) = server.requests
    assert request.system == CONDENSE_SYSTEM
    first = len(HISTORY) - HISTORY_TURNS // 2  # the oldest pair kept: a pair is two turns
    assert f"Question {first}?" in request.user and f"Question {first - 1}?" not in request.user
    assert f"Question {len(HISTORY) - 1}?" in request.user and "and when?" in request.user
    assert request.body["max_tokens"] == min(CONDENSE_MAX_TOKENS, 400)
    assert request.body["stop"] == list(CONDENSE_STOP)
    condense_question("and when?", HISTORY, llm.with_(llm_max_tokens=20))
    assert server.requests[-1].body["max_tokens"] == 20


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("", "and when?"),
        ("   \n", "and when?"),
        ("'When did it open?'", "When did it open?"),
        ("STANDALONE QUESTION:   When did it open?  ", "When did it open?"),
        ("x" * 50, "x" * 20),
        ("Xerox X", "Xerox X"),
    ],
)
def test_a_condensed_question_is_cleaned_up_and_capped(
    llm: Settings, server: OpenAIServer, reply: str, expected: str
) -> None:
    server.script(Reply(reply))
    assert condense_question("and when?", HISTORY[:1], llm.with_(max_question_chars=20)) == (
        expected
    )


def test_no_history_asks_nothing(llm: Settings, server: OpenAIServer) -> None:
    assert condense_question("and when?", [], llm) == "and when?"
    assert server.requests == []


@pytest.mark.parametrize("status", sorted(ERROR_BRANCHES))
def test_every_error_branch_says_what_to_fix_without_the_key(
    llm: Settings, caplog: pytest.LogCaptureFixture, status: int
) -> None:
    caplog.set_level(logging.DEBUG)
    with EchoingServer(status) as server:
        echoing = llm.with_(openai_base_url=server.url)
        calls = {
            "answer": lambda: generate_answer(QUESTION, found(), echoing, checks()),
            "stream": lambda: list(stream_generated_answer(QUESTION, found(), echoing, checks())),
            "condense": lambda: condense_question("and when?", HISTORY[:1], echoing),
        }
        for name, call in calls.items():
            with pytest.raises(LLMError) as raised:
                call()
            expected = ERROR_BRANCHES[status].format(url=server.url, status=status)
            assert (name, str(raised.value)) == (name, expected)
    assert SECRET not in caplog.text


@pytest.mark.parametrize("login", ["user:pw@", "user:p@w@", "pw@"])
def test_the_url_in_a_message_has_no_password_but_keeps_its_port(llm: Settings, login: str) -> None:
    """Mutation testing found it: the port was dropped with the password."""
    with EchoingServer(500) as server:
        host = server.url.removeprefix("http://")
        secret_url = llm.with_(openai_base_url=f"http://{login}{host}", llm_max_retries=0)
        with pytest.raises(LLMError) as raised:
            condense_question("and when?", HISTORY[:1], secret_url)
    message = str(raised.value)
    assert message.startswith(f"The LLM server at {server.url} failed (500, still after 0 retries)")
    assert "pw" not in message


def test_one_retry_is_said_in_the_singular(llm: Settings) -> None:
    with EchoingServer(429) as server:
        with pytest.raises(LLMError, match=r"\(429, still after 1 retry\)"):
            condense_question(
                "and when?", HISTORY[:1], llm.with_(openai_base_url=server.url, llm_max_retries=1)
            )
        assert len(server.requests) == 2


def test_the_key_sent_is_the_configured_one_or_a_placeholder_for_local_servers(
    llm: Settings,
) -> None:
    assert api_key(llm) == SECRET
    assert api_key(llm.with_(openai_api_key=None)) == PLACEHOLDER_KEY
    for url in (None, "https://api.openai.com/v1"):
        with pytest.raises(LLMError, match=r"needs an API key: set OPENAI_API_KEY.*RAG_LLM=") as e:
            api_key(llm.with_(openai_api_key=None, openai_base_url=url))
        # The whole message: which setting, the local servers meant, and the offline way out.
        assert str(e.value) == (
            "RAG_LLM=openai needs an API key: set OPENAI_API_KEY, or set OPENAI_BASE_URL to a "
            "local OpenAI-compatible server (Ollama, llama.cpp, vLLM), or use RAG_LLM=extractive "
            "to answer offline."
        )


def test_the_client_is_built_with_the_configured_timeout(llm: Settings) -> None:
    """Every call passes its own deadline (rag.bounds); the client's default is the setting, so a
    call that did not would still end."""
    model = chat_model(llm.with_(llm_timeout=7.5))
    assert model.request_timeout == 7.5
    assert model.root_client._client.timeout.read == 7.5


def test_the_bounds_of_a_call(llm: Settings) -> None:
    local = answer_bounds(llm.with_(llm_max_tokens=123, llm_timeout=7.5, llm_max_retries=4))
    assert (local.max_tokens, local.stop, local.seconds, local.retries) == (
        123,
        ANSWER_STOP,
        7.5,
        4,
    )
    assert local.send_max_tokens is True
    assert answer_bounds(llm, 9, ("x",)).max_tokens == 9
    assert answer_bounds(llm, 9, ("x",)).stop == ("x",)
    for url in (None, "https://api.openai.com/v1"):
        assert answer_bounds(llm.with_(openai_base_url=url)).send_max_tokens is False


def titled(text: str) -> Passage:
    """One chunk with a title the text does not hold, split at its full stops."""
    bounds, start = [], 0
    for end in [i + 1 for i, c in enumerate(text) if c == "."]:
        bounds.append((start, end))
        start = end + 1
    chunk = Chunk(
        id="bridge",
        source="bridge.txt",
        start=0,
        end=len(text),
        text=text,
        title="Sydney Harbour Bridge",
        sentences=tuple(bounds),
    )
    return Passage(chunk=chunk, score=1.0, dense_score=0.5)


@pytest.mark.parametrize(
    "claim", ["When did it open to traffic?", "Who paints it grey?"], ids=["first", "last"]
)
def test_a_claim_is_read_as_the_reader_reads_answers_with_title_and_context(claim: str) -> None:
    """The claim's pair for each sentence is the answer path's: the chunk's title and the
    sentence before it, so a claim scores as the same question would (judge)."""
    text = "It opened to traffic in 1932. It carries rail and road traffic. Painters keep it grey."
    found_ = [titled(text)]
    start, end, probability, _ = CitationChecker(claim, found_, checks())._support(claim, found_[0])
    best = judge(claim, found_, shared_reader())[0]
    assert (start, end) == (best.start, best.end)
    assert probability == pytest.approx(best.probability, abs=1e-6)
    assert (start == 0) == (claim == "When did it open to traffic?")


def test_with_no_sentence_to_read_the_confidence_is_zero(
    llm: Settings, server: OpenAIServer
) -> None:
    heading = titled("Harbour bridge")  # a line with no full stop: a heading, never read
    only_heading = replace(heading, chunk=replace(heading.chunk, sentences=((0, 14),)))
    assert judge(QUESTION, [only_heading], shared_reader()) == []
    server.script(Reply(REFUSAL_SENTINEL))
    answer = generate_answer(QUESTION, [only_heading], llm, checks())
    assert answer.refused and answer.confidence == 0.0


def test_uncited_sentences_leave_the_answer(llm: Settings, server: OpenAIServer) -> None:
    def reply(body: Body) -> str:
        ferry = passage_with(body, "Ferries")
        return (
            f"The capital of Australia is Canberra. {cites_bridge(body)} They are friends. "
            f"Kangaroos can jump very high [{ferry}]."
        )

    server.script(Reply(reply))
    result = generate_answer(QUESTION, found(), llm, checks())
    assert result.text == "The bridge opened in 1932 [1]."
    assert [(c.index, c.source) for c in result.citations] == [(1, "bridge.txt")]
    assert result.unsupported == [
        "The capital of Australia is Canberra.",
        "They are friends.",
        "Kangaroos can jump very high",
    ]


def test_the_stream_ends_with_what_could_have_begun_the_sentinel(
    llm: Settings, server: OpenAIServer
) -> None:
    """The checker holds back "NOT" (the sentinel's start) until the reply ends, then sends it."""
    server.script(Reply(lambda body: f"{cites_bridge(body)} NOT"))
    pieces = list(stream_generated_answer(QUESTION, found(), llm, checks()))[:-1]
    assert "".join(str(p) for p in pieces) == "The bridge opened in 1932 [1]. NOT"


@pytest.mark.parametrize("call", ["answer", "stream", "condense"])
def test_a_reply_that_is_no_completion_names_the_server(llm: Settings, call: str) -> None:
    bad = Misbehaving()
    bad.mode = "not-json"
    try:
        settings = llm.with_(openai_base_url=bad.url)
        with pytest.raises(LLMError) as raised:
            if call == "stream":
                list(stream_generated_answer(QUESTION, found(), settings, checks()))
            elif call == "answer":
                generate_answer(QUESTION, found(), settings, checks())
            else:
                condense_question("and when?", HISTORY[:1], settings)
    finally:
        bad.close()
    message = str(raised.value)
    assert message.startswith(f"The LLM server at {bad.url} sent a reply that is not an OpenAI")
    assert SECRET not in message


def test_a_streamed_reply_refused_at_its_end_is_not_followed_by_the_refusal_text(
    llm: Settings, server: OpenAIServer
) -> None:
    """The page shows the streamed draft, then the refusal the Answer carries: not both texts."""
    server.script(Reply(lambda body: f"Kangaroos jump high [{passage_with(body, 'Ferries')}]."))
    *pieces, answer = list(stream_generated_answer(QUESTION, found(), llm, checks()))
    assert isinstance(answer, Answer) and answer.refused
    assert "".join(str(p) for p in pieces) == "Kangaroos jump high [1]."


def test_retries_cut_by_the_deadline_are_counted_as_taken(
    llm: Settings, server: OpenAIServer
) -> None:
    """A 500 asking for a retry after 60 s, with a 5 s deadline: no retry, and the message says
    so (not the configured two)."""
    server.script(Reply(status=500, error="Boom", headers={"retry-after": "60"}))
    with pytest.raises(LLMError, match=r"\(500, still after 0 retries\)"):
        condense_question("and when?", HISTORY[:1], llm)
    assert len(server.requests) == 1


def test_a_reply_past_its_deadline_says_what_to_raise(llm: Settings, server: OpenAIServer) -> None:
    server.script(Reply("late", delay=3.0))
    with pytest.raises(LLMError) as raised:
        condense_question("and when?", HISTORY[:1], llm.with_(llm_timeout=1.0))
    assert str(raised.value) == (
        f"The LLM server at {server.url} did not finish its reply within 1 s (a reply that timed"
        " out is not retried): raise RAG_LLM_TIMEOUT or lower RAG_LLM_MAX_TOKENS, or check the"
        " server at OPENAI_BASE_URL."
    )


def test_a_server_that_is_not_there_names_the_url_setting(llm: Settings) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(LLMError) as raised:
        condense_question(
            "and when?", HISTORY[:1], llm.with_(openai_base_url=url, llm_max_retries=0)
        )
    assert str(raised.value) == (
        f"Cannot connect to the LLM server at {url} (after 0 retries): check OPENAI_BASE_URL "
        "(is the server running? the URL usually ends in /v1)."
    )


def test_a_long_server_error_is_quoted_up_to_200_characters(
    llm: Settings, server: OpenAIServer
) -> None:
    server.script(Reply(status=400, error="e" * 400))
    with pytest.raises(LLMError) as raised:
        condense_question("and when?", HISTORY[:1], llm)
    quoted = str(raised.value).split(" failed (", 1)[1].split("): check RAG_MODEL", 1)[0]
    assert len(quoted) == 200 and quoted.startswith("Error code: 400")


def test_a_long_run_of_spaces_in_a_reply_is_checked_at_once() -> None:
    """The claims of a reply were cut at runs of markers found with (?:\\s*\\[\\d+\\])+, which
    scans a run of spaces again from each of its positions: 40,000 spaces took 1.3 s, the
    864 KiB a reply may hold hours. Now the space before a run is added after it is found."""
    import time

    from rag.models import Citation
    from rag.supported import keep_supported

    cited = Citation(1, "a.txt", "Claim one.", 0, 10, 1.0, None, verified=True)
    reply = "Claim one [1]." + " " * 150_000 + "An unsupported claim."
    started = time.monotonic()
    kept = keep_supported(reply, [cited])
    took = time.monotonic() - started
    assert kept == ("Claim one [1].", [cited])
    assert took < 1.0, took
