"""Deterministic, independent random streams.

Every stage draws from ``rng_for(seed, stage, key...)`` rather than one shared generator, so
adding a user or a scenario never shifts the random numbers of another one, and Python's salted
``hash()`` is never involved (byte-identical output across processes).
"""

from __future__ import annotations

import hashlib
import json
import random


def rng_for(seed: int, *parts: object) -> random.Random:
    """A generator seeded by ``seed`` and the stream's name parts."""
    blob = json.dumps([seed, *parts], default=str).encode()
    return random.Random(int.from_bytes(hashlib.sha256(blob).digest()[:8], "big"))


def stable_id(*parts: object, length: int = 5) -> str:
    """A short decimal id derived from the parts (record ids planted in histories)."""
    blob = json.dumps(parts, default=str).encode()
    return str(int.from_bytes(hashlib.sha256(blob).digest()[:6], "big") % 10**length).zfill(length)
