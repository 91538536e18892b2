"""ui/render.py at its edges: a marker of two digits is linked, and one unverified citation of
several is enough for the answer's note.

Tests written for deliberate bugs a review planted in ui/render.py that the suite let through:

- ``MARKER`` reading one digit (``\\[(\\d)\\]``): "[12]" of a generated answer stayed text, with
  no link to its source entry;
- ``answer_message`` with ``all(not c.verified ...)`` for ``any``: an answer citing one verified
  and one unverified passage had no "(some citations could not be verified)" note (every test
  answer had a single citation).
"""

from __future__ import annotations

from rag import Answer, Citation
from ui import render

NOTE = '<span class="unverified-note">(some citations could not be verified)</span>'


def cite(index: int, verified: bool = True) -> Citation:
    return Citation(index, "notes.txt", "Words.", 0, 6, 0.9, verified=verified)


def test_a_two_digit_marker_is_linked() -> None:
    html = render.link_markers("First [9]. Twelfth [12].", [cite(9), cite(12)], 3)
    assert html.count('<a class="cite"') == 2
    assert (
        '<a class="cite" href="#src-3-12" data-turn="3" data-cite="12" title="notes.txt">[12]</a>'
        in html
    )
    assert "[1]2" not in html and html.endswith("</a>.")


def test_one_unverified_citation_of_several_is_noted() -> None:
    mixed = Answer("Q?", "One [1]. Two [2].", [cite(1), cite(2, verified=False)])
    assert NOTE in render.answer_message(mixed, 1)
    verified = Answer("Q?", "One [1]. Two [2].", [cite(1), cite(2)])
    assert NOTE not in render.answer_message(verified, 1)
