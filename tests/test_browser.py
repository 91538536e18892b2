"""The real chat page in real headless Chromium: ``python -m ui`` in a subprocess, Playwright.

Prints the measured times (launch to page ready, first streamed token, full answer). Set
``UPDATE_SCREENSHOT=1`` to refresh docs/screenshot.png from the answered page.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
SERBIA = "Who is the president of Serbia?"
MOON = (
    "Moonbase Tranquility Logbook.\n\n"
    "The station commander of Moonbase Tranquility is Ingrid Halvorsen, a geologist from Tromsø. "
    "The base grows potatoes in a greenhouse dug two metres under the regolith.\n"
)
TIMEOUT_MS = 90_000

if not CHROMIUM.exists():
    pytest.skip(
        "/usr/bin/chromium is missing: apt-get install -y --no-install-recommends chromium",
        allow_module_level=True,
    )

from playwright.sync_api import (  # noqa: E402
    Browser,
    FilePayload,
    Page,
    expect,
    sync_playwright,
)

expect.set_options(timeout=TIMEOUT_MS)


@dataclass
class Server:
    url: str
    base: Path
    started: float
    output: list[str] = field(default_factory=list)
    ready_seconds: float | None = None
    external_requests: list[str] = field(default_factory=list)

    @property
    def docs(self) -> Path:
        return self.base / "docs"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def say(capsys: pytest.CaptureFixture[str], line: str) -> None:
    with capsys.disabled():
        print(f"\n[browser] {line}", flush=True)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``python -m ui`` on a free port, over a private copy of the seeds."""
    base = tmp_path_factory.mktemp("ui-server")
    shutil.copytree(SEEDS, base / "docs")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "RAG_"))}
    env.update(
        RAG_DOCS_DIR=str(base / "docs"),
        RAG_STORE_DIR=str(base / "store"),
        RAG_MAX_UPLOAD_MB="1",
        RAG_PORT=str(port),
        GRADIO_TEMP_DIR=str(base / "gradio-tmp"),
        PYTHONUNBUFFERED="1",
    )
    # Not the parent of the Gradio cache: Gradio refuses dotfiles under its working directory.
    workdir = base / "run"
    workdir.mkdir()
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "ui"],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    announced = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            output.append(line.rstrip())
            if line.startswith("Ask your documents at "):
                announced.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        if not announced.wait(240) or proc.poll() is not None:
            pytest.fail("the UI did not start:\n" + "\n".join(output))
        url = next(line for line in output if line.startswith("Ask your documents at "))
        assert url == f"Ask your documents at http://127.0.0.1:{port}/"
        yield Server(url.split(" at ", 1)[1], base, started, output)
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
    assert not any("Traceback" in line for line in output), "\n".join(output)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def open_page(browser: Browser, server: Server) -> Page:
    page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    page.set_default_timeout(TIMEOUT_MS)
    local = server.url.rstrip("/")
    page.on(
        "request",
        lambda request: (
            None
            if request.url.startswith((local, "data:", "blob:"))
            else server.external_requests.append(request.url)
        ),
    )
    page.goto(server.url)
    expect(page.locator("#question textarea")).to_be_visible()
    if server.ready_seconds is None:
        server.ready_seconds = time.perf_counter() - server.started
    return page


@pytest.fixture
def page(browser: Browser, server: Server) -> Iterator[Page]:
    page = open_page(browser, server)
    yield page
    assert "Traceback" not in page.content()
    page.context.close()
    assert server.external_requests == [], "the page must work offline"


def ask(page: Page, question: str) -> None:
    box = page.locator("#question textarea")
    box.fill(question)
    box.press("Enter")


def answers(page: Page) -> list[str]:
    return page.locator("#chat .answer:not(.streaming), #chat .refusal").all_inner_texts()


