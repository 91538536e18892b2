"""No answer about the wrong entity: when a question names something distinctive (a name, a
number, a code that is rare in the index), the answer must be about it.

Over near-identical documents ("The mayor of Veloria017 is ...", "The mayor of Veloria018 is
...") retrieval and the reader see the same words in every one, and a question about one town
was answered from another. So:

- ``distinctive_terms``: the question's name-like words (with a digit, capitalised inside the
  sentence, or an acronym) that are rare in the index, and its codes and numbers that are not
  in it at all (a deleted town's "Veloria017"). An unseen word without a digit is often a
  paraphrase ("Serb" for "Serbian", "European Union" for "EU"): the reader judges those;
- ``focus``: when some passages mention every one of them, only those are read;
- ``unknown_names``: the question's names that the index holds in no form (no indexed word
  starts like them or is one typo from them: "Jest" over Node.js's own reference). The
  documents cannot be about what they never mention, so such a question is refused;
- ``check``: an answer stands only if its first citation's section or context (the
  document's title, its section path, its file name) names one of them and its citations
  together name every code; otherwise it becomes a refusal that shows the cited sentences as
  "not an answer".
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from rag.answering import REFUSAL_TEXT, context_title
from rag.models import Answer, Chunk, Citation, Passage
from rag.questions import CLOSERS, named_part
from rag.reader_input import word_pieces
from rag.text import STOPWORDS, fold, terms, words

# A name-like word is distinctive when at most this share of the indexed chunks hold it (or
# none does): a word many chunks hold is the corpus's topic ("Serbia" in news about Serbia, or
# any name of a small index), which an answering sentence often leaves out. A product choice:
# 1 chunk in 50 is rare; in an index of fewer than 50 chunks only unseen codes are.
RARE_SHARE = 0.02
# Codes and numbers: words with a digit and at least this many characters ("4242", "B52").
MIN_CODE_CHARS = 3
# A name's stem this long names the words that start with it (shorter stems match unrelated
# words: "Ra" in "rain").
MIN_DERIVED_STEM = 4
# A question names at most this many things worth looking up: past them, it is no question but
# a list (and each look-up of an unseen word scans a share of the vocabulary).
MAX_NAMES_CHECKED = 20
# A name whose stem is this long and one edit from an indexed word (past its first letter) is
# taken for a typo of it ("Serbain"); a shorter one is too often another word: "Jest" and
# "just", and in Apache Ant's manual "Slack" and "stack", "Gradle" ("gradl") and "graal", so
# questions about tools the manual never names were answered. 5 before round 16; 6 chosen on
# validation data: of the questions of the five calibration corpora, the three manual sets and
# the follow-ups, only unanswerable, off-topic and bank ones change (all refused now), no
# answerable one. The cost: a typo in a short name ("Kosvo") is no longer forgiven.
MIN_TYPO_CHARS = 6
# A word the documents never write (in any form, or one typo from it) is named by the question
# when general English rarely writes it either: a tool, a format, an option of another program
# ("YAML", "nextval", "zstd"). The reader's vocabulary (30,522 word pieces learnt from English
# Wikipedia and books) spells such a word in several pieces ("ya", "##ml"); a common word is one
# ("email", "throw", "rid"), often the asker's paraphrase of the documents' words. Words shorter
# than this are left alone: an acronym may stand for words the documents spell out. Product
# choices (length, and "several" is two); their effect on validation data: evals/README.md,
# round 20. In an index of fewer chunks than ``RARE_SHARE`` makes rare (50: one article, a few
# notes), what its words leave out says nothing: the rule is for manuals and collections.
MIN_RARE_CHARS = 4
_WORD = re.compile(r"\w+")
_SENTENCE_END = re.compile(rf"[.!?:;][{re.escape(CLOSERS)}]*\s*$")  # 'says "disk full." Then'...
# Capitalised words in a row: one name ("European Union"); "'s" ends a word.
# A web address: a word inside one ("http://caml.inria.fr/ocaml/htmlman/") is not written.
_URL = re.compile(r"(?:[a-z][a-z0-9+.-]*://|www\.)\S+", re.IGNORECASE)
_CAPITALISED_RUN = re.compile(r"\b[A-Z]\w*(?:\s+[A-Z]\w*)*")
# What follows a name in a word that numbers it: "256" in "sha256", "3_256_ctx" in
# "sha3_256_ctx" (an identifier goes on after an underscore).
_NUMBERS = re.compile(r"\d+(?:_\d+)*(?:_\w*)?")


@dataclass(frozen=True)
class Term:
    """A distinctive word of the question: as written, folded, and stemmed."""

    text: str
    folded: str
    stem: str

    @property
    def is_code(self) -> bool:
        return any(ch.isdigit() for ch in self.folded)


def _name_like(word: str, initial: bool) -> bool:
    if word == "I":
        return False  # the pronoun ("How do I ...?"): capitalised wherever it stands
    if any(ch.isdigit() for ch in word):
        return len(word) >= MIN_CODE_CHARS
    if len(word) >= 2 and word.isupper() and word.isalpha():
        return True  # an acronym, even first
    return word[:1].isupper() and not initial


def _opens_sentence(text: str, at: int) -> bool:
    """Whether the word at ``at`` opens a sentence (where any word is capitalised)."""
    before = text[:at]
    return not before.strip() or bool(_SENTENCE_END.search(before))


def _idf(chunks: int, df: float) -> float:
    """rag.lexical's smoothed IDF of a term in ``df`` of ``chunks`` chunks."""
    return math.log(1.0 + (max(chunks, 1) - df + 0.5) / (df + 0.5))


