"""Only supported claims stay in a generated answer.

A checked reply is cut into claims: the words before each run of ``[n]`` markers (back to the
previous marker or sentence end), and every sentence with no marker. A claim stays when one of its
markers is a verified citation; the others leave the answer text (the caller lists them in
``Answer.unsupported``), their citations go, and the markers left are renumbered from 1.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from rag.models import Citation
from rag.text import terms

# "[1]", "[1][2]", "[1] [3]"; the white space before a run is added by _marker_runs (a regex
# that starts with \s* scans a run of spaces again from each of its positions: quadratic).
_MARKER_RUN = re.compile(r"\[\d+\](?:\s*\[\d+\])*")
_MARKER = re.compile(r"\[(\d+)\]")
_BREAK = re.compile(r"((?<=[.!?])\s+|\n+)")
_END_PUNCTUATION = ".!?"


@dataclass
class _Unit:
    text: str
    kept: bool


def keep_supported(text: str, citations: Sequence[Citation]) -> tuple[str, list[Citation]] | None:
    """The text of ``text``'s supported claims and their citations, renumbered; None if no
    claim with words is supported."""
    verified = {c.index for c in citations if c.verified}
    units: list[_Unit] = []
    at = 0
    for run in [*_marker_runs(text), None]:
        segment = text[at : run[0] if run else len(text)]
        markers = text[run[0] : run[1]] if run else ""
        parts = _BREAK.split(segment)  # sentence, separator, sentence, ...
        for i in range(0, len(parts), 2):
            piece = (parts[i - 1] if i else "") + parts[i]
            if markers and i == len(parts) - 1:  # the claim these markers cite
                cited = {int(n) for n in _MARKER.findall(markers)}
                supported = bool(cited & verified)
                if terms(piece) or not units:
                    units.append(_Unit(piece + markers, supported))
                else:  # markers right after a sentence end cite that sentence, as in the checker
                    units[-1].text += piece + markers
                    units[-1].kept = units[-1].kept or supported
            elif terms(piece) or not units:
                units.append(_Unit(piece, False))
            else:  # punctuation or spaces: they end the claim before them
                units[-1].text += piece
        if run is None:
            break
        at = run[1]
    kept = _join([u for u in units if u.text])
    if not terms(_MARKER.sub(" ", kept)):
        return None
    return _renumber(kept, citations)


def _marker_runs(text: str) -> list[tuple[int, int]]:
    """(start, end) of each run of markers, the white space before it included."""
    runs: list[tuple[int, int]] = []
    at = 0
    for found in _MARKER_RUN.finditer(text):
        before = text[at : found.start()]
        runs.append((found.start() - (len(before) - len(before.rstrip())), found.end()))
        at = found.end()
    return runs


def _join(units: list[_Unit]) -> str:
    """The kept units' text; a kept claim whose sentence end was dropped gets it back."""
    out = ""
    for unit in units:
        if unit.kept:
            out += unit.text
            continue
        end = unit.text.rstrip()[-1:]
        if out and end in _END_PUNCTUATION and out.rstrip()[-1:] not in _END_PUNCTUATION:
            out = out.rstrip() + end
    return out.strip()


def _renumber(text: str, citations: Sequence[Citation]) -> tuple[str, list[Citation]]:
    """Number the markers left in order of first appearance; keep only their citations."""
    by_index = {c.index: c for c in citations}
    numbers: dict[int, int] = {}
    for n in (int(m) for m in _MARKER.findall(text)):
        if n in by_index and n not in numbers:
            numbers[n] = len(numbers) + 1
    renumbered = _MARKER.sub(lambda m: f"[{numbers.get(int(m.group(1)), m.group(1))}]", text)
    kept = [replace(by_index[old], index=new) for old, new in numbers.items()]
    return renumbered, kept
