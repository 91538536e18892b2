"""No answer about the wrong entity (issue 20 item 7, probe Q1): over near-identical town
reports, a question about one town is answered from that town's report or refused."""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path

import pytest

import rag
from rag.config import Settings
from rag.entities import (
    MAX_NAMES_CHECKED,
    Term,
    check,
    distinctive_terms,
    mentions,
    unknown_names,
)
from rag.lexical import LexicalIndex
from rag.models import Answer, Chunk, Citation, Passage

TOWNS = 120
FIRST = ["Ada", "Bruno", "Clara", "Dario", "Elena", "Fabio", "Greta", "Hugo", "Ines", "Jonas"]
LAST = ["Quill", "Marrow", "Tessel", "Vance", "Orrin", "Pell", "Strand", "Loam", "Brisk", "Hale"]


def mayor(i: int) -> str:
    return f"{FIRST[i % 10]} {LAST[(i // 10) % 10]}{'' if i < 100 else 'son'}"


def report(i: int) -> str:
    town = f"Veloria{i:03d}"
    return (
        f"Annual report of {town}.\n\n"
        f"The mayor of {town} is {mayor(i)}. {town} has {1000 + 37 * i} residents and one "
        "school. The town council meets every Tuesday in the old mill. The river Vel runs "
        "through the town, and the bridge over it was repaired last spring. Waste is collected "
        "on Mondays. The library opens at nine."
    )