def distinctive_terms(question: str, idf: Callable[[str], float], chunks: int) -> list[Term]:
    """The question's name-like words that are rare in an index of ``chunks`` chunks whose
    BM25 ``idf`` is given (an unseen word has the highest idf)."""
    rare_df = RARE_SHARE * chunks
    threshold = _idf(chunks, rare_df)
    unseen = _idf(chunks, 0)
    found: list[Term] = []
    seen: set[str] = set()
    for match in _WORD.finditer(question):
        word = match.group()
        initial = _opens_sentence(question, match.start())
        folded = fold(word)
        if folded in STOPWORDS or folded in seen or not _name_like(word, initial):
            continue
        stems = terms(word)
        if not stems or idf(stems[0]) < threshold:
            continue
        is_code = any(ch.isdigit() for ch in word)
        if not is_code and idf(stems[0]) >= unseen:
            continue  # not in the index: a paraphrase as often as a name
        seen.add(folded)
        found.append(Term(word, folded, stems[0]))
    return found


def written_outside_urls(term: Term, texts: Sequence[str]) -> bool:
    """Whether some of ``texts`` writes ``term`` (its stem, as BM25 holds it) outside a web
    address. CamlIDL's manual says "Caml", and "ocaml" only inside a URL: a question saying
    "OCaml" named nothing the manual talks about, yet was held to it (13 answerable questions
    of 20 refused)."""
    return any(term.stem in terms(_URL.sub(" ", text)) for text in texts)


def name_terms(text: str) -> list[Term]:
    """Every name-like word of ``text`` (capitalised inside its sentence, an acronym, a code or
    number of MIN_CODE_CHARS or more), however common in the index; stop words left out."""
    found: list[Term] = []
    seen: set[str] = set()
    for match in _WORD.finditer(text):
        word = match.group()
        folded = fold(word)
        if folded in STOPWORDS or folded in seen:
            continue
        if not _name_like(word, _opens_sentence(text, match.start())):
            continue
        stems = terms(word)
        if stems:
            seen.add(folded)
            found.append(Term(word, folded, stems[0]))
    return found


class Vocabulary(Protocol):
    """What ``unknown_names`` asks of the index's vocabulary (rag.lexical.LexicalIndex)."""

    def holds(self, term: str) -> bool: ...

    def holds_a_form_of(self, term: str, prefix: int, typo: int) -> bool: ...

    def holds_an_ending(self, ending: str) -> bool: ...

    def __len__(self) -> int: ...


