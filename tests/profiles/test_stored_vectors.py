"""``StoredVectors``: catalog vectors are embedded once per workspace, read from Chroma once per
process, and a broken collection costs the cache, not the vectors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from profiles.embeddings import StoredVectors


class _Collection:
    """The two Chroma calls ``StoredVectors`` makes, counted."""

    def __init__(self) -> None:
        self.rows: dict[str, list[float]] = {}
        self.gets = 0

    def get(self, ids: list[str], include: list[str]) -> dict[str, Any]:
        self.gets += 1
        found = [i for i in ids if i in self.rows]
        return {"ids": found, "embeddings": [self.rows[i] for i in found]}

    def upsert(self, ids: list[str], embeddings: list[list[float]]) -> None:
        self.rows.update(zip(ids, embeddings, strict=True))


def _embed(texts: list[str]) -> np.ndarray:
    return np.array([[float(len(t)), 1.0] for t in texts], dtype=np.float32)


def test_a_process_reads_each_vector_from_chroma_once() -> None:
    collection = _Collection()
    stored = StoredVectors(_embed, lambda: collection)
    first = stored(["order food", "book a flight"])
    assert stored.embedded == 2 and collection.gets == 1
    again = stored(["book a flight", "order food"])
    assert collection.gets == 1 and stored.embedded == 2  # served from memory
    assert np.array_equal(again, first[::-1])

    other_process = StoredVectors(_embed, lambda: collection)
    assert np.array_equal(other_process(["order food"]), first[:1])
    assert other_process.embedded == 0 and collection.gets == 2


def test_a_broken_collection_still_gives_vectors() -> None:
    def broken() -> Any:
        raise OSError("index damaged")

    stored = StoredVectors(_embed, broken)
    assert stored(["order food"]).shape == (1, 2)
    assert stored.embedded == 1
    assert stored(["order food"]).shape == (1, 2) and stored.embedded == 1


@pytest.mark.parametrize("texts", [["a"], ["a", "a", "b"]])
def test_duplicates_are_embedded_once(texts: list[str]) -> None:
    stored = StoredVectors(_embed, _Collection)
    assert stored(texts).shape == (len(texts), 2)
    assert stored.embedded == len(set(texts))
