"""Which HTML extractor keeps the author's words and leaves the page chrome out (issue 17).

Each page of the Node.js API reference (``nodejs-api/html/``) is extracted by every candidate
and compared, as a bag of words, with the same page's Markdown source (``nodejs-api/md/``, read
by our Markdown loader): recall is the share of the source's words the extraction holds; chrome
is the share of the extraction's words that are not in the source (navigation, version pickers,
tables of contents). The "Added in"/"History" notes (``div.api_metadata``) that the site generates
from the source's metadata comments are removed from every page first: they are content the
source holds in another form, and counting them would call them chrome. "nav pages" counts the
pages whose extraction still holds the site's navigation ("Skip to content", "Table of contents",
"Code repository and issue tracker"). Prints a Markdown table.

    python -m bench.html_extraction [CORPUS_DIR]    # default /work/shared/corpora/nodejs-api
    python -m bench.html_extraction --ingest [CORPUS_DIR]

``--ingest`` measures the sync of the HTML pages into a new store (loading, structure-aware
chunking, embedding the section path with each chunk, Chroma, BM25) in chunks/s against the raw
encode rate of the same texts (one ``embed_documents`` call, the same backend), in one process
with the model loaded before either clock starts.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from rag.loaders import UnreadableFile
from rag.loaders.html import html_to_text, load_html
from rag.loaders.markdown import load_markdown
from rag.text import words

DEFAULT_CORPUS = Path("/work/shared/corpora/nodejs-api")


def whole_page(html: str) -> str:
    return html_to_text(html)


def ours(html: str) -> str:
    return load_html(html).text


def trafilatura_default(html: str) -> str:
    import trafilatura

    return trafilatura.extract(html, include_tables=True, include_comments=False) or ""


def trafilatura_recall(html: str) -> str:
    import trafilatura

    return trafilatura.extract(html, include_tables=True, favor_recall=True) or ""


def readability(html: str) -> str:
    from readability import Document

    return html_to_text(Document(html).summary())


def justext_paragraphs(html: str) -> str:
    import justext

    paragraphs = justext.justext(html.encode("utf-8"), justext.get_stoplist("English"))
    return "\n\n".join(p.text for p in paragraphs if not p.is_boilerplate)


CANDIDATES: dict[str, Callable[[str], str]] = {
    "whole page (html_to_text, before)": whole_page,
    "ours: main element, chrome dropped (load_html)": ours,
    "trafilatura 2.x (default)": trafilatura_default,
    "trafilatura 2.x (favor_recall)": trafilatura_recall,
    "readability-lxml 0.8": readability,
    "jusText 3.0": justext_paragraphs,
}


NAVIGATION = ("Skip to content", "Table of contents", "Code repository and issue tracker")


def without_metadata(html: str) -> str:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "lxml")
    for tag in soup.select("div.api_metadata"):
        tag.decompose()
    return str(soup)


def bag(text: str) -> Counter[str]:
    return Counter(words(text))


def measure(corpus: Path) -> list[tuple[str, float, float, float, int, float]]:
    pages = sorted((corpus / "html").glob("*.html"))
    sources = {p.stem: (corpus / "md" / f"{p.stem}.md").read_text(encoding="utf-8") for p in pages}
    references = {stem: bag(load_markdown(md).text) for stem, md in sources.items()}
    htmls = {p.stem: without_metadata(p.read_text(encoding="utf-8")) for p in pages}
    for stem, html in list(htmls.items()):  # pages our loader skips are left out for everyone
        try:
            load_html(html)
        except UnreadableFile as exc:
            print(f"left out {stem}.html: {exc}")
            del htmls[stem]
    rows = []
    for name, extract in CANDIDATES.items():
        kept = extracted = reference = navigation = 0
        worst = 1.0
        seconds = 0.0
        for stem, html in htmls.items():
            started = time.perf_counter()
            text = extract(html)
            seconds += time.perf_counter() - started
            got, ref = bag(text), references[stem]
            common = sum((got & ref).values())
            kept += common
            extracted += sum(got.values())
            reference += sum(ref.values())
            worst = min(worst, common / max(1, sum(ref.values())))
            navigation += any(marker in text for marker in NAVIGATION)
        recall = kept / reference
        chrome = 1 - kept / max(1, extracted)
        rows.append((name, recall, worst, chrome, navigation, seconds / len(htmls) * 1000))
    return rows


def measure_ingest(corpus: Path) -> dict[str, float]:
    import shutil
    import tempfile

    from rag import api
    from rag.chunking import chunk_document, indexed_text
    from rag.config import Settings
    from rag.loaders import load_document
    from rag.sync import BULK_LOADED_MIN_CHUNKS, Syncer

    with tempfile.TemporaryDirectory() as tmp:
        docs = Path(tmp) / "docs"
        shutil.copytree(corpus / "html", docs)
        settings = Settings(docs_dir=docs, store_dir=Path(tmp) / "store")
        texts: list[str] = []
        for path in sorted(docs.glob("*.html")):
            try:
                document = load_document(path)
            except UnreadableFile:
                continue  # the sync skips it too
            texts.extend(
                indexed_text(chunk)
                for chunk in chunk_document(
                    path.name,
                    document.text,
                    size=settings.chunk_size,
                    overlap=settings.chunk_overlap,
                    blocks=document.blocks,
                    title=document.title,
                )
            )
        engine = api.engine(settings)
        embedder = api.shared_embedder(settings)
        bulk = settings.embed_bulk == "auto" and len(texts) >= BULK_LOADED_MIN_CHUNKS
        embedder.embed_query("warm up")
        embedder.embed_documents(["warm up"], bulk=bulk)
        started = time.perf_counter()
        embedder.embed_documents(texts, bulk=bulk)
        encode_s = time.perf_counter() - started
        syncer = Syncer(settings, engine.store, engine.lexical, embedder, engine.catalog)
        with engine.catalog.lease(None):
            started = time.perf_counter()
            report = syncer.sync(docs)
            ingest_s = time.perf_counter() - started
    return {
        "files": report.total_files,
        "chunks": report.total_chunks,
        "encode_chunks_per_s": len(texts) / encode_s,
        "ingest_chunks_per_s": report.total_chunks / ingest_s,
        "ratio": (report.total_chunks / ingest_s) / (len(texts) / encode_s),
        "encode_s": encode_s,
        "ingest_s": ingest_s,
    }


def main(argv: list[str]) -> int:
    if argv and argv[0] == "--ingest":
        corpus = Path(argv[1]) if len(argv) > 1 else DEFAULT_CORPUS
        figures = measure_ingest(corpus)
        print(
            " ".join(
                f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}" for k, v in figures.items()
            )
        )
        return 0
    corpus = Path(argv[0]) if argv else DEFAULT_CORPUS
    rows = measure(corpus)
    print(
        "| extractor | recall of the source's words | worst page | chrome (words not in the "
        "source) | pages with navigation | ms/page |"
    )
    print("|---|---|---|---|---|---|")
    for name, recall, worst, chrome, navigation, ms in rows:
        print(f"| {name} | {recall:.3f} | {worst:.3f} | {chrome:.3f} | {navigation} | {ms:.0f} |")
    print(f"\npages of {corpus / 'html'}, less the redirect stubs left out above")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
