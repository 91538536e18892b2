"""Faults of the documents folder found by the attack review: names that are not UTF-8, files
that vanish during a sync, folders deeper than Python's recursion limit, folders and files that
cannot be read. Real syncs into a real Chroma in tmp_path with the real embedding model; the
permission cases run a real `rag ingest` process without the right to read them."""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

import rag
from rag.config import Settings
from rag.errors import DocumentsError
from tests.test_faults_store import env_for, rag_cmd
from ui.indexing import count_files

FREEDONIA = "The capital of Freedonia is Barville, a port city on the northern coast.\n"
SYLVANIA = "Sylvania exports cheese and timber to its neighbours every spring.\n"
FENWICK = "Grand Fenwick makes wine from the grapes of its northern valley.\n"


@pytest.fixture
def small(tmp_path: Path) -> Settings:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text(FREEDONIA, encoding="utf-8")
    (docs / "b.txt").write_text(SYLVANIA, encoding="utf-8")
    return Settings(docs_dir=docs, store_dir=tmp_path / "store")


def test_a_file_name_that_is_not_utf8_is_skipped_and_the_rest_indexed(small: Settings) -> None:
    """Was: UnicodeEncodeError from Chroma for the whole sync, and for every question after it
    (each tried to build the index first)."""
    folder = os.fsencode(small.docs_dir / "sub")
    os.mkdir(folder)
    with open(folder + b"/caf\xe9.txt", "w", encoding="utf-8") as handle:
        handle.write(FENWICK)
    report = rag.ingest(settings=small)
    assert [(s.path, s.reason) for s in report.skipped] == [
        (
            "sub/caf\ufffd.txt",
            "its name is not valid UTF-8: rename it (for example with convmv) and run rag "
            "ingest again",
        )
    ]
    assert [d.source for d in rag.documents(small).documents] == ["a.txt", "b.txt"]
    answer = rag.answer("What is the capital of Freedonia?", settings=small)
    assert [c.source for c in answer.citations] == ["a.txt"]


def test_pipes_and_links_to_nothing_are_named_in_the_report(small: Settings) -> None:
    """Was: a named pipe (or socket, device) and a link to a deleted file were passed over in
    silence, so a user could not tell why a "document" was never indexed."""
    os.mkfifo(small.docs_dir / "feed.txt")
    (small.docs_dir / "gone.txt").symlink_to(small.docs_dir / "deleted.txt")
    # A loop of links was passed over in silence, a link to a folder called a named pipe.
    (small.docs_dir / "loop-a.md").symlink_to(small.docs_dir / "loop-b.md")
    (small.docs_dir / "loop-b.md").symlink_to(small.docs_dir / "loop-a.md")
    (small.docs_dir / "elsewhere").symlink_to(small.docs_dir.parent)
    report = rag.ingest(settings=small)
    assert [(s.path, s.reason) for s in report.skipped] == [
        (
            "elsewhere",
            "a link to a folder: links to folders are not followed (they can loop or lead out "
            "of the documents folder); move or copy the folder in instead",
        ),
        ("feed.txt", "not a regular file (a named pipe, socket or device): only files are read"),
        ("gone.txt", "a link to nothing (its target is gone or cannot be reached)"),
        ("loop-a.md", "a link that cannot be followed (Too many levels of symbolic links)"),
        ("loop-b.md", "a link that cannot be followed (Too many levels of symbolic links)"),
    ]
    assert [d.source for d in rag.documents(small).documents] == ["a.txt", "b.txt"]


def test_a_file_deleted_during_a_sync_is_dropped_not_a_crash(small: Settings) -> None:
    """Was: FileNotFoundError out of rag.ingest (and the page's re-sync) when a file listed at
    the start of a sync was deleted before it was read."""
    rag.ingest(settings=small)
    (small.docs_dir / "c.txt").write_text(FENWICK, encoding="utf-8")

    def delete_the_next(done: int, total: int, message: str) -> None:
        if message.startswith("Reading") and done == 1:  # a.txt read; b.txt, c.txt to come
            (small.docs_dir / "b.txt").unlink(missing_ok=True)
            (small.docs_dir / "c.txt").unlink(missing_ok=True)

    report = rag.ingest(settings=small, progress=delete_the_next)
    assert (report.removed_files, report.added_files, report.skipped) == (1, 0, [])
    assert [d.source for d in rag.documents(small).documents] == ["a.txt"]
    assert rag.ingest(settings=small).unchanged_files == 1  # consistent: nothing left to do


