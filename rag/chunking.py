"""Pure functions: text to sentence spans and to overlapping chunks with exact offsets."""

from __future__ import annotations

import hashlib
import re

from sentencex import segment

from rag.models import Chunk
from rag.reader_input import document_title

Span = tuple[int, int]
_WORD_BREAK = re.compile(r"\s+")


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def split_sentences(text: str) -> list[Span]:
    """Sentence spans of ``text``, whitespace trimmed; paragraphs never share a sentence."""
    spans: list[Span] = []
    offset = 0
    # sentencex is lossless: its pieces concatenate back to the input, so offsets add up.
    for piece in segment("en", text):
        for block in re.finditer(r"[^\n]+", piece):
            start = offset + block.start()
            end = offset + block.end()
            while start < end and text[start].isspace():
                start += 1
            while end > start and text[end - 1].isspace():
                end -= 1
            if end > start:
                spans.append((start, end))
        offset += len(piece)
    return spans


def _split_long(text: str, span: Span, limit: int) -> list[Span]:
    """Cut a sentence longer than ``limit`` at word breaks."""
    start, end = span
    pieces: list[Span] = []
    while end - start > limit:
        cut = start + limit
        breaks = [m.start() for m in _WORD_BREAK.finditer(text, start + limit // 2, cut)]
        cut = breaks[-1] if breaks else cut
        pieces.append((start, cut))
        start = cut
        while start < end and text[start].isspace():
            start += 1
    if end > start:
        pieces.append((start, end))
    return pieces


def chunk_spans(text: str, size: int, overlap: int) -> list[tuple[Span, list[Span]]]:
    """Pack whole sentences into chunks of at most ``size`` characters.

    Consecutive chunks share trailing sentences worth at most ``overlap`` characters.
    Returns each chunk's span with the sentence spans inside it.
    """
    sentences = [piece for span in split_sentences(text) for piece in _split_long(text, span, size)]
    chunks: list[tuple[Span, list[Span]]] = []
    i = 0
    while i < len(sentences):
        j = i
        while j + 1 < len(sentences) and sentences[j + 1][1] - sentences[i][0] <= size:
            j += 1
        members = sentences[i : j + 1]
        chunks.append(((members[0][0], members[-1][1]), members))
        if j + 1 >= len(sentences):
            break
        # Step back over whole sentences that fit in the overlap, but always move forward.
        nxt = j + 1
        while nxt - 1 > i and sentences[j][1] - sentences[nxt - 1][0] <= overlap:
            nxt -= 1
        i = nxt
    return chunks


def chunk_id(source: str, doc_hash: str, start: int, end: int) -> str:
    key = f"{source}\0{doc_hash}\0{start}:{end}"
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:24]


def chunk_document(
    source: str,
    text: str,
    *,
    size: int,
    overlap: int,
    pages: tuple[tuple[int, int, int], ...] = (),
) -> list[Chunk]:
    """Chunks of one document; ``text[c.start:c.end] == c.text`` holds for every chunk."""
    doc_hash = content_hash(text)
    title = document_title(text)
    chunks: list[Chunk] = []
    # Pages are hard boundaries, so that every chunk (and citation) has one page number.
    regions = [(s, e, n) for s, e, n in pages] if pages else [(0, len(text), None)]
    spans = [
        ((offset + s, offset + e), [(offset + a, offset + b) for a, b in sentences], page)
        for offset, region_end, page in regions
        for (s, e), sentences in chunk_spans(text[offset:region_end], size, overlap)
    ]
    for (start, end), sentences, page in spans:
        chunks.append(
            Chunk(
                id=chunk_id(source, doc_hash, start, end),
                source=source,
                start=start,
                end=end,
                text=text[start:end],
                page=page,
                sentences=tuple((s - start, e - start) for s, e in sentences),
                title=title,
            )
        )
    return chunks