@pytest.fixture(scope="module")
def towns(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    base = tmp_path_factory.mktemp("towns")
    docs = base / "docs"
    docs.mkdir()
    for i in range(TOWNS):
        (docs / f"report_{i:03d}.txt").write_text(report(i), encoding="utf-8")
    settings = Settings(docs_dir=docs, store_dir=base / "store")
    rag.ingest(settings=settings)
    return settings


def test_distinctive_terms_are_rare_name_like_words(towns: Settings) -> None:
    lexical = LexicalIndex(towns.store_dir / "bm25")
    size = len(lexical)

    def names(question: str) -> list[str]:
        return [t.text for t in distinctive_terms(question, lexical.idf, size)]

    assert names("Who is the mayor of Veloria017?") == ["Veloria017"]
    assert names("Who is the mayor of Veloria999?") == ["Veloria999"]  # not in the index
    assert names("When does the Council meet in the old mill?") == []  # every report says it
    # Ada and Quill are each in a tenth of the reports: names, but not rare ones.
    assert names("Is Ada Quill the mayor of veloria017?") == ["veloria017"]
    assert names("Who is the mayor?") == []
    # Not in the index: a code counts (a deleted town), a word may be a paraphrase.
    assert names("What is the capital of Australia?") == []
    assert names("How many residents, 42 or 1629?") == ["1629"]


def test_each_town_is_answered_from_its_own_report(towns: Settings) -> None:
    wrong, refused = [], 0
    for i in range(TOWNS):
        answer = rag.answer(f"Who is the mayor of Veloria{i:03d}?", settings=towns)
        if answer.refused:
            refused += 1
            continue
        first = answer.citations[0]
        if first.source != f"report_{i:03d}.txt" or f"Veloria{i:03d}" not in first.text:
            wrong.append((i, first.source, first.text))
    print(f"{TOWNS} towns: {TOWNS - refused - len(wrong)} right, {refused} refused")
    assert wrong == []
    assert refused <= TOWNS // 10  # mostly answered, not refused wholesale


def test_questions_about_deleted_towns_are_refused(towns: Settings, tmp_path: Path) -> None:
    copy = towns.with_(store_dir=tmp_path / "store", docs_dir=tmp_path / "docs")
    copy.docs_dir.mkdir()
    for path in towns.docs_dir.iterdir():
        (copy.docs_dir / path.name).write_bytes(path.read_bytes())
    rag.ingest(settings=copy)
    deleted = random.Random(7).sample(range(TOWNS), 15)
    for i in deleted:
        (copy.docs_dir / f"report_{i:03d}.txt").unlink()
    assert rag.ingest(settings=copy).removed_files == 15
    for i in deleted:
        for question in (
            f"Who is the mayor of Veloria{i:03d}?",
            f"How many residents does Veloria{i:03d} have?",
        ):
            answer = rag.answer(question, settings=copy)
            assert answer.refused, (question, answer.text)
            assert answer.citations == []
    # A town still there is still answered.
    kept = next(i for i in range(TOWNS) if i not in deleted)
    answer = rag.answer(f"Who is the mayor of Veloria{kept:03d}?", settings=copy)
    assert not answer.refused and mayor(kept).split()[0] in answer.text


def test_bm25_ties_are_ordered_by_chunk_id(tmp_path: Path) -> None:
    """C3: the same rows in another order (after updates) rank the same."""
    rows = [(f"id{i:02d}", "The river Vel runs through the town.") for i in range(20)]
    first, second = LexicalIndex(tmp_path / "a"), LexicalIndex(tmp_path / "b")
    first.build(rows)
    second.build(list(reversed(rows)))
    assert first.search("river Vel", 5) == second.search("river Vel", 5)
    assert [cid for cid, _ in first.search("river Vel", 5)] == [f"id{i:02d}" for i in range(5)]


def test_a_name_is_named_by_the_words_derived_from_it() -> None:
    serbia = Term("Serbia", "serbia", "serbia")
    assert mentions("On this day, the Serbian president, Aleksandar Vucic, spoke.", serbia)
    assert mentions("Serbia's president spoke.", serbia)
    assert not mentions("The Croatian president spoke.", serbia)
    # A short stem names only itself; a code only exactly.
    assert not mentions("It began to rain.", Term("Ra", "ra", "ra"))
    assert not mentions(
        "The mayor of Veloria0170 spoke.", Term("Veloria017", "veloria017", "veloria017")
    )


def test_a_citation_is_read_with_the_section_it_is_in() -> None:
    """A section names its subject once: the sentence that answers may leave it out."""
    text = (
        "Sets the max memory size of the old space.\n\n"
        "On a machine with 2 GiB of memory, consider setting this to 1536."
    )
    chunk = Chunk(id="c1", source="cli.md", start=100, end=100 + len(text), text=text,
                  section="CLI > --max-old-space-size")  # fmt: skip
    other = Chunk(id="c2", source="gc.md", start=0, end=30, text="Sets the young space size.")
    gib = Term("GiB", "gib", "gib")

    def answered_from(cited: Chunk, end: int) -> Answer:
        citation = Citation(1, cited.source, cited.text[:end], cited.start, cited.start + end, 0.6)
        return Answer("What size on a 2 GiB machine?", f"{citation.text} [1]", [citation])

    read = [Passage(chunk, 1.0), Passage(other, 0.5)]
    # A code is read narrow: a section naming one town does not make a sentence about another
    # an answer about it.
    towns = "Veloria017 has 3,000 people. The mayor of Veloria018 is Ada Quill."
    both = Chunk(id="c3", source="towns.txt", start=0, end=len(towns), text=towns)
    code = Term("Veloria017", "veloria017", "veloria017")
    about_018 = Citation(1, "towns.txt", towns[29:], 29, len(towns), 0.6)
    wrong_town = Answer("Who is the mayor of Veloria017?", f"{about_018.text} [1]", [about_018])
    assert check(wrong_town, [code], [Passage(both, 1.0)]).refused
    # The first citation is the answer: one about another town is refused, even when a later
    # citation names the town asked about.
    about_017 = Citation(2, "towns.txt", towns[:28], 0, 28, 0.5)
    second_only = Answer(
        "Who is the mayor of Veloria017?",
        f"{about_018.text} [1] {about_017.text} [2]",
        [about_018, about_017],
    )
    assert check(second_only, [code], [Passage(both, 1.0)]).refused
    first_right = replace(second_only, citations=[replace(about_017, index=1),
                                                  replace(about_018, index=2)])  # fmt: skip
    assert not check(first_right, [code], [Passage(both, 1.0)]).refused
    first_sentence = answered_from(chunk, text.index("\n"))
    # Its section names "GiB" two paragraphs on: the answer stands.
    assert not check(first_sentence, [gib], read).refused
    # A citation from a section that never names it is refused, shown as not an answer.
    refused = check(answered_from(other, 26), [gib], read)
    assert refused.refused and refused.citations == [] and refused.closest


def test_names_the_index_holds_in_no_form_are_unknown(tmp_path: Path) -> None:
    lexical = LexicalIndex(tmp_path / "bm25")
    lexical.build(
        [
            ("a", "The Serbian delegation met the emitter team in Kosovo."),
            ("b", "Tests time out, just as the EU said, and print their stack."),
        ]
    )

    def unknown(question: str) -> list[str]:
        return unknown_names(question, lexical)

    assert unknown("What is the default timeout of a test in Jest?") == ["Jest"]
    assert unknown("Did the Serb delegation meet Jest and Mocha?") == ["Jest", "Mocha"]
    assert unknown_names("Did they meet Jest and Mocha?", lexical, limit=1) == ["Jest"]
    # A form of an indexed word ("Serb", "Serbians"), a typo of one, an acronym, a name that
    # opens the sentence (it may be any word), a common word: none is unknown.
    assert unknown("What did the Serb delegation do?") == []
    assert unknown("What did the Serbain delegation do?") == []
    assert unknown("What does the EU say about Serbians?") == []
    assert unknown("Jest is what?") == []
    # A name whose stem has six letters or more, one edit from an indexed word past its first
    # letter, is a typo of it; a shorter one is not ("Jest" is not "just", "Slack" not
    # "stack", and "Kosvo" is no longer forgiven).
    assert unknown("Why is Kossovo a focus?") == []  # a letter too many
    assert unknown("Why is Kosvo a focus?") == ["Kosvo"]
    assert unknown("How do I post the emiter report to Slack?") == ["Slack"]
    assert unknown("Why is Kisovo a focus? And Jist?") == ["Jist"]
    # A name whose initials the documents use: "European Union" where they write "EU".
    assert unknown("Has it given up its European Union hopes?") == []
    assert unknown("Has it given up its Atlantic Union hopes?") == ["Atlantic", "Union"]
    # Initials that are a common word the index does not keep ("WHO") may be the documents'.
    assert unknown("What did the World Health Organization say?") == []
    # A question in Title Case names nothing by its capitals.
    assert unknown("What Is The Default Timeout For Mocha Tests?") == []
    # "I" and a sentence's first word are capitalised in any question: no Title Case.
    assert unknown("Does Jest beat Mocha? I use Serbians now.") == ["Jest", "Mocha"]
    assert unknown("Did I meet Jest or Mocha?") == ["Jest", "Mocha"]
    # A list of made-up names is looked up only so far.
    many = " and the ".join(f"Zq{chr(97 + i)}{chr(97 + j)}x" for i in range(5) for j in range(5))
    assert len(unknown(f"Did the {many} meet?")) == MAX_NAMES_CHECKED
    assert unknown("How do tests time out?") == []


def test_identifiers_the_index_holds_in_no_form_are_unknown(tmp_path: Path) -> None:
    """An identifier written as code is a name: a manual that never writes "ctest_upload"
    does not document it (CMake's deprecated commands, asked of a reference without their
    pages, were answered from "output" and "upload" sentences)."""
    lexical = LexicalIndex(tmp_path / "bm25")
    lexical.build(
        [
            ("a", "add_custom_command() adds a rule. Call readFileSync() to read it whole."),
            ("b", "CMAKE_<LANG>_FLAGS holds the flags; CMAKE_<LANG> names the language."),
            ("c", "Each OUTPUT_<NAME> is written to the output folder, then uploaded."),
        ]
    )

    def unknown(question: str) -> list[str]:
        return unknown_names(question, lexical)

    assert unknown("What does the ctest_upload command do?") == ["ctest_upload"]
    assert unknown("Does writeFileSync block?") == ["writeFileSync"]
    # Known: the same identifier, a form of it, a typo of it, in a sentence's first word.
    assert unknown("What does add_custom_command do?") == []
    assert unknown("Can I call add_custom_commands twice?") == []
    assert unknown("What does add_custom_comand do?") == []
    assert unknown("readFileSync returns what?") == []
    # Known in the documents' placeholder form: CMAKE_<LANG>_FLAGS, CMAKE_<LANG>.
    assert unknown("Where do I set CMAKE_CXX_FLAGS?") == []
    assert unknown("What is CMAKE_CXX for?") == []
    # Never by its first letters, nor by a placeholder head that leaves two parts.
    assert unknown("What does output_required_files do?") == ["output_required_files"]
    # Not identifiers: a dunder name, a plain word, a capitalised name the other rule reads.
    assert unknown("What does __init__ do with the output?") == []
    assert unknown("What is CMake?") == []


def test_an_identifier_the_documents_write_as_the_end_of_longer_ones_is_known(
    tmp_path: Path,
) -> None:
    """A family of functions is named by its common end: "set_nonce" for umac32_set_nonce and
    umac64_set_nonce (Nettle's manual; the nettle validation set's nt-12 was refused, "they
    never mention set_nonce"). The end starts at an underscore of the longer identifier."""
    lexical = LexicalIndex(tmp_path / "bm25")
    lexical.build(
        [
            ("a", "umac32_set_nonce(ctx, length, nonce) sets the nonce of the next message."),
            ("b", "umac64_set_nonce does the same for UMAC-64. Call sha256_digest at the end."),
        ]
    )

    def unknown(question: str) -> list[str]:
        return unknown_names(question, lexical)

    assert lexical.holds_an_ending("_set_nonc") and lexical.holds_an_ending("_nonc")
    assert not lexical.holds_an_ending("_et_nonc") and not lexical.holds_an_ending("_umac32")
    assert unknown("Must I call set_nonce before every message?") == []
    assert unknown("Must I call set_nonces before every message?") == []  # a form of it
    assert unknown("Must I call et_nonce before every message?") == ["et_nonce"]  # inside a part
    assert unknown("Must I call set_nonce_twice first?") == ["set_nonce_twice"]
    assert unknown("Does get_nonce return it?") == ["get_nonce"]
    # An ending holds an underscore: a plain rare word is not known from a part of an identifier.
    assert unknown("Is the nonce a digest?") == []


def test_a_name_is_mentioned_by_the_name_with_a_number() -> None:
    """A question asks about "SHA-256"; the documents write "SHA256" and "SHA3_256": a word that
    is the name followed by a number (a version or a variant) names it."""
    sha = Term("SHA", "sha", "sha")
    assert mentions("Use SHA256_DIGEST_SIZE: a SHA256 digest is 32 bytes.", sha)
    assert mentions("struct sha3_256_ctx", sha)
    assert mentions("Python3 only.", Term("Python", "python", "python"))
    assert not mentions("SHAKE can produce any length.", sha)  # letters go on: another word
    assert not mentions("Use sha256x instead.", sha)  # not a number after it
    assert not mentions("Use sha256x_ctx instead.", sha)
    assert not mentions("Merged in gb4ccea44db.", Term("GB", "gb", "gb"))  # a hash
    assert not mentions("Use Veloria017 now.", Term("Veloria01", "veloria01", "veloria01"))


@pytest.fixture(scope="module")
def digests(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The towns' reports (names are rare only in an index of 50 chunks or more), shelves of 256
    maps, and a manual's two sections on digests, as Nettle's: SHA alone only in "SHA-1", else
    with its number."""
    base = tmp_path_factory.mktemp("digests")
    docs = base / "docs"
    docs.mkdir()
    for i in range(60):
        (docs / f"report_{i:03d}.txt").write_text(report(i), encoding="utf-8")
    for i in range(5):  # 256 is no rare number here: SHA is the question's one name
        (docs / f"shelf_{i}.txt").write_text(f"Shelf {i} holds 256 maps.\n", encoding="utf-8")
    (docs / "hashes.md").write_text(
        "# Hash functions\n\n## SHA1\n\nSHA-1 is broken: use it only for old formats.\n\n"
        "## SHA256\n\nA SHA256 digest has 256 bits, 32 bytes: allocate SHA256_DIGEST_SIZE "
        "bytes for the buffer.\n",
        encoding="utf-8",
    )
    settings = Settings(docs_dir=docs, store_dir=base / "store")
    rag.ingest(settings=settings)
    return settings


def test_a_name_asked_with_a_hyphen_is_answered_where_the_documents_join_it(
    digests: Settings,
) -> None:
    """Nettle's nt-02 ("a buffer for a SHA-256 hash") was refused at confidence 0.70: the name
    check found "SHA" in no cited passage, which all write "SHA256"."""
    answer = rag.answer("How big is a SHA-256 digest?", settings=digests)
    assert not answer.refused, answer.text
    assert answer.citations[0].source == "hashes.md"
    assert "32 bytes" in answer.text


def test_a_question_naming_what_the_documents_never_mention_is_refused(towns: Settings) -> None:
    answer = rag.answer("Who is the mayor of Veloria017 according to Wikipedia?", settings=towns)
    assert answer.refused and answer.citations == []
    # The refusal says which name: a typo can be mended, another tool's name is seen to be one.
    assert answer.text == (
        "The documents do not contain an answer to this question: they never mention “Wikipedia”."
    )
    assert answer.closest  # what came closest is still shown, as not an answer
    # The same question without the unknown name is answered.
    assert not rag.answer("Who is the mayor of Veloria017?", settings=towns).refused


def test_the_pronoun_i_is_never_a_name(tmp_path: Path) -> None:
    """ "How do I ...?": the capitalised pronoun is no name. Where the index holds the word "i"
    rarely (an "i. e." in one chunk of many) it looked distinctive, and every answer whose
    section does not say "i" was refused; a follow-up ("How do I open a file inside it?") takes
    its names from the question as asked, so it had no other."""
    lexical = LexicalIndex(tmp_path / "bm25")
    chunks = [
        (f"c{n}", f"The emitter number {n} sends events to its listeners.") for n in range(60)
    ]
    chunks.append(("e", "Each emitter, i. e. an object that sends events, keeps a limit."))
    lexical.build(chunks)

    def names(question: str) -> list[str]:
        return [t.text for t in distinctive_terms(question, lexical.idf, len(lexical))]

    assert names("How do I open a file inside it?") == []
    assert names("How do I change the limit of one Emitter?") == []
    assert names("Why do I see Emitter number 7?") == []  # common words, and no code of 3 chars
    assert unknown_names("How do I raise it for Mocha?", lexical) == ["Mocha"]
