"""A passage that repeats a better-ranked one is not read twice (rag/retrieval.py): a page that
includes another (SQLite's capi3ref holds every c3ref page, git-config every command's
configuration), a file copied under two names, a link to a page. The copy took one of the k
places read and was shown twice; the next candidate takes its place now."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.models import Chunk
from rag.retrieval import REPEATED_SHARE, repeats, sentences_of

STASH = (
    "Use git stash when you want to record the current state of the working directory. "
    "The command saves your local modifications away. "
    "Untracked files are stashed with the --include-untracked option. "
    "A stash is listed as WIP on the branch it was made on. "
    "Stashes can be applied again with git stash pop."
)


def chunk(text: str, start: int = 0) -> Chunk:
    from rag.chunking import split_sentences

    return Chunk(
        "c", "a.txt", start, start + len(text), text, sentences=tuple(split_sentences(text))
    )


def test_sentences_are_compared_with_their_white_space_normalised() -> None:
    a = chunk(STASH)
    b = chunk(STASH.replace(". ", ".\n  "))
    assert len(sentences_of(a)) == 5
    assert sentences_of(a) == sentences_of(b)
    assert sentences_of(Chunk("c", "a.txt", 0, 3, "one")) == {"one"}  # no spans: the text


def test_a_passage_mostly_of_a_kept_ones_sentences_repeats_it() -> None:
    kept = [sentences_of(chunk(STASH))]
    assert repeats(sentences_of(chunk(STASH)), kept)  # a copy
    # Four of five sentences the same (a copy cut at another place): 0.8, a repeat.
    four = STASH.rsplit(" Stashes", 1)[0] + " Another page ends differently."
    assert len(sentences_of(chunk(four)) & kept[0]) == 4 >= REPEATED_SHARE * 5
    assert repeats(sentences_of(chunk(four)), kept)
    # Three of five: a neighbour sharing its overlap, not a copy.
    three = " ".join(STASH.split(". ")[:3]) + ". One new sentence. And another new one."
    assert not repeats(sentences_of(chunk(three)), kept)
    assert not repeats(sentences_of(chunk(STASH)), [])


@pytest.mark.parametrize(("share", "repeated"), [(0.79, False), (0.8, True), (0.95, True)])
def test_the_share_is_measured_against_the_passage_that_may_repeat(
    share: float, repeated: bool
) -> None:
    said = {f"s{n}" for n in range(100)}
    other = {f"s{n}" for n in range(round(share * 100))} | {f"other{n}" for n in range(50)}
    assert repeats(said, [other]) is repeated  # of ``said``'s 100, not of ``other``'s


def test_a_copy_of_a_file_takes_no_place_of_the_passages_read(tmp_path: Path) -> None:
    """Through ``rag.retrieve`` over a real index (Chroma, the packaged embedder, BM25): a page
    and its copy under another name, and other pages; the copy is never among the passages."""
    import rag
    from rag.config import Settings

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "git-stash.txt").write_text(STASH, encoding="utf-8")
    (docs / "git-stash-copy.txt").write_text(STASH, encoding="utf-8")
    topics = ["branch", "merge", "rebase", "tag", "remote", "clone"]
    for n, topic in enumerate(topics):
        (docs / f"page_{n}.txt").write_text(
            f"Use git {topic} when you want to work with a {topic}. "
            f"The {topic} command records its state in the working directory.",
            encoding="utf-8",
        )
    settings = Settings(docs_dir=docs, store_dir=tmp_path / "store", k=3)
    rag.ingest(settings=settings)
    passages = rag.retrieve("How do I stash untracked files in git?", settings=settings)
    sources = [p.chunk.source for p in passages]
    assert len(passages) == 3
    assert sources[0] in {"git-stash.txt", "git-stash-copy.txt"}
    assert sum(s in {"git-stash.txt", "git-stash-copy.txt"} for s in sources) == 1
    assert len({p.chunk.text for p in passages}) == 3
