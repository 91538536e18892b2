"""Faults on the input side (issue 12, items 5 and 7-10): hostile or odd files, settings, arguments,
names and requests. Each test repeats a finding of the review and fails on the code it found."""

from __future__ import annotations

import codecs
import io
import json
import socket
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import rag
from rag.chunking import split_sentences
from rag.cli import main as cli_main
from rag.config import Settings
from rag.errors import ConfigError, RagError
from rag.loaders import UnreadableFile, load_document
from tests.conftest import SEED_FILE
from tests.test_auth import result
from tests.test_loaders_chunking import make_docx, make_pdf

BOMB_BYTES = 64 * 1024 * 1024  # what the bomb's XML unpacks to: over the loader's limit
FREEDONIA = "The capital of Freedonia is Barville, a port city on the northern coast."


def sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text)]


# Item 5: loaders keep sentences whole -----------------------------------------------------------


def test_html_inline_elements_do_not_break_a_sentence(tmp_path: Path) -> None:
    (tmp_path / "f.html").write_text(
        "<html><head><title>Atlas</title><style>p{}</style></head><body>"
        "<h1>Freedonia</h1>\n"
        '<p>The capital of <span class="x">Freedonia</span> is <a href="/wiki/Barville">'
        "Barville</a>,\n   a <b>port</b> <i>city</i> on the <em>northern</em> <strong>coast"
        "</strong>.</p><ul><li>Timber <code>exports</code></li><li>Fishing</li></ul>"
        "<div>Line one<br>line two</div><script>var capital = 'x';</script></body></html>",
        encoding="utf-8",
    )
    text = load_document(tmp_path / "f.html").text
    assert text == (f"Freedonia\n\n{FREEDONIA}\n\nTimber exports\nFishing\n\nLine one\nline two")
    assert FREEDONIA in sentences(text)


def test_html_answer_quotes_the_whole_sentence(settings: Settings) -> None:
    """The review's case: the answer was "The capital of Freedonia is [1]"."""
    (settings.docs_dir / "freedonia.html").write_text(
        '<p>The capital of Freedonia is <a href="/wiki/Barville">Barville</a>, a port city on '
        "the northern coast.</p><p>Freedonia exports timber.</p>",
        encoding="utf-8",
    )
    answer = rag.answer("What is the capital of Freedonia?", settings=settings)
    assert not answer.refused
    first = answer.citations[0]
    assert (first.source, first.text) == ("freedonia.html", FREEDONIA)
    assert rag.document_text("freedonia.html", settings)[first.start : first.end] == FREEDONIA


def test_markdown_emphasis_links_and_wrapped_lines(tmp_path: Path) -> None:
    (tmp_path / "f.md").write_text(
        "# Freedonia\n\nThe capital of *Freedonia* is [Barville](https://example.org/barville),\n"
        "a **port** city on the `northern` coast.\n\n- Timber\n- Fishing\n",
        encoding="utf-8",
    )
    text = load_document(tmp_path / "f.md").text
    assert text == f"Freedonia\n\n{FREEDONIA}\n\nTimber\nFishing"
    assert FREEDONIA in sentences(text)