def test_a_folder_deeper_than_the_recursion_limit_is_indexed(small: Settings) -> None:
    """Was: RecursionError out of rag.ingest, and out of the page's file count, for a folder
    1,100 levels deep (2,200 characters of path, well within the system's limit)."""
    deep = small.docs_dir
    try:
        for _ in range(1100):
            deep = deep / "d"
            deep.mkdir()
        (deep / "deep.txt").write_text(FENWICK, encoding="utf-8")
        assert count_files(small.docs_dir) == 3
        report = rag.ingest(settings=small)
        assert (report.added_files, report.skipped) == (3, [])
        answer = rag.answer("What does Grand Fenwick make?", settings=small)
        assert answer.citations[0].source == "d/" * 1100 + "deep.txt"
    finally:  # shutil.rmtree recurses too: the shell removes the folder
        subprocess.run(["rm", "-rf", str(small.docs_dir / "d")], check=True)


def _unprivileged(command: list[str]) -> list[str]:
    """``command`` without the right to read files whose permissions forbid it: as is for a
    normal user; root runs it as the files' owner without capabilities (a user namespace)."""
    if os.geteuid() != 0:
        return command
    return ["unshare", "--user", "--map-user=1000", "--map-group=1000", *command]


def _can_drop_root() -> bool:
    if os.geteuid() != 0:
        return True
    if not shutil.which("unshare"):
        return False
    probe = subprocess.run(_unprivileged(["true"]), capture_output=True)
    return probe.returncode == 0


def unprivileged_ingest(settings: Settings) -> subprocess.CompletedProcess[str]:
    """``rag ingest`` of ``settings`` without root's rights to read anything."""
    return subprocess.run(
        _unprivileged(rag_cmd("ingest")),
        env=env_for(settings),
        capture_output=True,
        text=True,
        timeout=240,
    )


@pytest.mark.skipif(not _can_drop_root(), reason="needs a user namespace to drop root's rights")
def test_an_unreadable_folder_or_file_keeps_its_documents_indexed(small: Settings) -> None:
    """Was: a sub-folder that could not be listed (permission denied) dropped every document
    in it from the index without a word, and an unreadable file dropped its document: a
    permission slip, or a mount that hiccups, emptied the index of what is still there."""
    sub = small.docs_dir / "sub"
    sub.mkdir()
    (sub / "c.txt").write_text(FENWICK, encoding="utf-8")
    rag.ingest(settings=small)
    os.chmod(sub, 0)
    os.chmod(small.docs_dir / "b.txt", 0)
    os.utime(small.docs_dir / "b.txt")  # changed since the sync: it must be read again
    try:
        done = unprivileged_ingest(small)
    finally:
        os.chmod(sub, 0o755)
        os.chmod(small.docs_dir / "b.txt", 0o644)
    assert done.returncode == 0, done.stderr
    skipped = [line for line in done.stderr.splitlines() if line.startswith("skipped")]
    assert skipped == [
        "skipped sub/: the folder cannot be listed (Permission denied); its 1 indexed file(s) "
        "are kept",
        "skipped b.txt: cannot read: Permission denied; its earlier index entry is kept",
    ]
    assert done.stdout.startswith("0 added, 0 updated, 0 removed, "), done.stdout
    names = [d.source for d in rag.documents(small).documents]
    assert names == ["a.txt", "b.txt", "sub/c.txt"]
    answer = rag.answer("What does Grand Fenwick make?", settings=small)
    assert answer.citations[0].source == "sub/c.txt"


def test_an_emptied_folder_never_empties_the_index_unasked(small: Settings) -> None:
    """Attack review: the documents folder on a share or drive that is not mounted (its mount
    point there, empty) made the next `rag ingest` (or the page's start) remove every document
    and its embeddings: `0 added, ..., 2 removed`, then every question refused. Now it is
    refused in one line; `--replace` (replace=True) empties the index when that is the wish."""
    rag.ingest(settings=small)
    for path in small.docs_dir.iterdir():
        path.unlink()
    done = subprocess.run(
        rag_cmd("ingest"), env=env_for(small), capture_output=True, text=True, timeout=240
    )
    assert (done.returncode, done.stderr.splitlines()[-1]) == (
        1,
        f"error: The documents folder {small.docs_dir} holds no documents now, and the index "
        f"holds 2 files from it: a sync would remove them all. If the folder is on a drive or "
        f"share that is not mounted, mount it and try again; to empty the index, run rag "
        f"ingest {small.docs_dir} --replace.",
    )
    assert [d.source for d in rag.documents(small).documents] == ["a.txt", "b.txt"]
    answer = rag.answer("What is the capital of Freedonia?", settings=small)
    assert [c.source for c in answer.citations] == ["a.txt"]
    report = rag.ingest(settings=small, replace=True)
    assert (report.removed_files, report.total_files) == (2, 0)