def unknown_names(question: str, vocabulary: Vocabulary, limit: int | None = None) -> list[str]:
    """The question's names (a capitalised word inside the sentence, not an acronym, no digit:
    codes are ``distinctive_terms``'s) that no indexed word could be a form of. An acronym may
    stand for words the documents spell out, and the documents may write a name's acronym:
    "European Union" is known where the index holds "EU" (or when the initials are a common
    word, which the index does not keep: "World Health Organization", "WHO"). A question in
    Title Case names nothing by its capitals, and at most ``MAX_NAMES_CHECKED`` words are
    looked up. Stops at ``limit`` names found (one is enough to refuse).

    An identifier written as code ("ctest_upload", "readFileSync") is a name too, looked up
    whole or in the documents' placeholder form (``_known_identifier``); so is, in an index of
    at least 50 chunks, a word general English rarely writes ("YAML", "nextval": the reader's
    vocabulary spells it in pieces), looked up whole (or as the start of an indexed word) or as
    a typo, never by its first letters.

    Only the question's asking sentence is read (``named_part``): what its earlier
    sentences name is the asker's situation ("I copied the wheels onto an air-gapped
    machine."), which the documents need not mention, unless the asking sentence points back
    at it ("Our services run on Kubernetes. How do I deploy it there?")."""
    question = named_part(question)
    if _title_case(question):
        return []
    collection = len(vocabulary) * RARE_SHARE >= 1  # a rare word's absence means something
    found: list[str] = []
    checked = 0
    for run in _CAPITALISED_RUN.finditer(question):
        initials = fold("".join(word[0] for word in run.group().split()))
        if len(initials) > 1 and (initials in STOPWORDS or vocabulary.holds(initials)):
            continue
        for match in _WORD.finditer(run.group()):
            word = match.group()
            at = run.start() + match.start()
            initial = _opens_sentence(question, at)
            if any(ch.isdigit() for ch in word) or word.isupper() or fold(word) in STOPWORDS:
                continue
            stems = terms(word)
            if not stems or not _name_like(word, initial) or word in found:
                continue
            checked += 1
            if checked > MAX_NAMES_CHECKED:
                return found
            if not vocabulary.holds_a_form_of(stems[0], MIN_DERIVED_STEM, MIN_TYPO_CHARS):
                found.append(word)
                if limit is not None and len(found) >= limit:
                    return found
    for match in _WORD.finditer(question):
        word = match.group()
        stems = terms(word)
        identifier = _identifier(word)
        if not stems or fold(word) in {fold(name) for name in found}:
            continue
        # A rare word is looked up (and counted against the limit) only when the index does not
        # hold it as written and general English rarely writes it: most of a question's words
        # are common or the documents' own, and must not use up the look-ups of its names.
        rare = (
            not identifier
            and collection
            and _rare_word(word)
            and not vocabulary.holds(stems[0])
            and word_pieces(fold(word)) > 1
        )
        if not (identifier or rare):
            continue
        checked += 1
        if checked > MAX_NAMES_CHECKED:
            return found
        if identifier:
            known = _known_identifier(word, stems[0], vocabulary)
        else:  # a word it begins counts ("repo": "repository"), never its first letters
            known = vocabulary.holds_a_form_of(stems[0], len(stems[0]), MIN_TYPO_CHARS)
        if not known:
            found.append(word)
            if limit is not None and len(found) >= limit:
                return found
    return found


def _rare_word(word: str) -> bool:
    """Whether ``word`` is looked up as a word general English may not write: letters only, at
    least ``MIN_RARE_CHARS`` of them (a stop word has no stem, and is never looked up)."""
    return word.isalpha() and len(word) >= MIN_RARE_CHARS


def _known_identifier(word: str, stem: str, vocabulary: Vocabulary) -> bool:
    """Whether the index holds identifier ``word`` whole (``stem``, or a word that starts with it,
    or one edit from it), as the end of a longer one ("set_nonce" for a family of functions:
    "umac32_set_nonce", "umac64_set_nonce"), or the documents' placeholder form of it:
    "CMAKE_CXX_FLAGS" where they write "CMAKE_<LANG>_FLAGS" (indexed as "cmake_", "lang",
    "_flags"), "CMAKE_CXX" where "CMAKE_<LANG>". Never by its first letters:
    "output_required_files" is no form of "output"."""
    if vocabulary.holds_a_form_of(stem, len(stem), MIN_TYPO_CHARS):
        return True
    if "_" in stem.strip("_") and vocabulary.holds_an_ending("_" + stem.lstrip("_")):
        return True
    parts = [part for part in word.split("_") if part]
    if len(parts) < 2:
        return False  # lowerCamelCase: no placeholder form
    pieces = ["_" + "_".join(parts[k:]) for k in range(1, len(parts))]
    pieces.append("_".join(parts[:-1]) + "_")
    return any(vocabulary.holds(t) for piece in pieces for t in terms(piece)[:1])


def _identifier(word: str) -> bool:
    """Whether ``word`` is written as code: snake_case (an underscore inside it) or lowerCamelCase
    ("readFileSync"). A capitalised one is a name already."""
    if "_" in word.strip("_"):
        return True
    return word[:1].islower() and any(ch.isupper() for ch in word[1:])


# Title Case is told from a question naming two things ("Does Quillctl support Nomad?") by at
# least this many words that no sentence capitalises anyway.
TITLE_CASE_WORDS = 4


def _title_case(question: str) -> bool:
    """Whether most of the question's words are capitalised, past the words any sentence
    capitalises: "I" and a sentence's first word ("Does Quillctl support Nomad? I use
    Kubernetes now." is no Title Case)."""
    tokens = [
        m.group()
        for m in _WORD.finditer(question)
        if m.group()[:1].isalpha() and m.group() != "I" and not _opens_sentence(question, m.start())
    ]
    return (
        len(tokens) >= TITLE_CASE_WORDS and sum(w[:1].isupper() for w in tokens) > len(tokens) / 2
    )


