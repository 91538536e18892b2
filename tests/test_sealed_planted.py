"""The sealed browser state (ui/sealed.py): every seal takes a fresh nonce.

Tests written for deliberate bugs a review planted in ui/sealed.py that the suite let through:

- ``seal`` with a fixed nonce (``bytes(NONCE_BYTES)``): every conversation sealed under the
  server's one key with the same AES-GCM nonce, which gives away the XOR of any two sealed
  conversations and lets anyone who holds two forge copies; the round-trip tests still passed.
"""

from __future__ import annotations

import base64

from ui.sealed import KEY_BYTES, NONCE_BYTES, Sealer


def test_each_seal_takes_a_fresh_nonce() -> None:
    sealer = Sealer(bytes(range(KEY_BYTES)))
    data = {"turns": [["Who commands Moonbase Tranquility?", "Commander Ilse Varga."]]}
    sealed = [base64.urlsafe_b64decode(sealer.seal(data, "rita")) for _ in range(8)]
    assert len({raw[:NONCE_BYTES] for raw in sealed}) == 8  # never the same nonce twice
    assert len({raw[NONCE_BYTES:] for raw in sealed}) == 8  # so never the same ciphertext
    assert all(
        sealer.open(base64.urlsafe_b64encode(raw).decode(), "rita") == data for raw in sealed
    )
