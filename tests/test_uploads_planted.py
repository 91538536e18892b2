"""Uploads into the documents folder (ui/uploads.py) with real files in a temporary folder: the
name length cap at its boundary, and a link to nothing at the upload's name.

Tests written for deliberate bugs a review planted in ui/uploads.py that the suite let through:

- the name cap off by one (``len(base) > MAX_NAME_CHARS + 1``): a 181-character name was kept
  whole, over the 180 the folder's names are held to (only 180 and 300 were tried);
- ``replaced`` read with ``target.exists()`` instead of ``os.path.lexists``: an upload over a
  link to a missing file replaced the link yet was reported as new;
- the temporary file opened without ``O_EXCL``: a link planted at the temporary name was
  followed, and the upload written over the file it named, outside the documents folder (the
  test fixes the random part of the name to plant the link there);
- the temporary file removed on ``Exception`` only (``BaseException`` narrowed): an upload
  interrupted (Ctrl-C, a ``SystemExit`` of a stopping server) while it was checked left its
  hidden ``.upload-*.part`` file in the documents folder for ever.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from ui import uploads
from ui.uploads import MAX_NAME_CHARS, safe_name


def test_a_name_one_over_the_cap_is_cut_to_the_cap() -> None:
    assert uploads.MAX_NAME_CHARS == 180
    assert uploads.safe_name("c" * 177 + ".txt") == "c" * 176 + ".txt"
    assert uploads.safe_name("d" * 176 + ".txt") == "d" * 176 + ".txt"


def test_an_upload_over_a_link_to_nothing_replaces_it_and_says_so(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "notes.txt").symlink_to(tmp_path / "gone.txt")  # a link to a missing file
    source = tmp_path / "incoming.txt"
    source.write_text("Herons wade in shallow water.\n", encoding="utf-8")
    saved = uploads.save_upload(source, "notes.txt", docs, 1)
    assert saved == uploads.SavedUpload(docs.resolve() / "notes.txt", True)
    assert not (docs / "notes.txt").is_symlink()
    assert (docs / "notes.txt").read_text(encoding="utf-8") == "Herons wade in shallow water.\n"
    assert not (tmp_path / "gone.txt").exists()  # the link was replaced, never followed


def test_a_link_planted_at_the_temporary_name_is_never_followed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    outside = tmp_path / "outside.txt"
    outside.write_text("keep me\n", encoding="utf-8")
    monkeypatch.setattr(secrets, "token_hex", lambda n: "ab" * n)
    (docs / f".upload-{'ab' * 8}.part.txt").symlink_to(outside)
    source = tmp_path / "incoming.txt"
    source.write_text("Herons wade in shallow water.\n", encoding="utf-8")
    with pytest.raises(FileExistsError):
        uploads.save_upload(source, "notes.txt", docs, 1)
    assert outside.read_text(encoding="utf-8") == "keep me\n"
    assert not (docs / "notes.txt").exists()


def test_an_interrupted_upload_leaves_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    source = tmp_path / "incoming.txt"
    source.write_text("Herons wade in shallow water.\n", encoding="utf-8")

    def interrupted(path: object, settings: object = None) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(uploads, "check_document", interrupted)  # the check is rag's, not ours
    with pytest.raises(KeyboardInterrupt):
        uploads.save_upload(source, "notes.txt", docs, 1)
    assert list(docs.iterdir()) == []


def test_a_long_name_whose_only_dot_is_near_its_start_is_cut_and_not_hidden() -> None:
    """Found by the probe: "x." and 200 letters kept its "extension" and cut the stem to
    nothing: a 201-character hidden name (".yyy..."), past both the cap and the no-hidden-names
    rule (uploads then refused it for its type, but the name itself was wrong)."""
    name = safe_name("x." + "y" * 200)
    assert len(name) == MAX_NAME_CHARS and name.startswith("x.yyy")
    assert safe_name("a" * 300 + ".pdf") == "a" * (MAX_NAME_CHARS - 4) + ".pdf"
