"""Typing the next question while an answer is coming, on the real page in headless Chromium.

``python -m ui`` answers through a real OpenAI-compatible HTTP server on 127.0.0.1
(tests/openai_server.py) that waits before its first byte, so an answer is pending for
seconds. Two failed CI runs lost a question typed while the last one was finishing: every
update of an answer wrote the question box (the last one emptied it again after the user had
typed), and Enter during a pending answer was dropped (Gradio's default trigger mode).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests import test_browser_auth
from tests.openai_server import Body, OpenAIServer, Reply, passage_with, passages
from tests.test_browser import TIMEOUT_MS, free_port
from tests.ui_process import running_ui

pytestmark = [pytest.mark.browser, pytest.mark.slow]

from playwright.sync_api import Browser, Page, expect  # noqa: E402

MOON = "The station commander of Moonbase Tranquility is Ingrid Halvorsen.\n"
FIRST = "Who commands Moonbase Tranquility?"
SECOND = "Who is the station commander of Moonbase Tranquility?"
WAIT_S = 4.0  # the model's wait before its first byte: the answer is pending that long


def reply(body: Body) -> str:
    """The answer, citing the passage; a follow-up's rewrite request has no passages."""
    if not passages(body):
        return SECOND
    return f"Ingrid Halvorsen commands it [{passage_with(body, 'Halvorsen')}]."


@dataclass
class Server:
    url: str
    llm: OpenAIServer


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    base = tmp_path_factory.mktemp("typing-ui")
    (base / "docs").mkdir()
    (base / "docs" / "moon.txt").write_text(MOON, encoding="utf-8")
    port = free_port()
    with OpenAIServer() as llm:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "RAG_"))}
        env.update(
            RAG_DOCS_DIR=str(base / "docs"),
            RAG_STORE_DIR=str(base / "store"),
            RAG_LLM="openai",
            OPENAI_BASE_URL=llm.url,
            OPENAI_API_KEY="sk-test",
            RAG_PORT=str(port),
            GRADIO_TEMP_DIR=str(base / "gradio-tmp"),
            PYTHONUNBUFFERED="1",
        )
        (base / "run").mkdir()
        with running_ui([], Path(base / "run"), env) as output:
            yield Server(f"http://127.0.0.1:{port}/", llm)
        assert not any("Traceback" in line for line in output), "\n".join(output)


browser = test_browser_auth.browser  # the same fixture: Debian's Chromium, or a skip


@pytest.fixture
def page(browser: Browser, server: Server) -> Iterator[Page]:
    page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(server.url)
    expect(page.locator("#question textarea")).to_be_visible()
    expect(page.locator("#app-header .doc-count")).to_have_text("1 document")
    expect(page.locator("#app-header")).not_to_contain_text("(indexing")
    yield page
    page.context.close()


def answers(page: Page) -> list[str]:
    return page.locator("#chat .answer:not(.streaming)").all_inner_texts()


def test_a_question_typed_while_an_answer_comes_is_kept(page: Page, server: Server) -> None:
    server.llm.script(Reply(reply, delay=WAIT_S))
    box = page.locator("#question textarea")
    box.fill(FIRST)
    box.press("Enter")
    expect(box).to_have_value("")  # taken: the box is free for the next question
    expect(page.locator("#chat .answer.streaming")).to_have_count(1)
    box.fill(SECOND)  # typed, not sent, while the model has not answered yet
    expect(page.locator("#chat .answer:not(.streaming)")).to_have_count(1)
    assert "Ingrid Halvorsen" in answers(page)[0]
    expect(box).to_have_value(SECOND)


def test_enter_while_an_answer_comes_asks_after_it(page: Page, server: Server) -> None:
    asked = len(server.llm.requests)
    server.llm.script(Reply(reply, delay=WAIT_S), Reply(reply))
    box = page.locator("#question textarea")
    box.fill(FIRST)
    box.press("Enter")
    expect(page.locator("#chat .answer.streaming")).to_have_count(1)
    box.fill(SECOND)
    box.press("Enter")  # the first answer is still pending
    expect(page.locator("#chat .answer:not(.streaming)")).to_have_count(2)
    questions = page.locator("#chat .question").all_inner_texts()
    assert questions == [FIRST, SECOND]
    first, *then = (SECOND in request.user for request in server.llm.requests[asked:])
    assert not first and any(then)  # the second question reached the model after the first
    expect(box).to_have_value("")