def asked(question: str, names: Sequence[Term]) -> list[Term]:
    """The names a question asks about: its codes, and its other names where its named part
    writes them (rag/questions.named_part: its asking sentence, or all of it when that sentence
    points back at the rest). A question of
    several sentences sets the scene first ("I'm building Docker images and don't want pip
    to write its cache. What flag should I pass?", "One of my worktrees is on a USB drive.
    How do I ..."): a name there is the asker's situation, which the answer need not name,
    unless the asking sentence points back at it by a pronoun ("Users want to sign in through
    OAuth. How do I let them log in that way?"). A code ("Veloria017", "SHA256") singles out
    what is asked wherever it stands."""
    named = named_part(question)
    if named == question:
        return list(names)
    return [term for term in names if term.is_code or mentions(named, term)]


def mentions(text: str, term: Term) -> bool:
    """Whether ``text`` names ``term``: the same word (a code exactly), or for a name its stem,
    a word derived from it ("Serbian" names "Serbia", "Canadian" "Canada") or the name with a
    number ("SHA256" names "SHA")."""
    found = words(text)
    if term.folded in found:
        return True
    if term.is_code:
        return False
    if term.stem in terms(text) or any(numbered(w, term.folded) for w in found):
        return True
    return len(term.stem) >= MIN_DERIVED_STEM and any(w.startswith(term.stem) for w in found)


def numbered(word: str, name: str) -> bool:
    """Whether ``word`` is ``name`` followed by a number, a version or a variant of it: "sha256"
    and "sha3_256" for "SHA" (asked as "SHA-256"), "python3" for "Python"; not a hexadecimal
    hash that happens to start so ("gb4ccea44db")."""
    return word.startswith(name) and _NUMBERS.fullmatch(word, len(name)) is not None


def _context(chunk: Chunk) -> str:
    """What a sentence is read with: its document's section path (or title) and file name."""
    return " \n ".join([context_title(chunk), chunk.source.replace("_", " ")])


def focus(passages: Sequence[Passage], names: Sequence[Term]) -> list[Passage]:
    """Only the passages that mention every distinctive term, when there are any (else all)."""
    if not names:
        return list(passages)
    kept = [
        p
        for p in passages
        if all(mentions(p.chunk.text + "\n" + _context(p.chunk), t) for t in names)
    ]
    return kept or list(passages)


def _chunk_of(citation: Citation, passages: Sequence[Passage]) -> Chunk | None:
    for passage in passages:
        chunk = passage.chunk
        same = chunk.source == citation.source
        if same and chunk.start <= citation.start and citation.end <= chunk.end:
            return chunk
    return None


def citation_context(citation: Citation, chunk: Chunk | None, wide: bool) -> str:
    """What a citation is read with: its sentence and its document's title, section path and
    file name; ``wide``, the whole section too (a chunk holds one section). A section is about
    one thing and often names it once: "Sets the max memory size..." and, two paragraphs on in
    the same section, "On a machine with 2 GiB of memory, consider ...". A code or number is
    read narrow: a section may name several ("Veloria017 has 3,000 people. The mayor of
    Veloria018 is ...")."""
    if chunk is None:
        return citation.text
    parts = (
        [citation.text, chunk.text, _context(chunk)] if wide else [citation.text, _context(chunk)]
    )
    return "\n".join(parts)


def check(answer: Answer, names: Sequence[Term], passages: Sequence[Passage]) -> Answer:
    """``answer`` if its citations are about the question's distinctive terms, else a refusal
    whose ``closest`` shows what was cited (not an answer). A citation is read with its
    section and its document's context (``citation_context``)."""
    if not names or answer.refused or not answer.citations:
        return answer
    named: list[set[str]] = []
    for citation in sorted(answer.citations, key=lambda c: c.index):
        chunk = _chunk_of(citation, passages)
        near, wide = (
            citation_context(citation, chunk, False),
            citation_context(citation, chunk, True),
        )
        named.append({t.folded for t in names if mentions(near if t.is_code else wide, t)})
    codes = {t.folded for t in names if t.is_code}
    if not named[0] or not codes <= set().union(*named):
        return refuse(answer)
    return answer


def refuse(answer: Answer, unknown: Sequence[str] = ()) -> Answer:
    """The refusal of ``answer``: what it cited is shown as closest, never as an answer.
    ``unknown``: names of the question the documents never mention (``unknown_names``), said
    in the refusal, so that a typo can be mended and a question about another tool is seen
    to be one."""
    closest = list(answer.citations) + list(answer.closest)
    text = REFUSAL_TEXT
    if unknown:
        text = f"{REFUSAL_TEXT[:-1]}: they never mention {', '.join(f'“{n}”' for n in unknown)}."
    return replace(
        answer,
        text=text,
        citations=[],
        refused=True,
        closest=closest[:3],
        unsupported=list(answer.unsupported),
    )