@pytest.mark.skipif(not _can_drop_root(), reason="needs a user namespace to drop root's rights")
def test_a_documents_folder_that_cannot_be_listed_is_one_line_with_the_fix(
    small: Settings,
) -> None:
    """Was: "error: unexpected PermissionError: ... (rag --debug ... shows the traceback)", and
    a plain PermissionError from rag.ingest, for the folder itself (a sub-folder was handled)."""
    rag.ingest(settings=small)
    before = [d.source for d in rag.documents(small).documents]
    os.chmod(small.docs_dir, 0)
    try:
        done = unprivileged_ingest(small)
    finally:
        os.chmod(small.docs_dir, 0o755)
    assert done.returncode == 1, done.stderr
    assert done.stderr.splitlines()[-1] == (
        f"error: Cannot list the documents folder {small.docs_dir.resolve()} (Permission "
        "denied): give this user read access to it, or name another folder (rag ingest PATH, "
        "RAG_DOCS_DIR)."
    )
    assert [d.source for d in rag.documents(small).documents] == before  # nothing removed


SECRET = "The vault code of the outside file is 4417-SHADOW.\n"


@pytest.mark.parametrize("swap", ["file", "folder"])
def test_a_file_swapped_for_a_link_out_after_its_check_is_not_read(
    small: Settings, monkeypatch: pytest.MonkeyPatch, swap: str
) -> None:
    """Found by the third attack review: the sync checks that a file's real path is inside the
    folder, then reads it by name. Someone who may write in the folder (not read the target)
    swapped c.txt for a link to a file outside between the two (a loop of renames won the race
    in 4 syncs here), and the outside file's text was indexed and quoted to whoever asked. The
    swap is made here, deterministically, by the size check that runs between them; 'folder'
    swaps a sub-folder for a link to an outside folder holding a file of the same name."""
    import rag.sync

    outside = small.docs_dir.parent / "outside"
    outside.mkdir()
    (outside / "c.txt").write_text(SECRET, encoding="utf-8")
    inner = small.docs_dir / "sub" if swap == "folder" else small.docs_dir
    inner.mkdir(exist_ok=True)
    (inner / "c.txt").write_text(FENWICK, encoding="utf-8")
    checked = rag.sync.size_problem

    def swap_then_check(path: Path, size: int, settings: Settings) -> str:
        if path.name == "c.txt":
            if swap == "folder":
                inner.rename(small.docs_dir / "sub-away")
                inner.symlink_to(outside, target_is_directory=True)
            else:
                path.unlink()
                path.symlink_to(outside / "c.txt")
        return checked(path, size, settings)

    monkeypatch.setattr(rag.sync, "size_problem", swap_then_check)
    report = rag.ingest(settings=small)
    source = "sub/c.txt" if swap == "folder" else "c.txt"
    assert (source, "a link to a file outside the folder") in [
        (s.path, s.reason) for s in report.skipped
    ]
    passages = rag.retrieve("What is the vault code of the outside file?", settings=small)
    assert all("SHADOW" not in p.chunk.text for p in passages)
    assert report.added_files == 2  # a.txt and b.txt


