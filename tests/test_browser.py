"""The real page in real headless Chromium: ``python -m ui`` in a subprocess over a generated
folder of 110 town reports plus the seed document, driven with Playwright.

The server is started on a fresh store, so the first test sees the page served while the folder
is still being indexed; the others wait for the index. Prints the measured times (launch to page
served, to index complete; first streamed token, full answer). Screenshots go to the test's
temporary folder (their paths are printed); ``UPDATE_SCREENSHOT=1`` refreshes docs/screenshot.png.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.ui_process import running_ui

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
TIMEOUT_MS = int(os.environ.get("BROWSER_TIMEOUT_MS", "90000"))
INDEX_TIMEOUT_S = 900
GENERATED = 110
FILES = GENERATED + 1  # and the seed document
SIZES = [(1400, 1000), (390, 844)]

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

_SYLLABLES = ["vel", "mor", "tan", "ki", "sor", "bel", "dra", "nu", "lis", "go", "rha", "pen"]


def town(i: int) -> str:
    """A made-up, distinct town name per report (no real place: answers come only from here)."""
    a, b, c = _SYLLABLES[i % 12], _SYLLABLES[(i // 12) % 12], _SYLLABLES[(i * 7 + 3) % 12]
    return f"{a}{b}{c}".capitalize() + f"-{i:03d}"


def report(i: int) -> str:
    """A report of about ten chunks: a title, three sections, one distinctive fact each."""
    name = town(i)
    builds = ["mill", "bridge", "school", "market", "chapel", "wharf"]
    storms = ["flood", "fire", "storm", "frost"]
    history = " ".join(
        f"In {1700 + 9 * j + i} the people of {name} rebuilt the {builds[j % 6]} after the "
        f"{storms[j % 4]} of that year, and the council recorded the cost as "
        f"{100 + 13 * j + i} silver coins in its ledger."
        for j in range(40)
    )
    return (
        f"# {name} town report\n\n"
        f"## Harbour master of {name}\n\n"
        f"The harbour master of {name} is Captain {name.split('-')[0]} Arnesdottir, "
        f"appointed in {1900 + i}.\n\n"
        f"## Market days in {name}\n\n"
        f"The market of {name} opens every {['Monday', 'Tuesday', 'Friday'][i % 3]} at "
        f"{6 + i % 5} o'clock and sells {['salt', 'amber', 'wool', 'herring'][i % 4]}.\n\n"
        f"## History of {name}\n\n{history}\n"
    )


@dataclass
class Server:
    url: str
    base: Path
    started: float
    output: list[str] = field(default_factory=list)
    served_seconds: float | None = None
    indexed_seconds: float | None = None
    external_requests: list[str] = field(default_factory=list)

    @property
    def docs(self) -> Path:
        return self.base / "docs"

    @property
    def feedback(self) -> Path:
        return self.base / "evals" / "feedback.jsonl"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def say(capsys: pytest.CaptureFixture[str], line: str) -> None:
    with capsys.disabled():
        print(f"\n[browser] {line}", flush=True)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``python -m ui`` on a free port, over the generated folder and an empty store."""
    base = tmp_path_factory.mktemp("ui-server")
    shutil.copytree(SEEDS, base / "docs")
    for i in range(GENERATED):
        (base / "docs" / f"report-{i:03d}.md").write_text(report(i), encoding="utf-8")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "RAG_"))}
    env.update(
        RAG_DOCS_DIR=str(base / "docs"),
        RAG_STORE_DIR=str(base / "store"),
        RAG_FEEDBACK_FILE=str(base / "evals" / "feedback.jsonl"),
        RAG_MAX_UPLOAD_MB="1",
        RAG_PORT=str(port),
        GRADIO_TEMP_DIR=str(base / "gradio-tmp"),
        PYTHONUNBUFFERED="1",
    )
    # Not the parent of the Gradio cache: Gradio refuses dotfiles under its working directory.
    workdir = base / "run"
    workdir.mkdir()
    started = time.perf_counter()
    with running_ui([], workdir, env) as output:
        url = next(line for line in output if line.startswith("Ask your documents at "))
        assert url == f"Ask your documents at http://127.0.0.1:{port}/"
        yield Server(url.split(" at ", 1)[1], base, started, output)
    assert not any("Traceback" in line for line in output), "\n".join(output)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def open_page(browser: Browser, server: Server, size: tuple[int, int] = (1400, 900)) -> Page:
    page = browser.new_context(viewport={"width": size[0], "height": size[1]}).new_page()
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
    if server.served_seconds is None:
        server.served_seconds = time.perf_counter() - server.started
    return page


