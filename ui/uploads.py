"""Uploaded files into the documents folder: safe names, size, type and readability checks, atomic
writes."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from rag import RagError, Settings, check_document
from rag.loaders import SUPPORTED_SUFFIXES

# Every format the index reads (DOCX and reStructuredText were readable from the folder, yet
# refused as uploads, while the README offered DOCX uploads).
UPLOAD_SUFFIXES = SUPPORTED_SUFFIXES
MAX_NAME_CHARS = 180
# A name cut to MAX_NAME_CHARS keeps its extension when it has one this long at most.
MAX_SUFFIX_CHARS = 16
# Control characters (C0, C1), characters Windows refuses in names, line separators, and the
# invisible and bidirectional characters that make a name show other than it is
# ("report\u202etxt.pdf" shows "reportfdp.txt"; a zero-width space hides in "in\u200bvoice").
_UNSAFE = re.compile(
    r"[\x00-\x1f\x7f-\x9f<>:\"|?*\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]"
)


class UploadRejected(ValueError):
    """An uploaded file we refuse; the message is shown on the page as is."""


def safe_name(name: str) -> str:
    """The base name of ``name`` without path tricks, or ``UploadRejected``.

    Directories (``/`` or ``\\``) are dropped, control and reserved characters removed; hidden
    (leading dot) and empty names are refused.
    """
    name = unicodedata.normalize("NFC", name or "")
    base = name.replace("\\", "/").split("/")[-1]
    base = _UNSAFE.sub("", base).strip().rstrip(".")
    if not base or base in (".", ".."):
        raise UploadRejected(f"{_shown(name)}: the file name is empty; rename the file and retry.")
    if base.startswith("."):
        raise UploadRejected(
            f"{_shown(name)}: hidden file names (starting with a dot) are not accepted; "
            "rename the file and retry."
        )
    if len(base) > MAX_NAME_CHARS:
        stem, suffix = os.path.splitext(base)
        if len(suffix) > MAX_SUFFIX_CHARS:  # no extension: cutting the stem alone left a
            base = base[:MAX_NAME_CHARS].rstrip(".")  # hidden name past the cap (".yyy...")
        else:
            base = stem[: MAX_NAME_CHARS - len(suffix)] + suffix
    return base


def _shown(name: str) -> str:
    """A file name as we quote it in messages: printable and short."""
    printable = "".join(ch if ch.isprintable() else "?" for ch in name)
    return repr(printable[:80] + ("…" if len(printable) > 80 else ""))


def check_upload(name: str, size: int, max_mb: float) -> str:
    """The name to save ``name`` under, after the type and size checks."""
    base = safe_name(name)
    suffix = Path(base).suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        raise UploadRejected(
            f"{base}: {suffix or 'files without an extension'} cannot be indexed; upload "
            f"{', '.join(UPLOAD_SUFFIXES)} files."
        )
    if size > max_mb * 1024 * 1024:
        raise UploadRejected(
            f"{base}: {size / 1024 / 1024:.1f} MB is over the {max_mb:g} MB upload limit; "
            "split the file or raise RAG_MAX_UPLOAD_MB."
        )
    if size == 0:
        raise UploadRejected(f"{base}: the file is empty.")
    return base


@dataclass(frozen=True)
class SavedUpload:
    """Where an upload was saved, and whether it replaced a file of the same name."""

    path: Path
    replaced: bool


def save_upload(
    source: Path, name: str, docs_dir: Path, max_mb: float, settings: Settings | None = None
) -> SavedUpload:
    """Copy the uploaded file ``source`` into ``docs_dir`` as ``name`` (made safe).

    The copy goes to a hidden temporary file inside ``docs_dir`` first (the sync ignores hidden
    files), is checked as the sync checks it (``rag.check_document`` with ``settings``: the size
    caps, the parse time limit) and only then renamed, so a reader never sees half a file, an
    upload the sync would skip never replaces (or leaves behind) anything, and a symlink at the
    target is replaced, never followed. An upload that passes over a document replaces it.
    The file and its name are flushed to the disk before this returns (a power cut after the
    page said "Added" keeps the upload, as it keeps the index entry made from it).
    """
    size = source.stat().st_size
    base = check_upload(name, size, max_mb)
    root = docs_dir.resolve()
    root.mkdir(parents=True, exist_ok=True)
    target = root / base
    if target.parent != root:  # cannot happen after safe_name; a last guard all the same
        raise UploadRejected(f"{_shown(name)}: not a plain file name.")
    if target.is_dir():
        raise UploadRejected(f"{base}: a folder of that name exists in the documents folder.")
    # The temporary name keeps the target's suffix: the loader picks the format by suffix.
    # Created as any new file of this user is (mode 0o666 less the umask; mkstemp's 0600 kept
    # the document from other users' tools), exclusively: nothing planted there is followed.
    tmp = root / f".upload-{secrets.token_hex(8)}.part{target.suffix}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as out, source.open("rb") as src:
            shutil.copyfileobj(src, out)
            out.flush()
            os.fsync(out.fileno())  # on the disk before the name: a power cut loses neither
        try:
            check_document(tmp, settings=settings)
        except RagError as exc:
            raise UploadRejected(f"{base}: {exc}; it was not added.") from exc
        replaced = os.path.lexists(target)
        os.replace(tmp, target)
        folder = os.open(root, os.O_RDONLY)
        try:
            os.fsync(folder)  # the rename too: the page says "Added" only once it is durable
        finally:
            os.close(folder)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return SavedUpload(target, replaced)