def test_docx_runs_and_tables_are_read_in_order(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    paragraph = document.add_paragraph("The capital of Freedonia is ")
    paragraph.add_run("Barville").bold = True
    paragraph.add_run(", a port city on the ")
    paragraph.add_run("northern").italic = True
    paragraph.add_run(" coast.")
    table = document.add_table(rows=2, cols=2)
    for r, row in enumerate([("Export", "Tonnes"), ("Timber", "4,000")]):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    document.add_paragraph("After the table.")
    document.save(str(tmp_path / "f.docx"))
    text = load_document(tmp_path / "f.docx").text
    assert text == f"{FREEDONIA}\n\nExport | Tonnes\n\nTimber | 4,000\n\nAfter the table."


def test_pdf_line_wrapping_and_hyphenation_are_undone(tmp_path: Path) -> None:
    make_pdf(
        tmp_path / "f.pdf",
        [
            "Introduction\n" + FREEDONIA + " Its harbour is an exam-\nple of old engineering.",
        ],
    )
    raw = __import__("pypdf").PdfReader(str(tmp_path / "f.pdf")).pages[0].extract_text()
    assert "\n" in raw.split("Introduction\n", 1)[1]  # the PDF itself wraps the sentence
    document = load_document(tmp_path / "f.pdf")
    assert sentences(document.text) == [
        "Introduction",
        FREEDONIA,
        "Its harbour is an example of old engineering.",
    ]
    assert document.pages == ((0, len(document.text), 1),)


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        # a stream filter pypdf does not implement: NotImplementedError, which stopped the
        # whole ingest ("error: unexpected NotImplementedError: Unsupported filter ...")
        (
            (b"/FlateDecode", b"/FlateDecodQ"),
            "NotImplementedError: Unsupported filter /FlateDecodQ",
        ),
        ((b"/Page", b"/PagQ"), "Invalid object in /Pages"),  # PdfReadError: said as it is
    ],
)
def test_a_pdf_pypdf_cannot_read_is_skipped_with_the_reason_and_the_rest_is_indexed(
    settings: Settings, damage: tuple[bytes, bytes], reason: str
) -> None:
    settings.docs_dir.mkdir(parents=True, exist_ok=True)
    make_pdf(settings.docs_dir / "odd.pdf", ["Hello world."])
    data = (settings.docs_dir / "odd.pdf").read_bytes()
    assert damage[0] in data
    (settings.docs_dir / "odd.pdf").write_bytes(data.replace(*damage))
    (settings.docs_dir / "freedonia.txt").write_text(FREEDONIA, encoding="utf-8")
    with pytest.raises(UnreadableFile, match=f"^not a readable PDF \\({reason}"):
        load_document(settings.docs_dir / "odd.pdf")
    report = rag.ingest(settings=settings)
    assert report.added_files == len(list(settings.docs_dir.iterdir())) - 1  # all but the PDF
    [skipped] = report.skipped
    assert skipped.path == "odd.pdf" and skipped.reason.startswith(f"not a readable PDF ({reason}")
    assert "Barville" in rag.answer("What is the capital of Freedonia?", settings=settings).text


# Item 9: bounded work ---------------------------------------------------------------------------


def _docx_bomb(path: Path, unpacked: int) -> None:
    """A valid-looking .docx whose document.xml unpacks to ``unpacked`` bytes (mostly spaces)."""
    make_docx(path, ["A small memo."])
    with zipfile.ZipFile(path) as original:
        parts = {name: original.read(name) for name in original.namelist()}
    body = parts["word/document.xml"]
    cut = body.rindex(b"</w:document>")
    padding = b" " * (unpacked - len(body))
    parts["word/document.xml"] = body[:cut] + padding + body[cut:]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as bomb:
        for name, data in parts.items():
            bomb.writestr(name, data)
    path.write_bytes(buffer.getvalue())


def test_docx_bomb_is_refused_before_it_is_unpacked(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.docx"
    _docx_bomb(bomb, BOMB_BYTES)
    assert bomb.stat().st_size < 200_000
    started = time.perf_counter()
    with pytest.raises(UnreadableFile, match=r"a damaged file or a zip bomb"):
        load_document(bomb)
    assert time.perf_counter() - started < 5


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"RAG_CHUNK_SIZE": "0"}, "chunk_size must be a whole number from 50 to 100000 (got 0)"),
        (  # the review's endless loop: size 0, and an overlap below it
            {"RAG_CHUNK_SIZE": "0", "RAG_CHUNK_OVERLAP": "-1"},
            "chunk_size must be a whole number from 50 to 100000 (got 0)",
        ),
        (
            {"RAG_CHUNK_SIZE": "200", "RAG_CHUNK_OVERLAP": "200"},
            "RAG_CHUNK_OVERLAP (200) must be smaller than RAG_CHUNK_SIZE (200)",
        ),
        ({"RAG_CHUNK_OVERLAP": "-5"}, "chunk_overlap must be a whole number from 0"),
        ({"RAG_K": "0"}, "k must be a whole number from 1 to 50 (got 0)"),
        ({"RAG_K": "51"}, "k must be a whole number from 1 to 50 (got 51)"),
        ({"RAG_K": "2.5"}, "RAG_K='2.5' is not a number"),
        ({"RAG_REFUSAL_THRESHOLD": "nan"}, "refusal_threshold must be a number from 0 to 1"),
        ({"RAG_REFUSAL_THRESHOLD": "inf"}, "refusal_threshold must be a number from 0 to 1"),
        ({"RAG_REFUSAL_THRESHOLD": "1.5"}, "refusal_threshold must be a number from 0 to 1"),
        ({"RAG_LLM_TIMEOUT": "0"}, "llm_timeout must be a number above 0 up to 3600"),
        ({"RAG_LLM_MAX_RETRIES": "-1"}, "llm_max_retries must be a whole number from 0"),
        ({"RAG_MAX_UPLOAD_MB": "-1"}, "max_upload_mb must be a number above 0"),
    ],
)
def test_bad_settings_are_refused_when_read(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], message: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as error:
        Settings.from_env()
    assert message in str(error.value)