def wait_for_index(page: Page, server: Server) -> None:
    """Until the banner has gone and the header counts every file (or more: uploads)."""
    page.wait_for_function(
        """files => {
            const count = document.querySelector('#app-header .doc-count');
            const header = document.querySelector('#app-header');
            return count && parseInt(count.textContent.replace(/,/g, '')) >= files
                && !header.textContent.includes('(indexing')
                && !document.querySelector('#index-banner .index-banner');
        }""",
        arg=FILES,
        timeout=INDEX_TIMEOUT_S * 1000,
    )
    if server.indexed_seconds is None:
        server.indexed_seconds = time.perf_counter() - server.started


@pytest.fixture
def page(browser: Browser, server: Server) -> Iterator[Page]:
    page = open_page(browser, server)
    wait_for_index(page, server)
    yield page
    assert "Traceback" not in page.content()
    page.context.close()
    assert server.external_requests == [], "the page must work offline"


def ask(page: Page, question: str) -> None:
    box = page.locator("#question textarea")
    box.fill(question)
    box.press("Enter")


def click_citation(page: Page, target: str) -> None:
    """Click the [n] that points to ``target`` until its source entry is selected, at most
    three times. Once in a loaded CI run the first click's effect was gone (the folded section
    stayed closed for 90 s): a late update of the panel after the answer, or a click that landed
    while the chat re-rendered. Each click still has to select the entry by itself."""
    link = page.locator(f'#chat a.cite[href="{target}"]')
    for _ in range(3):
        link.click()
        try:
            expect(page.locator(target)).to_have_class("source selected", timeout=5000)
            return
        except AssertionError:
            continue


def answers(page: Page) -> list[str]:
    return page.locator("#chat .answer:not(.streaming), #chat .refusal").all_inner_texts()


def open_documents(page: Page) -> None:
    page.get_by_role("tab", name="Documents").click()
    expect(page.locator("#documents-table table")).to_be_visible()


ROWS = "#documents-table .virtual-row"


def table_files(page: Page) -> list[str]:
    """The File column of the rows the table shows."""
    files: list[str] = page.locator(ROWS).evaluate_all(
        "rows => rows.map(r => ((r.querySelectorAll('[role=gridcell]')[1] || {}).innerText || '')"
        ".trim()).filter(t => t)"
    )
    return files


def filter_table(page: Page, text: str) -> None:
    box = page.locator("#docs-filter textarea, #docs-filter input").first
    box.fill(text)
    box.press("Enter")


# The page while the folder is indexed ----------------------------------------------------------


