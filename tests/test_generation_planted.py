"""rag/generation.py at its edges: a key of exactly ``WHOLE_KEY_CHARS`` characters is masked
wherever it appears, a four-letter name's derived word ("Iraq" -> "Iraqi") is the passage's own,
and a four-digit number after a year is not read as a digit group of it.

Tests written for deliberate bugs a review planted in rag/generation.py that the suite let
through:

- ``_redact`` with ``len(key) > WHOLE_KEY_CHARS`` for ``>=``: an eight-character key was masked
  only where it stood alone, and showed inside a word of an error message;
- ``claim_names_missing`` with ``len(word) > MIN_DERIVED_STEM`` for ``>=``: "Iraqi" was taken
  for a name its passage ("Iraq") never writes, and the claim was unsupported;
- ``_DIGIT_GROUP`` without its ``(?!\\d)``: "1998 2000" was read as one number "19982000", and
  a claim of "2000 workers" was taken for a number its passage never writes;
- ``api_key`` with ``" " <= ch`` for ``" " < ch``: a key pasted with a space in it was sent
  (the server then refused it) instead of being said to hold a space;
- ``_error_message`` with ``300 < status`` for ``300 <= status``: a 300 reply was said to be
  a failed request, not a redirect that is not followed;
- ``claim_names_missing`` without ``term.folded.startswith(word)``: any passage word with a
  derived ending's length to spare "derived" a claim's name ("Paris" from "cups"), so a name
  the passage never writes counted as its own;
- ``model_reply`` showing 120 characters of a reply that is not a completion for 160 (every
  such reply in the suite was shorter than both).
"""

from __future__ import annotations

from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from rag.config import Settings
from rag.entities import MIN_DERIVED_STEM
from rag.errors import LLMError
from rag.generation import (
    WHOLE_KEY_CHARS,
    _error_message,
    api_key,
    claim_names_missing,
    condense_question,
    server_url,
)
from tests.local_http import serving


def url_error(key: str, url: str) -> str:
    with pytest.raises(LLMError) as raised:
        server_url(Settings(openai_base_url=url, openai_api_key=key))
    return str(raised.value)


def test_a_key_of_whole_key_chars_is_masked_inside_a_word() -> None:
    assert WHOLE_KEY_CHARS == 8
    message = url_error("k1234567", "no-scheme/k1234567z/v1")
    assert "k1234567" not in message
    assert "'no-scheme/***z/v1'" in message
    # One character shorter, it is masked only where it stands alone.
    assert "'no-scheme/k123456z/v1'" in url_error("k123456", "no-scheme/k123456z/v1")


def test_a_four_letter_name_derives_a_word() -> None:
    assert MIN_DERIVED_STEM == 4
    assert claim_names_missing("The Iraqi team won the cup [1].", "Iraq won the cup.") == []
    # A three-letter word derives none: "Ira" does not name "Iran".
    assert claim_names_missing("The team of Iran won [1].", "Ira won the cup.") == ["Iran"]


def test_a_four_digit_number_after_a_year_is_its_own() -> None:
    passage = "In 1998 2000 workers struck at the mill."
    assert claim_names_missing("Then 2000 workers struck [1].", passage) == []
    assert claim_names_missing("Then 12,500 workers struck [1].", "It had 12500 workers.") == []


def test_a_key_with_a_space_is_said_to_hold_one() -> None:
    with pytest.raises(LLMError) as raised:
        api_key(Settings(openai_api_key="sk-abc def"))
    assert str(raised.value).startswith(
        "OPENAI_API_KEY holds a character an HTTP header cannot carry (character 7 of 10: a space"
    )
    assert api_key(Settings(openai_api_key="sk-abc~def!")) == "sk-abc~def!"


def test_a_300_reply_is_a_redirect_that_is_not_followed() -> None:
    import httpx
    import openai

    settings = Settings(llm="openai", model="m", openai_base_url="http://llm.example.test/v1")
    request = httpx.Request("POST", "http://llm.example.test/v1/chat/completions")
    for status in (300, 399):
        location = "https://other.example.test/v1/chat/completions"
        response = httpx.Response(status, headers={"location": location}, request=request)
        error = openai.APIStatusError("moved", response=response, body=None)
        message = _error_message(error, settings)
        assert f"redirected the request ({status}) to {location!r}" in message
        assert message.endswith(
            "set OPENAI_BASE_URL=https://other.example.test/v1 if you trust it."
        )


def test_a_name_is_derived_only_from_a_word_it_starts_with() -> None:
    passage = "The cups were full of tea."
    assert claim_names_missing("It happened in Paris [1].", passage) == ["Paris"]
    assert claim_names_missing("The Serbian team won [1].", "Serbia won.") == []


REPLY = "<html>" + "x" * 300 + "</html>"


@pytest.fixture
def garbage_server() -> Iterator[str]:
    """A server that answers every request with 313 characters that are no completion."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length") or 0))
            data = REPLY.encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    with serving(Handler) as url:
        yield f"{url}/v1"


def test_a_reply_that_is_no_completion_is_shown_up_to_160_characters(garbage_server: str) -> None:
    settings = Settings(llm="openai", model="m", openai_base_url=garbage_server)
    with pytest.raises(LLMError) as raised:
        condense_question("and when?", [("When did it open?", "In 1932 [1].")], settings)
    assert f"it sent: {REPLY[:160] + '…'!r})" in str(raised.value)
