"""The bundled MiniLM, exported to ONNX and run in ONNX Runtime, gives the sentence-transformers
vectors: the stored history and catalog vectors stay valid, whatever computed them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from profiles import embeddings
from profiles.embeddings import DIM, embed_texts

WINE = "order me a bottle of red wine"
FLIGHT = "Book a flight to Lisbon next Friday, asap!"
# sentence-transformers 6.3 (SentenceTransformer(...).encode(normalize_embeddings=True)) on
# the same weights: the first six dimensions and the cosine of the two texts
REFERENCE = {WINE: [-0.03120, 0.01353, -0.00917, 0.06007, -0.02919, 0.01323],
             FLIGHT: [0.07537, 0.00699, 0.02637, 0.04462, -0.04086, 0.00199]}
REFERENCE_COSINE = 0.200378


def test_vectors_match_the_sentence_transformers_reference() -> None:
    vectors = embed_texts([WINE, FLIGHT])
    assert vectors.shape == (2, DIM) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    for vector, text in zip(vectors, (WINE, FLIGHT), strict=True):
        assert np.allclose(vector[:6], REFERENCE[text], atol=1e-4)
    assert abs(float(vectors[0] @ vectors[1]) - REFERENCE_COSINE) < 1e-4


def test_a_text_gets_the_same_vector_alone_or_in_a_padded_batch() -> None:
    long_text = "word " * 400  # past the 256-token limit: cut, not an error
    batch = embed_texts([WINE, long_text, FLIGHT, "Ça va? 日本語"])
    assert np.allclose(batch[0], embed_texts([WINE])[0], atol=1e-5)
    assert np.allclose(batch[2], embed_texts([FLIGHT])[0], atol=1e-5)
    assert np.isfinite(batch).all()


def test_no_texts_give_an_empty_matrix() -> None:
    assert embed_texts([]).shape == (0, DIM)


@pytest.fixture
def fresh_model(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """A process that has not loaded the model yet, with its export cache under ``tmp_path``."""
    monkeypatch.setenv(embeddings.CACHE_ENV, str(tmp_path / "cache"))
    embeddings._load_model.cache_clear()
    yield tmp_path
    embeddings._load_model.cache_clear()  # the next test loads the shared export again


def test_a_damaged_export_is_replaced_and_the_vectors_are_right(fresh_model: Path) -> None:
    path = embeddings.onnx_path()
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not an onnx model")  # e.g. a copy cut short
    vectors = embed_texts([WINE])
    assert np.allclose(vectors[0][:6], REFERENCE[WINE], atol=1e-4)
    assert path.stat().st_size > 1_000_000
    assert not list(path.parent.glob("*.part"))  # no temporary file left behind


def test_an_unwritable_cache_names_the_setting_to_change(
    fresh_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = fresh_model / "a-file"
    blocker.write_text("")
    monkeypatch.setenv(embeddings.CACHE_ENV, str(blocker))  # a directory cannot go there
    with pytest.raises(embeddings.EmbeddingModelMissing, match=embeddings.CACHE_ENV):
        embed_texts([WINE])
