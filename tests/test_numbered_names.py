"""A name with its number is found however the question writes it (rag/lexical.py
``query_terms``): "SHA-256" is tokenised "sha", "256" and "SHA256" "sha256", so over Nettle's
manual "PBKDF2 with SHA-256" found pbkdf2_hmac_sha1's entry ("HMAC-SHA1") as readily as
pbkdf2_hmac_sha256's ("HMAC-SHA256"), and a near tie chose the wrong one. A real BM25 index in
tmp_path."""

from __future__ import annotations

import pytest

from rag.lexical import LexicalIndex, query_terms

ENTRIES = {
    "sha1": "PBKDF2 with HMAC-SHA1. Derive a key from a password and a salt.",
    "sha256": "PBKDF2 with HMAC-SHA256. Derive a key from a password and a salt.",
    "sha512": "PBKDF2 with HMAC-SHA512. Derive a key from a password and a salt.",
    "utf": "Names are read as UTF-8 text; 256 bytes at most.",
}


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> LexicalIndex:
    built = LexicalIndex(tmp_path_factory.mktemp("numbered") / "bm25")
    built.build(list(ENTRIES.items()))
    return built


def test_a_hyphenated_name_and_number_finds_them_written_together(index: LexicalIndex) -> None:
    top = index.search("Which function derives a key using PBKDF2 with SHA-256?", 3)
    assert top[0][0] == "sha256"
    assert top[0][1] > top[1][1]  # no tie with SHA1's or SHA512's entry


def test_a_name_and_number_written_together_finds_them_hyphenated(index: LexicalIndex) -> None:
    assert [hit[0] for hit in index.search("Is utf8 accepted?", 3)] == ["utf"]


def test_query_terms() -> None:
    held = {"sha", "256", "sha256", "utf", "8", "int32", "pbkdf2"}
    assert query_terms("PBKDF2 with SHA-256?", held) == ["pbkdf2", "sha", "256", "sha256"]
    # The joined form is searched where the index holds it; the parts where it does not.
    assert query_terms("SHA-512", held) == ["sha"]
    assert query_terms("utf8 names", held) == ["utf", "8"]
    # A name the index holds joined is searched as written only.
    assert query_terms("int32 and sha256", held) == ["int32", "sha256"]
    # Another spelling adds each term once, and none the question already has.
    assert query_terms("UTF-8 or utf8", held) == ["utf", "8"]
    assert query_terms("utf8 or UTF8?", held - {"utf"}) == ["8"]
    assert query_terms("SHA-256 or sha256", held) == ["sha", "256", "sha256"]