def test_a_file_that_grows_past_the_cap_after_its_check_is_not_read_whole(
    small: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Noticed by the third attack review: the size cap was checked on the file's size, then
    the file was read whole by name: one that grew (or was swapped for a larger one) in
    between was read, however large. The read now stops one byte past the cap. The growth is
    made here, deterministically, by the size check that runs between them."""
    import rag.sync

    settings = dataclasses.replace(small, max_file_mb=0.01)  # 10,485 bytes
    (small.docs_dir / "c.txt").write_text(FENWICK, encoding="utf-8")
    checked = rag.sync.size_problem

    def grow_then_check(path: Path, size: int, settings: Settings) -> str:
        if path.name == "c.txt":
            with path.open("a", encoding="utf-8") as grown:
                grown.write(" More text." * 2000)  # 22,000 bytes more
        return checked(path, size, settings)

    monkeypatch.setattr(rag.sync, "size_problem", grow_then_check)
    report = rag.ingest(settings=settings)
    assert ("c.txt", "it grew past the size limit (10,485 bytes) while it was read: sync again "
            "once it stops changing") in [(s.path, s.reason) for s in report.skipped]  # fmt: skip
    assert report.added_files == 2  # a.txt and b.txt
    # Once it stops changing, the next sync's size check skips it before it is read.
    monkeypatch.setattr(rag.sync, "size_problem", checked)
    (reason,) = [s.reason for s in rag.ingest(settings=settings).skipped if s.path == "c.txt"]
    assert reason.endswith(
        "is over the 0.01 MB limit for a file (raise RAG_MAX_FILE_MB to index it)"
    )


def test_a_file_swapped_for_a_named_pipe_after_its_check_does_not_hang_the_sync(
    small: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by the fourth review: the listing leaves named pipes out, but a file swapped for
    one between the size check and the read was opened for reading, which waits for a writer:
    the sync hung there, for good, with its lease held. The file is now opened without waiting
    and read only if it is a regular file. The swap is made here, deterministically, by the
    size check that runs between them; a hung read is released by opening the pipe to write."""
    import threading

    import rag.sync

    (small.docs_dir / "c.txt").write_text(FENWICK, encoding="utf-8")
    checked = rag.sync.size_problem

    def swap_then_check(path: Path, size: int, settings: Settings) -> str:
        if path.name == "c.txt":
            path.unlink()
            os.mkfifo(path)
        return checked(path, size, settings)

    monkeypatch.setattr(rag.sync, "size_problem", swap_then_check)
    reports: list[Any] = []
    sync = threading.Thread(target=lambda: reports.append(rag.ingest(settings=small)))
    sync.start()
    sync.join(60)
    hung = sync.is_alive()
    if hung:  # release the read (EOF) so the thread ends
        os.close(os.open(small.docs_dir / "c.txt", os.O_WRONLY | os.O_NONBLOCK))
        sync.join(60)
    assert not hung, "the sync waited on the named pipe"
    (report,) = reports
    assert (
        "c.txt",
        "not a regular file (a named pipe, socket or device): only files are read",
    ) in [(s.path, s.reason) for s in report.skipped]
    assert report.added_files == 2  # a.txt and b.txt


def test_a_link_replaced_by_a_file_while_it_is_resolved_is_skipped_not_a_crash(
    small: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by the third attack review (the link-swapping loop above): Path.resolve() saw
    c.txt as a link (lstat), then read the link of what was by then a file again, and Python
    3.11's non-strict resolve let readlink's EINVAL out: rag.ingest raised a bare
    ``OSError: [Errno 22] Invalid argument`` and the whole sync stopped. The swap is made here
    by failing the readlink of c.txt as the kernel does then."""
    (small.docs_dir / "c.txt").symlink_to(small.docs_dir / "a.txt")
    real_readlink = os.readlink

    def swapped(path: str, *args: Any, **kwargs: Any) -> str:
        if str(path).endswith("c.txt"):
            raise OSError(22, "Invalid argument", str(path))
        return real_readlink(path, *args, **kwargs)

    monkeypatch.setattr(os, "readlink", swapped)
    report = rag.ingest(settings=small)
    assert ("c.txt", "cannot read: Invalid argument") in [
        (s.path, s.reason) for s in report.skipped
    ]
    assert report.added_files == 2


def test_deleting_a_document_whose_folder_now_links_out_deletes_nothing_outside(
    small: Settings,
) -> None:
    """Found by the third attack review: remove_document (the page's Delete) unlinks
    root/source without resolving it, so that a link is removed, not its target; but when an
    indexed document's sub-folder had since been swapped for a link to a folder outside, the
    file of that name outside was deleted (by the page's user, in a folder the one who made
    the link may not write)."""
    sub = small.docs_dir / "sub"
    sub.mkdir()
    (sub / "c.txt").write_text(FENWICK, encoding="utf-8")
    rag.ingest(settings=small)
    outside = small.docs_dir.parent / "outside"
    outside.mkdir()
    (outside / "c.txt").write_text(SECRET, encoding="utf-8")
    sub.rename(small.docs_dir / "sub-away")
    sub.symlink_to(outside, target_is_directory=True)
    with pytest.raises(DocumentsError, match="outside the documents folder"):
        rag.remove_document("sub/c.txt", settings=small)
    assert (outside / "c.txt").read_text(encoding="utf-8") == SECRET
    assert (small.docs_dir / "sub-away" / "c.txt").exists()
    link = small.docs_dir / "b-link.txt"  # a link of its own is still removed, not followed
    link.symlink_to(small.docs_dir / "b.txt")
    rag.ingest(settings=small)
    rag.remove_document("b-link.txt", settings=small)
    assert not link.is_symlink() and (small.docs_dir / "b.txt").exists()
