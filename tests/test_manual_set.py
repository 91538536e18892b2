"""The manual validation set (bench/manuals/): its shape, every evidence string in the text the
loader extracts from its page, every key fact on its page, and the words each unanswerable
question needs absent from the corpus (the grep it was checked with, kept)."""

from __future__ import annotations

import functools
import gzip
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from evals import metrics, runner
from rag.loaders import UnreadableFile, load_document
from rag.questions import sentences

MANUALS = runner.ROOT / "bench" / "manuals"
CORPORA: dict[str, Path | tuple[Path, ...]] = {
    "cmake": Path("/work/shared/corpora/cmake-help"),
    "pallets": runner.ROOT / "train" / "data" / "docs",
    # Debian's ant-doc (apt-get install ant-doc; .ci/run installs it).
    "ant": Path("/usr/share/doc/ant/manual"),
    # Debian's sqlite3-doc (apt-get install sqlite3-doc): SQLite's HTML documentation.
    "sqlite": Path("/usr/share/doc/sqlite3"),
    # Debian's git-doc (apt-get install git-doc): git's manual pages and guides, HTML beside
    # their AsciiDoc sources (.txt); the set is asked over the HTML pages alone.
    "git": Path("/usr/share/doc/git-doc"),
    # Two PDF manuals from two Debian packages (apt-get install libtasn1-doc shared-mime-info):
    # files, not a folder; the set is asked over a folder holding exactly these two, which the
    # tests make (links in a temporary folder) as bench/manuals/README.md makes /tmp/pdfdocs.
    "pdf": (
        Path("/usr/share/doc/libtasn1-doc/libtasn1.pdf"),
        Path("/usr/share/doc/shared-mime-info/shared-mime-info-spec.pdf"),
    ),
    # One PDF manual from Debian's camlidl-doc (apt-get install camlidl-doc): the set is asked
    # over a folder holding only it (bench/manuals/README.md makes /tmp/camldocs).
    "camlidl": (Path("/usr/share/doc/camlidl/camlidl-1.04.doc.pdf"),),
    # Nettle's manual (GNU Texinfo) in PDF, gzipped in Debian's nettle-dev (apt-get install
    # nettle-dev): asked over a folder holding only nettle.pdf (bench/manuals/README.md).
    "nettle": (Path("/usr/share/doc/nettle-dev/nettle.pdf.gz"),),
    # Four folders of Python 3.11's HTML documentation (Debian's python3.11-doc): asked over a
    # folder holding copies of exactly these (bench/manuals/README.md makes /tmp/pydocs).
    "python": tuple(
        Path("/usr/share/doc/python3.11/html") / name
        for name in ("tutorial", "howto", "faq", "using")
    ),
    # GNU gettext's HTML documentation (Debian's gettext-doc): the top-level pages of
    # /usr/share/doc/gettext (texi2html manual, man pages, FAQ), not its subfolders.
    "gettext": tuple(sorted(Path("/usr/share/doc/gettext").glob("*.html")))
    or (Path("/usr/share/doc/gettext/gettext_1.html"),),
    # pip's documentation sources as Debian's python3-pip ships them (MyST Markdown and rst,
    # some gzipped): the folder "html", unpacked (bench/manuals/README.md makes /tmp/pipdocs).
    "pip": (Path("/usr/share/doc/python3-pip/html"),),
    # The Debian Reference (Debian's debian-reference-en): its 15 English DocBook pages.
    "debref": tuple(sorted(Path("/usr/share/debian-reference").glob("*.en.html")))
    or (Path("/usr/share/debian-reference/ch01.en.html"),),
    # The Zsh manual (Debian's zsh-doc): texi2any HTML, 42 chapter pages, 144 redirect stubs.
    "zsh": Path("/usr/share/doc/zsh-common/html"),
    # The Mutt manual (Debian's mutt): DocBook HTML, ten chapters and the whole on one page.
    "mutt": Path("/usr/share/doc/mutt/html"),
}
# The files of each corpus that the set is asked over (the rest: .rst, .txt and .html).
SUFFIXES = {
    "git": {".html"},
    "pdf": {".pdf"},
    "camlidl": {".pdf"},
    "nettle": {".pdf"},
    "python": {".html"},
    "gettext": {".html"},
    "pip": {".md", ".rst"},
    "debref": {".html"},
    "zsh": {".html"},
    "mutt": {".html"},
}
TEXT_SUFFIXES = {".rst", ".txt", ".html"}
# Per corpus: (answerable, unanswerable) questions, as bench/manuals/README.md says.
COUNTS = {
    "cmake": (20, 10),
    "pallets": (20, 10),
    "ant": (30, 10),
    "sqlite": (30, 10),
    "git": (30, 10),
    "pdf": (20, 6),
    "camlidl": (20, 6),
    "nettle": (20, 6),
    "python": (30, 10),
    "gettext": (30, 10),
    "pip": (30, 10),
    "debref": (30, 10),
    "zsh": (30, 10),
    "mutt": (30, 10),
}
ANSWERABLE_KEYS = ["id", "question", "answerable", "answers", "evidence", "sources"]
UNANSWERABLE_KEYS = ["id", "question", "answerable"]
# What each unanswerable question would need the documents to say: none of these words occurs
# (case-folded) in the pages named (a glob under the corpus folder; "**/*" = every page).
ABSENT = {
    "cm-u01": ("**/*", ("email", "e-mail")),
    "cm-u02": ("**/*", ("meson",)),
    "cm-u03": ("**/*", ("theme",)),
    "cm-u04": ("manual/cmake-presets.7.rst", ("maximum number",)),
    "cm-u05": ("manual/cpack*", ("certificate", "codesign", "signtool")),
    "cm-u06": ("**/*", ("github",)),
    "cm-u07": ("command/string.rst", ("password", "cryptographically")),
    "cm-u08": ("**/*install*", ("uninstall",)),
    "cm-u09": ("**/*", ("faster",)),
    "cm-u10": ("**/*", ("triplet",)),
    "pa-u01": ("**/*", ("spinner",)),
    "pa-u02": ("**/*", ("man page", "manpage")),
    "pa-u03": ("**/*", ("per second",)),
    "pa-u04": ("**/*", ("rate limit", "rate-limit", "ratelimit", "throttl")),
    "pa-u05": ("**/*", ("openapi", "swagger")),
    "pa-u06": ("**/*", ("kubernetes",)),
    "pa-u07": ("**/*", ("http/2", "http2")),
    "pa-u08": ("**/*", ("oauth",)),
    "pa-u09": ("flask/blueprints.rst", ("maximum number", "limit")),
    "pa-u10": ("click/*", ("asyncio", "async")),
    "an-u01": ("**/*", ("gradle",)),
    "an-u02": ("**/*", ("yaml", ".yml")),
    "an-u03": ("**/*", ("kubernetes", "k8s")),
    "an-u04": ("**/*", ("docker",)),
    "an-u05": ("**/*", ("slack",)),
    "an-u06": ("**/*", ("maximum number of targets", "number of targets", "how many targets")),
    "an-u07": ("**/*", ("uninstall", "un-install")),
    "an-u08": ("**/*", ("json",)),
    "an-u09": ("**/*", ("kotlin",)),
    "an-u10": ("**/*", ("github actions",)),
    "sq-u1": ("**/*", ("parquet",)),
    "sq-u2": ("**/*", ("row-level security", "row level security")),
    "sq-u3": ("**/*", ("pivot",)),
    "sq-u4": ("**/*", ("nextval", "create sequence", "sequence object")),
    "sq-u5": ("**/*", ("stored procedure",)),
    "sq-u6": ("**/*", ("number of triggers", "triggers per table", "maximum number of trigger")),
    "sq-u7": ("**/*", ("max_connections", "connection pool")),
    "sq-u8": ("**/*", ("replication", "standby")),
    "sq-u9": ("**/*", ("yaml",)),
    "sq-u10": ("**/*", ("zstd", "compression level")),
    "gi-u01": (
        "**/*",
        (
            "file locking",
            "lock a file",
            "lock the file",
            "locking a file",
            "locks a file",
            "lock binary",
            "lock a binary",
        ),
    ),
    "gi-u02": ("**/*", ("git lfs", "lfs track", "lfs install", "large file storage")),
    "gi-u03": (
        "**/*",
        (
            "branch name length",
            "length of a branch",
            "long a branch name",
            "branch names longer",
            "characters in a branch",
        ),
    ),
    "gi-u04": ("**/*", ("jira",)),
    "gi-u05": (
        "**/*",
        (
            "clone count",
            "number of clones",
            "times cloned",
            "clone statistic",
            "download count",
            "has been cloned",
        ),
    ),
    "gi-u06": (
        "**/*",
        (
            "auto-commit",
            "commit every hour",
            "commits every hour",
            "hourly commit",
            "commit your changes automatically",
        ),
    ),
    "gi-u07": (
        "**/*",
        (
            "gb of ram",
            "gigabytes of ram",
            "gib of ram",
            "gb of memory",
            "gigabytes of memory",
            "memory requirement",
        ),
    ),
    "gi-u08": ("**/*", ("gitlab", "bitbucket", "merge request")),
    "gi-u09": (
        "git-switch.html",
        ("2.23", "introduced in", "since git", "first shipped", "added in git", "since version"),
    ),
    "gi-u10": ("git-worktree.html", ("maximum", "limit", "how many", "at most")),
    "pd-u1": ("**/*", ("packed encoding", "xer", "aligned")),
    "pd-u2": ("**/*", ("python", "binding")),
    "pd-u3": ("libtasn1.pdf", ("depth", "nesting", "nested", "recursion")),
    "pd-u4": ("**/*", ("markdown",)),
    "pd-u5": ("**/*", ("d-bus", "dbus")),
    "pd-u6": (
        "shared-mime-info-spec.pdf",
        ("maximum length", "length limit", "limit", "characters long", "pattern length"),
    ),
    "cl-u1": (
        "**/*",
        ("lcamlidl", "libcamlidl", "cclib", "ocamlfind", "ocamlmklib", "ocamlopt", "linker"),
    ),
    "cl-u2": (
        "**/*",
        ("callback", "call back", "function pointer", "pointer to function", "pointer to a func"),
    ),
    "cl-u3": ("**/*", ("variadic", "vararg", "stdarg", "va_list", "variable number", "printf")),
    "cl-u4": ("**/*", ("thread", "blocking section", "blocking_section", "runtime lock")),
    "cl-u5": (
        "**/*",
        ("install", "requires", "minimum version", "ocaml 3", "objective caml 3", "caml 3."),
    ),
    "cl-u6": ("**/*", ("noalloc", "unboxed", "overhead", "performance")),
    "nt-u1": ("**/*", ("scrypt", "argon")),
    "nt-u2": ("**/*", ("pem ", "pem.", "pem,", "begin rsa", "private key-----")),
    "nt-u3": ("**/*", ("blake",)),
    "nt-u4": ("**/*", ("megabyte", "mb/s", "aes-ni", "throughput")),
    "nt-u5": ("**/*", ("ocb",)),
    "nt-u6": ("**/*", ("windows", "msvc", "visual studio")),
    "py-u01": ("**/*", ("poetry", "poetry.lock", "lock file", "lockfile")),
    "py-u02": ("**/*", ("pep 695", "type statement", "type alias", "typealiastype")),
    "py-u03": ("**/*", ("jit", "just-in-time", "experimental-jit")),
    "py-u04": ("**/*", ("xlsx", "dataframe", "openpyxl", "read_excel")),
    "py-u05": ("**/*", ("tomllib", "toml", "pyproject")),
    "py-u06": ("**/*", ("taskgroup", "create_task", "asyncio.gather", "asyncio.run")),
    "py-u07": ("**/*", ("pytest", "fixture", "conftest")),
    "py-u08": ("**/*", ("sys.monitoring", "pep 669")),
    "py-u09": ("**/*", ("graphlib", "topologicalsorter", "topological")),
    "py-u10": ("**/*", ("typeddict", "notrequired", "total=false")),
    "gt-u01": ("**/*", ("cmake", "cmakelists", "add_custom_command", "meson", "scons")),
    "gt-u02": ("**/*", ("weblate", "transifex", "crowdin", "pootle", "translation platform")),
    "gt-u03": ("**/*", ("musl", "alpine", "uclibc")),
    "gt-u04": ("**/*", ("similarity threshold", "fuzzy threshold", "match threshold")),
    "gt-u05": ("**/*", ("hashpjw", "fnv", "hash function")),
    "gt-u06": ("**/*", ("f-strings", "fstring", "formatted string literal", "pep 498")),
    "gt-u07": ("**/*", ("gpg", "gnupg", "pgp", "keyring", "checksum", "sha256")),
    "gt-u08": ("**/*", ("mmap", "memory-map", "memory map", "memory usage")),
    "gt-u09": ("**/*", ("make check", "test suite", "testsuite", "run the tests")),
    "gt-u10": ("**/*", ("xliff", "xlf", "tmx", "translation memory")),
    "pp-u01": ("**/*", ("--retries", "number of retries", "retry count")),
    "pp-u02": ("**/*", ("default timeout", "timeout defaults", "--timeout")),
    "pp-u03": ("**/*", ("socks",)),
    "pp-u04": ("**/*", ("disable-pip-version-check", "version check", "newer version of pip")),
    "pp-u05": ("**/*", ("externally-managed", "break-system-packages", "pep 668")),
    "pp-u06": ("**/*", ("gpg", "pgp", "signature")),
    "pp-u07": ("**/*", ("autoremove", "unused dependencies", "orphaned")),
    "pp-u08": ("topics/caching.md", ("max-age", "ttl", "hours", "days")),
    "pp-u09": ("**/*", ("cache size", "maximum size", "size limit")),
    "pp-u10": ("**/*", ("parallel download", "download in parallel", "concurrent download")),
    "dr-u01": ("**/*", ("wireguard", "wg-quick")),
    "dr-u02": ("**/*", ("zram", "zswap")),
    "dr-u03": ("**/*", ("mokutil", "secure boot", "sign the module", "module signing")),
    "dr-u04": ("**/*", ("nftables", "nft ", "firewalld")),
    "dr-u05": ("**/*", ("automatic-reboot", "reboot automatically", "automatically reboot")),
    "dr-u06": ("**/*", ("grub_timeout", "menu timeout")),
    "dr-u07": ("**/*", ("bluetoothctl", "blueman", "pairing")),
    "dr-u08": ("**/*", ("fstrim", "trim")),
    "dr-u09": ("**/*", ("scaling_governor", "cpupower", "frequency governor")),
    "dr-u10": ("**/*", ("docker group", "rootless", "podman")),
    "zs-u01": ("**/*", ("oh-my-zsh", "agnoster")),
    "zs-u02": ("**/*", ("zinit", "antidote")),
    "zs-u03": ("**/*", ("fish", "syntax highlighting", "syntax-highlighting")),
    "zs-u04": ("**/*", ("flame graph", "flamegraph", "svg")),
    "zs-u05": ("**/*", ("powerlevel10k", "p10k", "instant prompt")),
    "zs-u06": ("**/*", ("apple", "catalina", "gplv3")),
    "zs-u07": ("**/*", ("wsl", "windows terminal")),
    "zs-u08": ("**/*", ("icalendar", "google calendar", ".ics")),
    "zs-u09": ("**/*", ("fzf", "fuzzy")),
    "zs-u10": ("**/*", ("sftp", "ftps")),
    "mu-u01": ("**/*", ("thunderbird", "address book", "addressbook")),
    "mu-u02": ("**/*", ("jmap", "fastmail")),
    "mu-u03": ("**/*", ("notmuch", "virtual folder", "virtual mailbox")),
    "mu-u04": ("**/*", ("fastest", "benchmark")),
    "mu-u05": ("**/*", ("dkim", "domainkeys")),
    "mu-u06": ("**/*", ("aerc",)),
    "mu-u07": ("**/*", ("british", "en_gb", "en-gb", "dictionary", "aspell", "hunspell")),
    "mu-u08": ("**/*", ("sixel", "kitty", "graphics protocol", "inline image")),
    "mu-u09": ("**/*", ("schedul", "8 am")),
    "mu-u10": ("**/*", ("alpine",)),
}