def test_every_numeric_variable_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each RAG_ variable of a number setting reaches the settings (a variable left out of
    from_env would be ignored without a word: the defaults are in range too)."""
    from rag.config import ENV_NAMES, LIMITS

    assert sorted(ENV_NAMES.values()) == sorted(  # the README's number variables, every one
        f"RAG_{n}" for n in ("CHUNK_SIZE", "CHUNK_OVERLAP", "K", "REFUSAL_THRESHOLD",
                             "LLM_TIMEOUT", "LLM_MAX_RETRIES", "LLM_MAX_TOKENS", "MAX_UPLOAD_MB",
                             "MAX_FILE_MB", "MAX_HTML_MB", "MAX_PARSE_SECONDS", "QUEUE_SIZE",
                             "CHAT_CONCURRENCY")
    )  # fmt: skip
    for var in ENV_NAMES.values():
        monkeypatch.delenv(var, raising=False)
    default = Settings.from_env()
    for name, var in ENV_NAMES.items():
        value = getattr(default, name)
        if value is None:  # no default: a value in its range
            chosen: float = LIMITS[name].high / 4
        elif isinstance(value, int):
            chosen = value - 1 if name == "chunk_overlap" else value + 1
        else:
            chosen = round(value / 2, 6)
        monkeypatch.setenv(var, str(chosen))
        assert getattr(Settings.from_env(), name) == chosen, var
        monkeypatch.delenv(var)


def test_chunk_size_zero_ends_with_one_line_not_a_loop(
    monkeypatch: pytest.MonkeyPatch, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """RAG_CHUNK_SIZE=0 looped forever (memory growing ~90 MB/s)."""
    monkeypatch.setenv("RAG_DOCS_DIR", str(settings.docs_dir))
    monkeypatch.setenv("RAG_STORE_DIR", str(settings.store_dir))
    monkeypatch.setenv("RAG_CHUNK_SIZE", "0")
    monkeypatch.setenv("RAG_CHUNK_OVERLAP", "0")
    assert cli_main(["ingest"]) == 1
    assert capsys.readouterr().err == (
        "error: chunk_size must be a whole number from 50 to 100000 (got 0): "
        "set RAG_CHUNK_SIZE (or pass chunk_size=) to a value in range.\n"
    )


@pytest.mark.parametrize("k", [0, -1, 2.5, 10**9, True, "5"])
def test_api_refuses_a_bad_k(settings: Settings, k: object) -> None:
    """k=0 became 5, k=-1 gave 35 passages, k=2.5 a TypeError, k=10**9 the whole index."""
    with pytest.raises(ConfigError, match=r"^k must be a whole number from 1 to 50 \(got "):
        rag.retrieve("Who is the president of Serbia?", k=k, settings=settings)  # type: ignore[arg-type]
    with pytest.raises(RagError):
        rag.answer("Who is the president of Serbia?", k=k, settings=settings)  # type: ignore[arg-type]
    assert not settings.store_dir.exists()  # refused before any work


def test_api_takes_a_good_k(seeded: Settings) -> None:
    assert len(rag.retrieve("Who is the president of Serbia?", k=2, settings=seeded)) == 2
    assert len(rag.retrieve("Who is the president of Serbia?", settings=seeded)) == seeded.k


# Item 10: loose edges of the command line -------------------------------------------------------


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> Settings:
    monkeypatch.setenv("RAG_DOCS_DIR", str(settings.docs_dir))
    monkeypatch.setenv("RAG_STORE_DIR", str(settings.store_dir))
    return settings


def test_ask_with_undecodable_bytes_answers(
    cli_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """Invalid UTF-8 on the command line arrives as lone surrogates: a TypeError traceback."""
    question = "Who is the president of Serbia? caf\udce9"  # b"caf\xe9" decoded by Python's argv
    assert cli_main(["ask", question, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["question"] == "Who is the president of Serbia? caf\ufffd"
    assert data["text"]  # an answer or a refusal: not a traceback


def test_chat_survives_undecodable_input(
    cli_env: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lines: list[object] = [
        UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"),
        "Who is the president of Serbia? \udcff",
        "",
    ]

    def fake_input(prompt: str = "") -> str:
        line = lines.pop(0)
        if isinstance(line, Exception):
            raise line
        assert isinstance(line, str)
        return line

    monkeypatch.setattr("builtins.input", fake_input)
    assert cli_main(["chat"]) == 0
    out, err = capsys.readouterr()
    assert err == "error: that line is not valid UTF-8 text: type it again.\n"
    assert "Vučić" in out and f"[1] {SEED_FILE}:" in out


def test_unexpected_errors_are_one_line_and_the_debug_traceback_too_hides_the_key(
    cli_env: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An unusable store folder gave a raw traceback; --debug printed a key a server echoed."""
    key = "sk-test-4f9a8b7c6d5e"
    monkeypatch.setenv("OPENAI_API_KEY", key)
    store_file = cli_env.store_dir.parent / "store-is-a-file"
    store_file.write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv("RAG_STORE_DIR", str(store_file))
    assert cli_main(["docs"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err

    from tests.openai_server import OpenAIServer, Reply

    monkeypatch.setenv("RAG_STORE_DIR", str(cli_env.store_dir))
    assert cli_main(["ingest"]) == 0
    capsys.readouterr()
    with OpenAIServer() as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.url)
        server.script(*[Reply(status=401, error=f"Incorrect API key provided: {key}")] * 3)
        code = cli_main(["--debug", "ask", "Who is the president of Serbia?", "--llm", "openai"])
    out, err = capsys.readouterr()
    assert code == 1
    assert "Traceback (most recent call last)" in err  # --debug shows it ...
    assert "Incorrect API key provided: [hidden key]" in err  # ... with the echo masked
    assert key not in out + err
    assert err.endswith("rejected the API key (401): check OPENAI_API_KEY.\n")


def test_a_newline_in_a_file_name_keeps_the_docs_table_one_row_per_file(
    cli_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    (cli_env.docs_dir / "two\nlines.txt").write_text("A note about otters.\n", encoding="utf-8")
    assert cli_main(["ingest"]) == 0
    capsys.readouterr()
    assert cli_main(["docs"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith(SEED_FILE)
    assert lines[1].startswith("two\\nlines.txt  ")
    assert lines[2].startswith("2 files, ")


# Items 7, 8 and 10: the page --------------------------------------------------------------------

HOSTILE_NAMES = (
    "![c](https:127.0.0.1:9443?leak=confirm) y.txt",
    "<img src=x onerror=alert(1)>.txt",
)


def literal_text(html: str) -> str:
    """What a browser shows for ``html``: tags dropped, character references decoded."""
    from html.parser import HTMLParser

    shown: list[str] = []

    class Text(HTMLParser):
        def handle_data(self, data: str) -> None:
            shown.append(data)

    parser = Text(convert_charrefs=True)
    parser.feed(html)
    parser.close()
    return "".join(shown)


def wired(app: Any) -> dict[str, Any]:
    return {str(f.name): f.fn for f in app.fns.values() if f.fn}


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_file_names_are_shown_literally(settings: Settings, name: str) -> None:
    """The delete confirmation rendered a file name as Markdown: it loaded the URL, and
    ``<img src=x onerror=alert(1)>.txt`` showed as "Delete .txt"."""
    import gradio as gr

    from ui.app import create_app

    (settings.docs_dir / name).write_text("A note about otters.\n", encoding="utf-8")
    rag.ingest(settings=settings)
    app = create_app(settings)
    box = next(b for b in app.blocks.values() if getattr(b, "elem_id", "") == "confirm-delete-text")
    assert isinstance(box, gr.HTML) and not isinstance(box, gr.Markdown)
    fns = wired(app)
    _, question, _ = fns["ask_delete"]([name])
    for shown in (question, fns["delete"]([name])[1]):
        assert "<img" not in shown and "<a " not in shown and "![" not in shown
    assert literal_text(question) == (
        f"Delete {name} from the index and the documents folder? This cannot be undone."
    )
    rows = fns["table"]("", "File (A-Z)", 1)[0]["value"]  # a table of plain values
    assert name not in [row[1] for row in rows]  # deleted just now
    assert not (settings.docs_dir / name).exists()


def test_chat_bubbles_keep_markdown_inert(seeded: Settings) -> None:
    from ui.app import create_app
    from ui.handlers import ChatSession

    question = "Who is the president of Serbia? ![c](https://127.0.0.1:9443/?leak=1) \udce9"
    updates = list(wired(create_app(seeded))["ask"](question, ChatSession(), 5, "hybrid", None))
    messages = updates[-1][0]
    asked = messages[0]["content"]
    assert "![" not in asked and "<img" not in asked
    assert literal_text(asked) == (
        "Who is the president of Serbia? ![c](https://127.0.0.1:9443/?leak=1) \ufffd"
    )
    assert messages[-1]["content"].startswith(('<div class="answer">', '<div class="refusal">'))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int, Settings]]:
    """The real page on 127.0.0.1, over a private copy of the seeds."""
    import shutil

    from tests.conftest import SEEDS
    from ui.app import create_app, serve

    base = tmp_path_factory.mktemp("served")
    shutil.copytree(SEEDS, base / "docs")
    (base / "docs" / "moon.txt").write_text(
        "The station commander of Moonbase Tranquility is Ingrid Halvorsen.\n", encoding="utf-8"
    )
    settings = Settings(docs_dir=base / "docs", store_dir=base / "store")
    rag.ingest(settings=settings)
    port = free_port()
    app = create_app(settings)
    url = serve(app, settings, "127.0.0.1", port)
    try:
        yield url.rstrip("/"), port, settings
    finally:
        app.close()


def call(url: str, endpoint: str, data: list[Any]) -> Any:
    """Call a page endpoint the way gradio_client does: POST, then read the event stream."""
    with httpx.Client(base_url=url, timeout=60) as client:
        return result(client, endpoint, data)


def test_delete_endpoint_takes_a_listed_document_and_refuses_others(
    served: tuple[str, int, Settings],
) -> None:
    """The endpoint refused every name: "not in the list of choices: []"."""
    url, _, settings = served
    kind, result = call(url, "delete", ["../../etc/passwd"])
    assert kind == "complete"
    assert (
        literal_text(result[1]) == "../../etc/passwd is not indexed (any more): refresh the list."
    )
    kind, result = call(url, "delete", ["moon.txt"])
    assert kind == "complete", result
    assert literal_text(result[1]).startswith("Deleted moon.txt (1 chunk).")
    assert [d.source for d in rag.documents(settings).documents] == [SEED_FILE]


REBIND = "rebind.evil.example"


@pytest.mark.parametrize(
    "headers",
    [
        {"Host": "{rebind}:{port}", "Origin": "http://{rebind}:{port}"},  # DNS rebinding
        {"Host": "{rebind}:{port}"},
        {"Host": "127.0.0.1:{port}", "Origin": "http://{rebind}:{port}"},  # cross-site
        {"Host": "127.0.0.1:{port}", "Origin": "null"},
        {"Host": "127.0.0.1:1"},  # the right name, another port
        {"Host": "127.0.0.1.{rebind}:{port}"},
    ],
)
def test_foreign_hosts_and_origins_are_refused(
    served: tuple[str, int, Settings], headers: dict[str, str]
) -> None:
    """A POST with a rebinding Host and Origin got 200, a matching
    access-control-allow-origin, and the answer with its cited passage."""
    url, port, _ = served
    sent = {k: v.format(rebind=REBIND, port=port) for k, v in headers.items()}
    body = {"data": ["Who is the president of Serbia?", None, 5, "hybrid", "extractive"]}
    with httpx.Client(timeout=30) as client:
        for method, path, payload in (
            ("POST", "/gradio_api/call/ask", body),
            ("GET", "/", None),
            ("GET", "/config", None),
            ("OPTIONS", "/gradio_api/call/ask", None),
        ):
            extra = {"Access-Control-Request-Method": "POST"} if method == "OPTIONS" else {}
            response = client.request(
                method, f"{url}{path}", json=payload, headers={**sent, **extra}
            )
            assert response.status_code == 403, (method, path, response.status_code)
            assert "access-control-allow-origin" not in response.headers
            assert "Vučić" not in response.text and "event_id" not in response.text


def test_the_page_itself_is_served(served: tuple[str, int, Settings]) -> None:
    url, port, _ = served
    with httpx.Client(timeout=30) as client:
        for host in (f"127.0.0.1:{port}", f"localhost:{port}"):
            page = client.get(f"{url}/", headers={"Host": host})
            assert page.status_code == 200 and "<html" in page.text.lower()
        same_origin = {"Host": f"127.0.0.1:{port}", "Origin": f"http://127.0.0.1:{port}"}
        posted = client.post(
            f"{url}/gradio_api/call/ask",
            json={"data": ["Who is the president of Serbia?", None, 5, "hybrid", "extractive"]},
            headers=same_origin,
        )
        assert posted.status_code == 200 and "event_id" in posted.json()


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32"])
def test_unicode_text_with_a_byte_order_mark_is_read(settings: Settings, encoding: str) -> None:
    """Attack review: a .txt saved as "Unicode" by Windows Notepad (UTF-16 with a byte-order
    mark) was skipped as `binary file (not text)`, a reason that hid how to fix it."""
    data = FREEDONIA.encode(encoding)
    if encoding == "utf-16-be":
        data = codecs.BOM_UTF16_BE + data
    (settings.docs_dir / "notepad.txt").write_bytes(data)
    report = rag.ingest(settings=settings)
    assert report.skipped == []
    answer = rag.answer("What is the capital of Freedonia?", settings=settings)
    first = answer.citations[0]
    assert (first.source, first.text) == ("notepad.txt", FREEDONIA)
    assert rag.document_text("notepad.txt", settings)[first.start : first.end] == FREEDONIA


def test_a_false_byte_order_mark_is_refused_with_the_reason(tmp_path: Path) -> None:
    path = tmp_path / "odd.txt"
    path.write_bytes(codecs.BOM_UTF16_LE + b"\x00\xd8")  # a lone high surrogate
    with pytest.raises(UnreadableFile) as caught:
        load_document(path)
    assert str(caught.value) == (
        "not UTF-16 text despite its byte-order mark (byte 2): save it as UTF-8"
    )


def test_a_long_run_of_spaces_is_read_at_once(tmp_path: Path) -> None:
    """Trailing spaces were dropped with re.sub(r"[ \\t]+\\n"), which scans a run of spaces again
    from each of its positions when no newline ends it: 150 KB of spaces before a word took
    about 11 s, 1 MB minutes (a sync holding the writer lock meanwhile). Now line by line."""
    path = tmp_path / "spaces.txt"
    path.write_text("A title line.  \n" + " " * 150_000 + "word\n", encoding="utf-8")
    started = time.monotonic()
    document = load_document(path)
    took = time.monotonic() - started
    assert document.text == "A title line.\n" + " " * 150_000 + "word"
    assert took < 1.0, took