def test_page_is_served_while_indexing(
    browser: Browser, server: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    page = open_page(browser, server)
    say(capsys, f"launch -> page served: {server.served_seconds:.2f} s")
    banner = page.locator("#index-banner .index-banner")
    expect(banner).to_have_text(
        re.compile(rf"^Indexing(: read)? \d+ of {FILES} files - answers may be incomplete$")
    )
    header = page.locator("#app-header")
    expect(header).to_contain_text(f"Answering from {server.docs.resolve()}")
    expect(header).to_contain_text("(indexing…)")

    # One progress indicator in the Documents tab: a line, no bars over the table or the upload.
    open_documents(page)
    expect(page.locator("#docs-progress .docs-progress")).to_have_count(1)
    expect(page.locator("#docs-progress .docs-progress")).to_contain_text(
        re.compile(rf"Indexing(: read)? \d+ of {FILES} files")
    )
    bars = "#documents-table .progress-bar, #upload .progress-bar, #delete-choice .progress-bar"
    expect(page.locator(bars)).to_have_count(0)
    page.get_by_role("tab", name="Chat").click()

    # A question asked once some documents are in, while the rest are still being indexed.
    count = page.locator("#app-header .doc-count")
    expect(count).not_to_have_text("0 documents", timeout=INDEX_TIMEOUT_S * 1000)
    during = banner.count() == 1
    ask(page, SERBIA)
    expect(page.locator("#chat .answer:not(.streaming), #chat .refusal")).to_have_count(1)
    still = banner.count() == 1
    say(capsys, f"asked with {count.inner_text()} indexed; still indexing after: {still}")
    if during and still:  # indexing was running from the question to the answer
        expect(page.locator("#chat .incomplete-note")).to_contain_text(
            "the answer may be incomplete"
        )
    assert during, "indexing ended before a partial index could be asked: make the folder larger"

    wait_for_index(page, server)
    say(capsys, f"launch -> index complete: {server.indexed_seconds:.1f} s")
    expect(header).not_to_contain_text("(indexing…)")
    page.context.close()


# Chat ------------------------------------------------------------------------------------------


def test_examples_come_from_the_documents(page: Page) -> None:
    examples = page.locator("#chat .example, #chat button.example")
    expect(examples.first).to_be_visible()
    texts = [t.strip() for t in examples.all_inner_texts()]
    assert 1 <= len(texts) <= 3
    titles = {f"{town(i)} town report" for i in range(GENERATED)}
    for text in texts:
        match = re.fullmatch(r"What does (.+) say about (.+)\?|What is (.+) about\?", text)
        assert match, text
        assert (match.group(1) or match.group(3)) in titles | {SERBIA}, text
    assert not any("Serbia" in t for t in texts)
    name = re.fullmatch(r"What does (.+) town report say about .+\?", texts[0])
    assert name
    examples.first.click()
    expect(page.locator("#chat .question")).to_have_text([texts[0]])
    expect(page.locator("#chat .answer:not(.streaming), #chat .refusal")).to_have_count(1)
    shown = page.locator("#sources-panel .source-file").all_inner_texts()
    index = next(i for i in range(GENERATED) if town(i) == name.group(1))
    assert f"report-{index:03d}.md" in shown


def test_seed_question_streams_with_clickable_citations(
    page: Page, server: Server, capsys: pytest.CaptureFixture[str]
) -> None:
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
    expect(source).to_have_class("source")
    marker.click()
    expect(source).to_have_class("source selected")
    assert page.url.rstrip("/") == server.url.rstrip("/")  # the click did not navigate
    page.wait_for_timeout(500)  # let the selection outline finish its transition
    shot = server.base / "screenshot.png"
    page.screenshot(path=str(shot))
    if os.environ.get("UPDATE_SCREENSHOT") == "1":
        shutil.copyfile(shot, ROOT / "docs" / "screenshot.png")


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_sources_are_reachable_by_scrolling(
    browser: Browser, server: Server, size: tuple[int, int], capsys: pytest.CaptureFixture[str]
) -> None:
    page = open_page(browser, server, size)
    try:
        wait_for_index(page, server)
        for i in (3, 40, 77):  # three answers: the panel holds more than its box
            ask(page, f"Who is the harbour master of {town(i)}?")
            expect(page.locator("#chat .answer:not(.streaming), #chat .refusal")).to_have_count(
                [3, 40, 77].index(i) + 1
            )
        page.locator("#sources-panel details.earlier").evaluate_all(
            "els => els.forEach(e => e.open = true)"
        )
        panel = page.locator("#sources-panel")
        sizes = panel.evaluate("e => [e.scrollHeight, e.clientHeight]")
        assert sizes[0] > sizes[1], f"the panel should overflow its box for this test: {sizes}"
        box = panel.bounding_box()
        assert box is not None and box["height"] <= size[1], "the panel is taller than the window"
        last = page.locator("#sources-panel .source").last
        expect(last).not_to_be_in_viewport()
        # Scroll as a user does: the wheel over the page, then over the panel.
        for _ in range(60):
            if last.evaluate(
                "e => { const r = e.getBoundingClientRect();"
                " return r.bottom <= innerHeight && r.top >= 0 && r.height > 0; }"
            ):
                break
            panel_box = panel.bounding_box()
            assert panel_box is not None
            inside = panel_box["y"] + panel_box["height"] / 2
            if 0 < inside < size[1]:
                page.mouse.move(panel_box["x"] + panel_box["width"] / 2, max(5, inside))
            else:
                page.mouse.move(size[0] / 2, size[1] / 2)
            page.mouse.wheel(0, 300)
            page.wait_for_timeout(100)
        expect(last).to_be_in_viewport()
        wide = page.evaluate("document.documentElement.scrollWidth")
        assert wide <= size[0] + 1, f"the page scrolls sideways at {size}: {wide} px"
        shot = server.base / f"sources-{size[0]}x{size[1]}.png"
        page.screenshot(path=str(shot))
        say(capsys, f"screenshot {shot}")
    finally:
        page.context.close()


def test_follow_up_and_refusal_and_clear(page: Page) -> None:
    ask(page, SERBIA)
    expect(page.locator("#src-1-1")).to_be_visible()
    ask(page, "When?")  # answerable only with the first question as context
    expect(page.locator("#src-2-1")).to_be_visible()
    assert "Vučić" in answers(page)[-1]
    expect(page.locator("#sources-panel details.earlier")).to_have_count(1)
    click_citation(page, "#src-1-1")
    expect(page.locator("#sources-panel details.earlier")).to_have_attribute("open", "")
    expect(page.locator("#src-1-1")).to_have_class("source selected")

    ask(page, "What is the boiling point of mercury?")
    expect(page.locator("#chat .refusal")).to_contain_text("No answer in your documents.")
    expect(page.locator("#chat .notice-error")).to_have_count(0)

    page.locator("#clear").click()
    expect(page.locator("#chat .message-row")).to_have_count(0)
    expect(page.locator("#sources-panel")).to_contain_text("Ask a question")


def test_conversation_is_restored_after_reload_and_exported(page: Page, server: Server) -> None:
    ask(page, SERBIA)
    expect(page.locator("#src-1-1")).to_be_visible()
    question = f"Who is the harbour master of {town(5)}?"
    ask(page, question)
    expect(page.locator("#src-2-1, #src-2-1-closest")).to_have_count(1)
    before = answers(page)
    page.wait_for_timeout(1000)  # the browser stores the conversation after each answer

    page.reload()
    expect(page.locator("#chat .question")).to_have_text([SERBIA, question])
    assert answers(page) == before
    expect(page.locator("#src-2-1, #src-2-1-closest")).to_have_count(1)
    ask(page, "When?")  # the restored history still makes follow-ups answerable
    expect(page.locator("#src-3-1")).to_be_visible()

    with page.expect_download() as download:
        page.locator("#export").click()
        page.locator("#export-file a").first.click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert text.startswith(f"# Conversation\n\n## 1. {SERBIA}\n\n")
    assert "[1] 000_f1c14fb623d5a113.txt: “" in text and "Vučić" in text
    assert f"## 2. {question}" in text

    page.locator("#clear").click()
    expect(page.locator("#chat .message-row")).to_have_count(0)
    page.wait_for_timeout(1000)
    page.reload()
    expect(page.locator("#question textarea")).to_be_visible()
    page.wait_for_timeout(2000)
    expect(page.locator("#chat .message-row")).to_have_count(0)


def test_sessions_keep_their_own_history(browser: Browser, server: Server) -> None:
    first, second = open_page(browser, server), open_page(browser, server)
    try:
        # Two sessions of a page whose folder is indexed (run alone, the server is still indexing).
        wait_for_index(first, server)
        wait_for_index(second, server)
        ask(first, SERBIA)
        ask(second, "What anniversary does Belgrade mark?")
        expect(first.locator("#src-1-1")).to_be_visible()
        expect(second.locator("#src-1-1")).to_be_visible()
        assert first.locator("#chat .question").all_inner_texts() == [SERBIA]
        assert second.locator("#chat .question").all_inner_texts() == [
            "What anniversary does Belgrade mark?"
        ]
        first.locator("#clear").click()
        expect(first.locator("#chat .question")).to_have_count(0)
        expect(second.locator("#chat .question")).to_have_count(1)
    finally:
        first.context.close()
        second.context.close()


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


# Feedback becomes evaluation -------------------------------------------------------------------


def test_feedback_lands_in_the_eval_file_and_rag_eval_measures_it(
    page: Page, server: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    ask(page, SERBIA)
    expect(page.locator("#src-1-1")).to_be_visible()
    page.locator("#chat button[aria-label='Like']").last.click()
    expect(page.locator("#chat-notice")).to_contain_text("Saved as right")

    question = "What is the boiling point of mercury?"
    ask(page, question)
    expect(page.locator("#chat .refusal")).to_have_count(1)
    page.locator("#chat button[aria-label='Dislike']").last.click()
    expect(page.locator("#feedback-passage")).to_be_visible()
    page.locator("#feedback-passage label", has_text="The documents do not answer this").click()
    page.locator("#feedback-save").click()
    expect(page.locator("#chat-notice")).to_contain_text("Saved as wrong")
    expect(page.locator("#feedback-passage")).to_be_hidden()

    rows = [json.loads(line) for line in server.feedback.read_text("utf-8").splitlines()]
    mine = [r for r in rows if r["question"] in (SERBIA, question)][-2:]
    assert [(r["question"], r["feedback"], r["answerable"]) for r in mine] == [
        (SERBIA, "right", True),
        (question, "wrong", False),
    ]
    assert mine[0]["sources"] == ["000_f1c14fb623d5a113"]
    assert any("Vučić" in e for e in mine[0]["evidence"])
    for row in rows:  # the eval question schema (evals/README.md)
        assert isinstance(row["id"], str) and row["id"].startswith("feedback-")
        assert isinstance(row["answerable"], bool)
        assert all(isinstance(row[k], list) for k in ("answers", "evidence", "sources"))

    out = server.feedback.parent / "out"
    started = time.perf_counter()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "RAG_"))}
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "rag",
            "eval",
            "--questions",
            str(server.feedback),
            "--docs",
            str(server.docs),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        env={**env, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
        timeout=INDEX_TIMEOUT_S,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    summary = json.loads((out / "evals-feedback" / "summary.json").read_text())["hybrid"]
    say(capsys, f"rag eval on the feedback file ({time.perf_counter() - started:.0f} s): "
                f"{summary['questions']} questions, balanced accuracy "
                f"{summary['balanced_accuracy']}")  # fmt: skip
    assert summary["questions"] == len(rows)
    assert summary["answerable"] == sum(r["answerable"] for r in rows)
    # The page shows the count and the latest score.
    page.reload()
    open_documents(page)
    status = page.locator("#feedback-status")
    expect(status).to_contain_text(f"{len(rows)} answers marked")
    expect(status).to_contain_text(f"Latest score: {summary['questions']} questions")


# Documents -------------------------------------------------------------------------------------


def test_documents_table_filters_sorts_and_pages(page: Page) -> None:
    open_documents(page)
    label = page.locator("#docs-page-label")
    expect(label).to_have_text(f"Page 1 of 5 · {FILES} documents")
    expect(page.locator(ROWS)).to_have_count(25)
    assert table_files(page)[0] == "000_f1c14fb623d5a113.txt"
    expect(page.locator("#documents-table")).to_contain_text(f"{town(0)} town report")

    page.locator("#docs-next").click()
    expect(label).to_have_text(f"Page 2 of 5 · {FILES} documents")
    assert table_files(page)[0] == "report-024.md"

    filter_table(page, town(7).lower())
    expect(label).to_have_text(f"Page 1 of 1 · 1 of {FILES} documents match")
    assert table_files(page) == ["report-007.md"]

    filter_table(page, "report")
    expect(label).to_have_text(f"Page 1 of 5 · {GENERATED} of {FILES} documents match")
    page.locator("#docs-sort input").click()
    page.get_by_role("option", name="Size (largest first)").click()
    sizes = {f"report-{i:03d}.md": len(report(i).encode()) for i in range(GENERATED)}
    largest = sorted(sizes, key=lambda name: (-sizes[name], name))
    expect(page.locator(ROWS).first).to_contain_text(largest[0])
    assert table_files(page) == largest[:25]


def upload(page: Page, name: str, data: bytes) -> None:
    """Drop one file on the upload area, once it is empty again after the previous upload."""
    expect(page.locator("#upload")).to_contain_text("Drop File Here")
    payload: FilePayload = {"name": name, "mimeType": "text/plain", "buffer": data}
    page.locator("#upload input[type=file]").set_input_files(files=[payload])


def test_upload_a_document_then_ask_about_it(page: Page, server: Server) -> None:
    open_documents(page)
    upload(page, "moonbase.txt", MOON.encode())
    expect(page.locator("#documents-notice")).to_contain_text("Added moonbase.txt.")
    filter_table(page, "moonbase")
    expect(page.locator("#documents-table")).to_contain_text("Moonbase Tranquility Logbook.")
    assert (server.docs / "moonbase.txt").read_text(encoding="utf-8") == MOON

    page.get_by_role("tab", name="Chat").click()
    ask(page, "Who is the station commander of Moonbase Tranquility?")
    expect(page.locator("#src-1-1 .source-file")).to_have_text("moonbase.txt")
    assert "Ingrid Halvorsen" in answers(page)[-1]


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
    upload(page, "tool.exe", b"MZ")
    expect(page.locator(".toast-body")).to_contain_text("Invalid file type: tool.exe.")
    names = {p.name for p in server.docs.iterdir()}
    assert names.isdisjoint({".hidden.txt", "tool.exe"})


def test_delete_selected_rows_after_a_confirmation(page: Page, server: Server) -> None:
    open_documents(page)
    upload(page, "to-delete.md", b"# Delete me\n\nThis note about herons will be deleted.\n")
    expect(page.locator("#documents-notice")).to_contain_text("Added to-delete.md.")
    upload(page, "to-delete-too.md", b"# Also me\n\nThis note about cranes goes too.\n")
    expect(page.locator("#documents-notice")).to_contain_text("Added to-delete-too.md.")
    filter_table(page, "to-delete")
    expect(page.locator("#docs-page-label")).to_contain_text("2 of")
    for name in ("to-delete.md", "to-delete-too.md"):
        row = page.locator(ROWS).filter(has_text=name)
        expect(row).to_have_count(1)
        row.locator("[role=gridcell]").nth(1).click()
        expect(page.locator("#delete-choice")).to_contain_text(name)

    page.locator("#delete").click()
    expect(page.locator("#confirm-delete-text")).to_have_text(
        "Delete to-delete.md and to-delete-too.md (2 documents) from the index and the "
        "documents folder? This cannot be undone."
    )
    page.locator("#confirm-delete-no").click()
    expect(page.locator("#documents-notice")).to_have_text("Nothing was deleted.")
    assert (server.docs / "to-delete.md").exists()

    page.locator("#delete").click()
    page.locator("#confirm-delete-yes").click()
    expect(page.locator("#documents-notice")).to_have_text(
        "Deleted to-delete.md (1 chunk), to-delete-too.md (1 chunk)."
    )
    expect(page.locator("#docs-page-label")).to_contain_text("0 of")
    assert not (server.docs / "to-delete.md").exists()
    assert not (server.docs / "to-delete-too.md").exists()


def test_resync_button(page: Page, server: Server) -> None:
    (server.docs / "otters.md").write_text("# Otters\n\nOtters hold hands while asleep.\n", "utf-8")
    open_documents(page)
    page.locator("#resync").click()
    expect(page.locator("#documents-notice")).to_contain_text("Synced: 1 added")
    filter_table(page, "otters")
    expect(page.locator("#documents-table")).to_contain_text("otters.md")