def rows(corpus: str) -> list[dict[str, Any]]:
    lines = (MANUALS / f"{corpus}.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line]


@pytest.fixture(scope="session")
def corpus_root(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """The folder a corpus is asked over: its folder, or for a corpus of files from several
    folders (the PDFs) a temporary folder of links to exactly those files, made once."""
    made: dict[str, Path] = {}

    def root(corpus: str) -> Path:
        where = CORPORA[corpus]
        if isinstance(where, Path):
            if not where.is_dir():
                pytest.skip(f"{where} is not on this machine")
            return where
        missing = [str(path) for path in where if not path.exists()]
        if missing:
            pytest.skip(f"{', '.join(missing)} not on this machine")
        if corpus not in made:
            made[corpus] = tmp_path_factory.mktemp(corpus)
            for path in where:
                if path.is_dir():  # copied: "**" does not go into a linked folder
                    # A corpus of one folder is that folder's files (pip's html/...).
                    into = made[corpus] if len(where) == 1 else made[corpus] / path.name
                    shutil.copytree(path, into, dirs_exist_ok=True)
                    for packed in into.rglob("*.gz"):  # pip's pages, gzipped by Debian
                        packed.with_suffix("").write_bytes(gzip.decompress(packed.read_bytes()))
                        packed.unlink()
                elif path.suffix == ".gz":  # Debian gzips large documents: read unpacked
                    (made[corpus] / path.stem).write_bytes(gzip.decompress(path.read_bytes()))
                else:
                    (made[corpus] / path.name).symlink_to(path)
        return made[corpus]

    return root


def page_texts(root: Path, pattern: str, suffixes: set[str] | None = None) -> dict[str, str]:
    """Document id (as the runner names it) -> loaded text, for the pages matching ``pattern``
    that the loader reads (Ant's redirect stubs and pages of links are no documents)."""
    suffixes = suffixes or TEXT_SUFFIXES
    texts = {
        runner.source_id(str(path.relative_to(root))): loaded_text(path)
        for path in sorted(root.glob(pattern))
        if path.is_file() and path.suffix in suffixes
    }
    return {source: text for source, text in texts.items() if text is not None}


@functools.cache
def loaded_text(path: Path) -> str | None:
    """A page's text as the loader extracts it, once per run (the checks read each page for
    each question); None for a page it refuses."""
    try:
        return load_document(path).text
    except UnreadableFile:
        return None


@pytest.mark.parametrize("corpus", sorted(CORPORA))
def test_the_set_has_the_eval_schema_and_its_counts(corpus: str) -> None:
    questions = runner.load_questions(MANUALS / f"{corpus}.jsonl")
    answerable = [q for q in questions if q.answerable]
    assert (len(answerable), len(questions) - len(answerable)) == COUNTS[corpus]
    for row in rows(corpus):
        assert list(row) == (ANSWERABLE_KEYS if row["answerable"] else UNANSWERABLE_KEYS), row
    for q in answerable:
        assert q.answers and q.evidence and q.sources, q.id
        assert all(metrics.normalise(answer) for answer in q.answers), q.id  # can score


def test_ids_are_unique_across_both_files_and_unanswerable_ones_are_checked() -> None:
    ids = [row["id"] for corpus in CORPORA for row in rows(corpus)]
    assert len(set(ids)) == len(ids)
    all_rows = [row for corpus in CORPORA for row in rows(corpus)]
    assert {row["id"] for row in all_rows if not row["answerable"]} == set(ABSENT)


@pytest.mark.parametrize("corpus", sorted(CORPORA))
def test_evidence_is_verbatim_in_the_loaded_text_and_the_key_fact_on_the_page(
    corpus: str, corpus_root: Callable[[str], Path]
) -> None:
    texts = page_texts(corpus_root(corpus), "**/*", SUFFIXES.get(corpus))
    for q in runner.load_questions(MANUALS / f"{corpus}.jsonl"):
        if not q.answerable:
            continue
        for source in q.sources:
            assert source in texts, (q.id, source)
        gold = [texts[source] for source in q.sources]
        for sentence in q.evidence:
            # As the runner finds it: an exact occurrence in the text of a gold source.
            assert any(metrics.find_spans(text, sentence) for text in gold), (q.id, sentence)
        # A key fact may sit in a definition-list term or a code line next to the evidence: it
        # must be on the gold page, as the key-fact metric reads it.
        assert any(metrics.contains_fact(t, a) for t in gold for a in q.answers), q.id


@pytest.mark.parametrize("corpus", sorted(CORPORA))
def test_no_page_says_what_an_unanswerable_question_asks(
    corpus: str, corpus_root: Callable[[str], Path]
) -> None:
    root = corpus_root(corpus)
    # Every file the set reads and every text file beside them: no source of a page says it
    # either.
    suffixes = SUFFIXES.get(corpus, set()) | TEXT_SUFFIXES
    for row in rows(corpus):
        if row["answerable"]:
            continue
        pattern, absent = ABSENT[row["id"]]
        texts = page_texts(root, pattern, suffixes)
        assert texts, (row["id"], pattern)
        for source, text in texts.items():
            folded = text.casefold()
            assert not [w for w in absent if w in folded], (row["id"], source)


def test_scene_first_questions_ask_what_their_one_sentence_originals_ask() -> None:
    """bench/manuals/scenes.jsonl: a sentence of the asker's situation before each question of a
    sample (every unanswerable one, the first five answerable of each set), the rest unchanged."""
    originals = {row["id"]: row for corpus in CORPORA for row in rows(corpus)}
    lines = (MANUALS / "scenes.jsonl").read_text(encoding="utf-8").splitlines()
    scenes = [json.loads(line) for line in lines if line]
    assert (sum(r["answerable"] for r in scenes), sum(not r["answerable"] for r in scenes)) == (
        60,
        106,
    )
    for row in scenes:
        original = originals[row["from"]]
        assert row["id"] == f"{row['from']}-s"
        same = {k: v for k, v in row.items() if k not in ("id", "question", "from")}
        assert same == {k: v for k, v in original.items() if k not in ("id", "question")}
        assert len(sentences(original["question"])) == 1, row["id"]
        scene, asking = sentences(row["question"])
        assert asking.endswith("?") and not scene.endswith("?"), row["id"]
