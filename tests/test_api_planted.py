"""The public functions (rag/api.py) over a real index (Chroma in tmp_path, the packaged
embedding model): a question keeps its words, not its spacing; a removed document that is a
dangling link leaves the folder too; a source of ".." is outside the folder; a Chroma server's
documents are listed by name.

Tests written for deliberate bugs a review planted in rag/api.py that the suite let through:

- the question's white space no longer collapsed (tabs, newlines and runs of spaces kept in
  ``Answer.question``);
- ``path.is_file()`` alone before deleting a removed document's file (a link whose target is
  gone stays in the folder);
- ``relative == ".."`` dropped from the outside-the-folder check (".." then named "not an
  indexed document");
- ``documents()`` no longer sorted: a local index lists its manifest's order, which is sorted
  on save, but a Chroma server's document list comes back in the order files were added.
"""

from __future__ import annotations

import pytest

import rag
from rag.api import documents_root
from rag.config import Settings
from rag.errors import DocumentsError
from tests.test_chroma_server import chroma_url  # noqa: F401  (the server fixture)


def test_the_question_as_asked_keeps_its_words_not_its_spacing(settings: Settings) -> None:
    answer = rag.answer("  Who is\tthe \n president   of Serbia?  ", settings=settings)
    assert answer.question == "Who is the president of Serbia?"
    assert not answer.refused


def test_a_removed_document_that_is_a_dangling_link_leaves_the_folder(
    settings: Settings,
) -> None:
    (settings.docs_dir / "notes").mkdir()
    target = settings.docs_dir / "notes" / "moon.txt"
    target.write_text("The moonbase is commanded by Ingrid Halvorsen.\n", encoding="utf-8")
    link = settings.docs_dir / "moon.txt"
    link.symlink_to(target)
    rag.ingest(settings=settings)
    assert "moon.txt" in [d.source for d in rag.documents(settings).documents]
    target.unlink()  # the link now points nowhere
    rag.remove_document("moon.txt", settings=settings)
    assert not link.is_symlink()
    assert "moon.txt" not in [d.source for d in rag.documents(settings).documents]


def test_dot_dot_is_outside_the_documents_folder(settings: Settings) -> None:
    rag.ingest(settings=settings)
    root = documents_root(settings)
    for source in ("..", "../", "a/../.."):
        with pytest.raises(DocumentsError) as caught:
            rag.remove_document(source, settings=settings)
        assert str(caught.value) == f"{source!r} is outside the documents folder {root}."


def test_a_servers_documents_are_listed_by_name(
    settings: Settings,
    chroma_url: str,  # noqa: F811
) -> None:
    remote = settings.with_(chroma_url=chroma_url, collection="api-planted-order")
    (settings.docs_dir / "zebra.txt").write_text("Zebras graze on the plain.\n", encoding="utf-8")
    rag.ingest(settings=remote)
    (settings.docs_dir / "aardvark.txt").write_text("Aardvarks dig for ants.\n", encoding="utf-8")
    rag.ingest(settings=remote)
    names = [d.source for d in rag.documents(remote).documents]
    assert names == sorted(names) and len(names) == 3