def test_seed_question_streams_with_clickable_citations(
    page: Page, server: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    say(capsys, f"launch -> page ready: {server.ready_seconds:.2f} s")
    ask(page, SERBIA)
    asked = time.perf_counter()
    page.wait_for_function(
        """() => [...document.querySelectorAll('#chat .answer')]
                 .some(e => e.textContent.replace('▍', '').trim().length > 0)""",
        timeout=TIMEOUT_MS,
    )
    first_token = time.perf_counter() - asked
    marker = page.locator("#chat .answer:not(.streaming) a.cite").first
    expect(marker).to_have_text("[1]")
    full_answer = time.perf_counter() - asked
    say(capsys, f"first streamed token: {first_token:.2f} s, full answer: {full_answer:.2f} s")

    assert "Vučić" in answers(page)[-1]
    source = page.locator("#src-1-1")
    expect(source.locator("mark")).to_contain_text("Aleksandar Vučić")
    expect(source.locator(".source-file")).to_have_text("000_f1c14fb623d5a113.txt")
    expect(source.locator(".source-score")).to_contain_text("score ")
    # The highlighted span sits inside its surrounding passage.
    passage = source.locator(".passage").inner_text()
    assert len(passage) > len(source.locator("mark").inner_text()) + 100

    expect(source).to_have_class("source")
    marker.click()
    expect(source).to_have_class("source selected")
    assert page.url.rstrip("/") == server.url.rstrip("/")  # the click did not navigate

    page.wait_for_timeout(500)  # let the selection outline finish its transition
    shot = server.base / "screenshot.png"
    page.screenshot(path=str(shot))
    if os.environ.get("UPDATE_SCREENSHOT") == "1":
        shutil.copyfile(shot, ROOT / "docs" / "screenshot.png")


def test_example_questions_on_first_load(page: Page) -> None:
    example = page.locator("#chat button", has_text="What anniversary does Belgrade mark?")
    example.click()
    expect(page.locator("#src-1-1 mark")).to_contain_text("80th anniversary")
    assert page.locator("#chat .question").all_inner_texts() == [
        "What anniversary does Belgrade mark?"
    ]


def test_follow_up_and_refusal_and_clear(page: Page) -> None:
    ask(page, SERBIA)
    expect(page.locator("#src-1-1")).to_be_visible()
    ask(page, "When?")  # answerable only with the first question as context
    expect(page.locator("#src-2-1")).to_be_visible()
    assert "Vučić" in answers(page)[-1]
    expect(page.locator("#sources-panel details.earlier")).to_have_count(1)
    expect(page.locator("#sources-panel details.earlier")).not_to_have_attribute("open", "")

    # [1] of the first answer opens that answer's folded sources and selects its entry.
    page.locator('#chat a.cite[href="#src-1-1"]').click()
    expect(page.locator("#sources-panel details.earlier")).to_have_attribute("open", "")
    expect(page.locator("#src-1-1")).to_have_class("source selected")
    expect(page.locator("#src-1-1")).to_be_in_viewport()
    page.locator('#chat a.cite[href="#src-2-1"]').click()
    expect(page.locator("#src-2-1")).to_have_class("source selected")
    expect(page.locator("#src-1-1")).to_have_class("source")

    ask(page, "What is the boiling point of mercury?")
    refusal = page.locator("#chat .refusal")
    expect(refusal).to_contain_text("No answer in your documents.")
    expect(page.locator("#chat .notice-error")).to_have_count(0)

    page.locator("#clear").click()
    expect(page.locator("#chat .message-row")).to_have_count(0)
    expect(page.locator("#sources-panel")).to_contain_text("Ask a question")


def test_sessions_keep_their_own_history(browser: Browser, server: Server) -> None:
    first, second = open_page(browser, server), open_page(browser, server)
    try:
        ask(first, SERBIA)
        ask(second, "What anniversary does Belgrade mark?")
        expect(first.locator("#src-1-1")).to_be_visible()
        expect(second.locator("#src-1-1")).to_be_visible()
        assert first.locator("#chat .question").all_inner_texts() == [SERBIA]
        assert second.locator("#chat .question").all_inner_texts() == [
            "What anniversary does Belgrade mark?"
        ]
        assert "80th anniversary" in answers(second)[-1]
        first.locator("#clear").click()
        expect(first.locator("#chat .question")).to_have_count(0)
        expect(second.locator("#chat .question")).to_have_count(1)
    finally:
        first.context.close()
        second.context.close()


def upload(page: Page, name: str, data: bytes) -> None:
    """Drop one file on the upload area, once it is empty again after the previous upload."""
    expect(page.locator("#upload")).to_contain_text("Drop File Here")
    payload: FilePayload = {"name": name, "mimeType": "text/plain", "buffer": data}
    page.locator("#upload input[type=file]").set_input_files(files=[payload])


def open_documents(page: Page) -> None:
    page.get_by_role("tab", name="Documents").click()
    expect(page.locator("#documents-table table")).to_be_visible()


def test_upload_a_document_then_ask_about_it(page: Page, server: Server) -> None:
    open_documents(page)
    upload(page, "moonbase.txt", MOON.encode())
    expect(page.locator("#documents-notice")).to_contain_text("Added moonbase.txt.")
    expect(page.locator("#documents-table")).to_contain_text("moonbase.txt")
    assert (server.docs / "moonbase.txt").read_text(encoding="utf-8") == MOON

    page.get_by_role("tab", name="Chat").click()
    ask(page, "Who is the station commander of Moonbase Tranquility?")
    expect(page.locator("#src-1-1 .source-file")).to_have_text("moonbase.txt")
    expect(page.locator("#src-1-1 mark")).to_contain_text("Ingrid Halvorsen")
    assert "Ingrid Halvorsen" in answers(page)[-1]


def test_bad_questions_get_messages(page: Page) -> None:
    page.locator("#ask").click()
    expect(page.locator("#chat-notice")).to_have_text(
        "Type a question first: the question is empty."
    )
    ask(page, "w" * 100_000)
    expect(page.locator("#chat-notice")).to_have_text(
        "The question is 100,000 characters long; the limit is 2,000. Shorten it and ask again."
    )
    expect(page.locator("#chat .message-row")).to_have_count(0)


def test_bad_uploads_get_messages_and_stay_in_the_folder(page: Page, server: Server) -> None:
    open_documents(page)
    notice = page.locator("#documents-notice")

    upload(page, "../../escape.txt", b"An escape attempt about walruses.")
    expect(notice).to_contain_text("Added escape.txt.")
    found = {p.relative_to(server.base.parent) for p in server.base.parent.rglob("escape.txt")}
    docs = server.docs.relative_to(server.base.parent)
    gradio_cache = (server.base / "gradio-tmp").relative_to(server.base.parent)
    assert {p for p in found if not p.is_relative_to(gradio_cache)} == {docs / "escape.txt"}

    upload(page, ".hidden.txt", b"hidden")
    expect(notice).to_have_text(
        "Nothing was uploaded. '.hidden.txt': hidden file names (starting with a dot) are not "
        "accepted; rename the file and retry."
    )
    upload(page, "big.txt", b"word " * 250_000)
    expect(notice).to_have_text(
        "Nothing was uploaded. big.txt: 1.2 MB is over the 1 MB upload limit; split the file or "
        "raise RAG_MAX_UPLOAD_MB."
    )
    upload(page, "tool.exe", b"MZ")
    expect(page.locator(".toast-body")).to_contain_text("Invalid file type: tool.exe.")
    names = {p.name for p in server.docs.iterdir()}
    assert names.isdisjoint({".hidden.txt", "big.txt", "tool.exe"})
    assert not [p for p in server.docs.iterdir() if p.name.startswith(".upload-")]


def test_delete_asks_for_confirmation(page: Page, server: Server) -> None:
    open_documents(page)
    upload(page, "to-delete.md", b"# Delete me\n\nThis note about herons will be deleted.\n")
    expect(page.locator("#documents-notice")).to_contain_text("Added to-delete.md.")

    page.locator("#delete-choice input").click()
    page.get_by_role("option", name="to-delete.md").click()
    page.locator("#delete").click()
    expect(page.locator("#confirm-delete-text")).to_have_text(
        "Delete to-delete.md from the index and the documents folder? This cannot be undone."
    )
    page.locator("#confirm-delete-no").click()
    expect(page.locator("#documents-notice")).to_have_text("Nothing was deleted.")
    expect(page.locator("#confirm-delete-yes")).to_be_hidden()
    assert (server.docs / "to-delete.md").exists()

    page.locator("#delete").click()
    page.locator("#confirm-delete-yes").click()
    expect(page.locator("#documents-notice")).to_have_text("Deleted to-delete.md (1 chunk).")
    expect(page.locator("#documents-table")).not_to_contain_text("to-delete.md")
    assert not (server.docs / "to-delete.md").exists()


def test_resync_button(page: Page, server: Server) -> None:
    (server.docs / "otters.md").write_text("# Otters\n\nOtters hold hands while asleep.\n", "utf-8")
    open_documents(page)
    page.locator("#resync").click()
    expect(page.locator("#documents-notice")).to_contain_text("Synced: 1 added")
    expect(page.locator("#documents-table")).to_contain_text("otters.md")
