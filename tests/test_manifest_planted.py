"""The manifest's save on a disk that fills up under it (rag/manifest.py on a real tmpfs): the
save fails as a full disk, and the manifest on disk is the old one, whole.

Tests written for deliberate bugs a review planted in rag/manifest.py that the suite let
through:

- ``Manifest.save`` writing the file in place (``path.write_bytes``) instead of through
  ``write_atomic``: a save that ran out of space left half a manifest, so the next answer or
  sync found the document list damaged (and an OSError, not the full-disk message).

Judged equivalent: ``Manifest.load`` raising ``StoreDamagedError`` instead of ``StoreError``
for a store folder that is a file. Every caller that catches the damaged error goes on to the
writer lock or the store, which refuse the same folder with the same one line (checked with
tests/test_faults_store.py's ``test_store_folder_that_is_a_file_is_one_line``).
"""

from __future__ import annotations

from pathlib import Path

from tests.tmpfs import run_on_tmpfs

FILL = """
import sys
from pathlib import Path
from rag.manifest import FileEntry, Manifest

path = Path(sys.argv[1]) / "store" / "manifest.json"
def manifest(n):
    entries = {f"doc-{i:05}.md": FileEntry("h" * 64, i, 1.5, [f"c{i}"], "t") for i in range(n)}
    return Manifest(root="/docs", generation=n, files=entries)
manifest(3).save(path)
try:
    manifest(3000).save(path)  # some 400 KB on a disk of 64 KB
except Exception as exc:
    print(type(exc).__name__, str(exc).split(":")[0])
else:
    print("saved")
loaded = Manifest.load(path)
print(loaded.generation, len(loaded.files))
"""


def test_a_save_on_a_full_disk_keeps_the_old_manifest_whole(tmp_path: Path) -> None:
    mount = tmp_path / "disk"
    done = run_on_tmpfs(mount, "size=64k", FILL)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"DiskFullError The disk holding {mount}/store is full",
        "3 3",
    ]
