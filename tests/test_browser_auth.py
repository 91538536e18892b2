"""Sign-in on the real page in real headless Chromium (issue 20, item 2).

``python -m ui`` in a subprocess with a users file (a reader and an editor) over a folder of two
small files: a reader signs in with Gradio's login form, sees no upload, delete or re-sync, and a
direct API call with the reader's session is refused (403); an editor signs in and uploads; the
audit log holds both attempts. Server and browser are started as in tests/test_browser.py.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from rag import audit
from rag.users import add_user
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, TIMEOUT_MS, free_port
from tests.ui_process import running_ui

pytestmark = [pytest.mark.browser, pytest.mark.slow]

from playwright.sync_api import Browser, FilePayload, Page, expect, sync_playwright  # noqa: E402

READER, EDITOR = ("rita", "reader-pass-1"), ("ed", "editor-pass-1")
COMET = "# Comet Valdris\n\nThe comet Valdris returns every 83 years.\n"


@dataclass
class Server:
    url: str
    base: Path

    @property
    def audit(self) -> Path:
        return self.base / "audit.jsonl"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    base = tmp_path_factory.mktemp("signed-in-ui")
    (base / "docs").mkdir()
    (base / "docs" / "moon.txt").write_text(
        "The station commander of Moonbase Tranquility is Ingrid Halvorsen.\n", encoding="utf-8"
    )
    users = base / "users.json"
    for (name, password), role in ((READER, "reader"), (EDITOR, "editor")):
        add_user(users, name, role, password, rounds=4)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "RAG_"))}
    env.update(
        RAG_DOCS_DIR=str(base / "docs"),
        RAG_STORE_DIR=str(base / "store"),
        RAG_USERS_FILE=str(users),
        RAG_AUDIT_LOG=str(base / "audit.jsonl"),
        RAG_PORT=str(port),
        GRADIO_TEMP_DIR=str(base / "gradio-tmp"),
        PYTHONUNBUFFERED="1",
    )
    (base / "run").mkdir()
    with running_ui([], base / "run", env) as output:
        yield Server(f"http://127.0.0.1:{port}", base)
    assert not any("Traceback" in line for line in output), "\n".join(output)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is missing: apt-get install -y chromium")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def sign_in(browser: Browser, server: Server, user: tuple[str, str]) -> Page:
    """A fresh browser session signed in through Gradio's login form, on the Documents tab."""
    page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(server.url)
    # Gradio's form shows nothing when a sign-in is throttled (429): the page says the rule.
    expect(page.get_by_text("After 5 failed attempts within 60 s")).to_be_visible()
    page.get_by_label("username").fill(user[0])
    page.get_by_label("password").fill(user[1])
    page.get_by_role("button", name="Login").click()
    expect(page.locator("#question textarea")).to_be_visible()
    expect(page.locator("#signed-in")).to_contain_text(f"Signed in as {user[0]}")
    page.get_by_role("tab", name="Documents").click()
    expect(page.locator("#documents-table")).to_be_visible()
    return page


def test_a_reader_cannot_change_the_index_and_an_editor_can(
    browser: Browser, server: Server
) -> None:
    reader = sign_in(browser, server, READER)
    expect(reader.locator("#read-only")).to_contain_text(
        "rita is a reader: only editors may upload, delete or re-sync documents"
    )
    for control in ("#upload", "#resync", "#delete", "#delete-choice"):
        expect(reader.locator(control)).to_be_hidden()
    # The reader's own session, calling the delete endpoint directly.
    status = reader.evaluate(
        """async () => (await fetch('gradio_api/call/delete', {method: 'POST',
             headers: {'Content-Type': 'application/json'},
             body: JSON.stringify({data: [['moon.txt']]})})).status"""
    )
    assert status == 403
    assert (server.base / "docs" / "moon.txt").is_file()
    reader.context.close()

    editor = sign_in(browser, server, EDITOR)
    expect(editor.locator("#read-only")).to_be_hidden()
    expect(editor.locator("#upload")).to_contain_text("Drop File Here")
    payload: FilePayload = {"name": "comet.md", "mimeType": "text/plain", "buffer": COMET.encode()}
    editor.locator("#upload input[type=file]").set_input_files(files=[payload])
    expect(editor.locator("#documents-notice")).to_contain_text("Added comet.md.")
    expect(editor.locator("#delete")).to_be_visible()
    editor.context.close()
    assert (server.base / "docs" / "comet.md").read_text(encoding="utf-8") == COMET

    events = [(e["user"], e["role"], e["action"], e["files"], e["result"])
              for e in audit.read(server.audit)]  # fmt: skip
    assert events == [
        ("rita", "reader", "delete", ["moon.txt"], "refused"),
        ("ed", "editor", "upload", ["comet.md"], "ok"),
    ]


def log_in(page: Page, server: Server, user: tuple[str, str]) -> None:
    page.goto(server.url)
    page.get_by_label("username").fill(user[0])
    page.get_by_label("password").fill(user[1])
    page.get_by_role("button", name="Login").click()
    expect(page.locator("#signed-in")).to_contain_text(f"Signed in as {user[0]}")


def test_the_next_user_of_a_browser_never_sees_the_conversation_of_the_last(
    browser: Browser, server: Server
) -> None:
    """One browser (a shared desk): rita asks, signs out, ed signs in and sees no conversation
    (the old page restored rita's from the browser's storage, which has one key for everyone);
    rita, back, sees hers."""
    page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    page.set_default_timeout(TIMEOUT_MS)
    log_in(page, server, READER)
    question = "Who is the station commander of Moonbase Tranquility?"
    box = page.locator("#question textarea")
    box.fill(question)
    box.press("Enter")
    expect(page.locator("#chat .answer:not(.streaming)")).to_contain_text("Ingrid Halvorsen")
    page.wait_for_timeout(1000)  # the browser stores the conversation after each answer
    page.goto(f"{server.url}/logout")
    log_in(page, server, EDITOR)
    page.wait_for_timeout(1500)  # the stored conversation is restored on load, if at all
    expect(page.locator("#chat .question, #chat .answer")).to_have_count(0)
    page.goto(f"{server.url}/logout")
    log_in(page, server, READER)
    expect(page.locator("#chat .question")).to_have_text([question])
    page.context.close()
