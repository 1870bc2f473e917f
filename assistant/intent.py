"""Which API a request asks for, on each candidate platform: a trained scorer, not a guess.

Why: with the platform fixed, the language model still picked the wrong API on about half of the
frozen benchmark's samples (search for "who delivers poke bowl", ``createTask`` for "start a new
spreadsheet"), and raw embedding similarity gets the right API first only half of the time: a
request's sentence embedding is dominated by the item ("poke bowl"), while the intent is in a
few words ("who delivers", "pick up", "status of").

The scorer is a logistic layer over (request, API) pairs with three kinds of features, each
readable on catalogs it was never trained on:

* hashed crosses of the request's words and word pairs with the API's name and description
  words (``who delivers`` x ``search``), platform names removed from both sides;
* word overlap between the request and the API's name and description (shared stems);
* the two texts' sentence embeddings (cosine and element-wise product).

It is trained by ``train/intent.py`` on synthesized requests (``ptool train intent``) and shipped
as ``assistant/data/intent.npz``. The runtime ranks candidate APIs by it (``retrieval``) and,
when the top API of a platform clears the dev-chosen threshold, the answer grammar offers only
that API (``nodes.decide``): the model then chooses only the values, not the function.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

from assistant.weights import WeightsFile, dense_vector, sparse_vector
from toolcatalog.retrieval import Embedder, api_text

MODEL_FILE = "intent.npz"
HASH_DIM = 2**18
"""Buckets of the hashed word crosses (collisions are rare at this size and the file small)."""
STOPWORDS = frozenset({
    "a", "an", "the", "to", "of", "for", "in", "on", "at", "by", "with", "from", "and", "or",
    "my", "me", "i", "you", "your", "we", "our", "it", "its", "is", "are", "be", "this", "that",
    "these", "those", "some", "any", "please", "pls", "plz", "thx", "ty", "thanks", "hi", "hey",
    "hello", "yo", "ok", "okay", "so", "can", "could", "would", "will", "just", "quick", "one",
    "need", "want", "wanna", "get", "let", "lets", "do", "does"
})
"""Words that say nothing about which API is meant (politeness, articles, pronouns)."""
OVERLAP_FEATURES = ("name_overlap", "description_overlap", "cosine")
VAGUE_BELOW = 0.05
"""A top probability below this means no API is clearly meant ("help me with banking, payments
and bills" scores 0.00): chat asks what to do instead of calling something that changes state.
Set by hand from such requests, not tuned (a quarter of the hand-written phrasings score below
0.15, so a higher cut would ask too often)."""


class IntentModelMissing(RuntimeError):
    """The intent scorer's weights are missing or unreadable; the message says what to do."""


def words(text: str) -> list[str]:
    """Lower-case words, camelCase and snake_case split (``placeOrder`` -> place, order)."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", text)
    return re.findall(r"[a-z]+", spaced.lower())


def _platform_words(platforms: Sequence[str]) -> set[str]:
    return {w for p in platforms for w in [*words(p), p.lower()]}


def request_terms(request: str, platforms: Sequence[str]) -> list[str]:
    """The request's content words and adjacent word pairs, platform names left out."""
    drop = STOPWORDS | _platform_words(platforms)
    kept = [w for w in words(request) if w not in drop]
    return kept + [f"{a}_{b}" for a, b in pairwise(kept)]


def api_terms(name: str, description: str, platforms: Sequence[str]) -> tuple[list[str], list[str]]:
    """An API's name words and description words (each deduplicated, platform names left out)."""
    drop = STOPWORDS | _platform_words(platforms)
    name_words = list(dict.fromkeys(w for w in words(name) if w not in drop))
    desc_words = list(dict.fromkeys(w for w in words(description) if w not in drop))
    return name_words, desc_words


def _stem(word: str) -> str:
    return word[:5]


def _overlap(request_words: Sequence[str], api_words: Sequence[str]) -> float:
    """Share of the API's words whose stem is in the request (0 when the API has none)."""
    if not api_words:
        return 0.0
    stems = {_stem(w) for w in request_words if "_" not in w}
    return sum(1 for w in api_words if _stem(w) in stems) / len(api_words)


def _hashes(items: Sequence[str]) -> np.ndarray:
    return np.array([zlib.crc32(i.encode()) for i in items], dtype=np.uint64)


def cross_buckets(terms: Sequence[str], api_words: Sequence[str]) -> np.ndarray:
    """Hash buckets of every (request term, API word) cross: CRC-32 of each side (stable across
    processes), combined arithmetically so a turn hashes each word once."""
    if not terms or not api_words:
        return np.zeros(0, dtype=np.int64)
    mixed = _hashes(terms)[:, None] * np.uint64(2654435761) + _hashes(api_words)[None, :]
    return (mixed.ravel() % np.uint64(HASH_DIM)).astype(np.int64)


@dataclass(frozen=True)
class PairFeatures:
    """One (request, API) pair: sparse cross buckets, overlap features, embedding product."""

    buckets: np.ndarray  # (n,) int64
    overlap: np.ndarray  # (len(OVERLAP_FEATURES),)
    product: np.ndarray  # (dim,)


def tool_name_and_description(tool: Mapping[str, Any]) -> tuple[str, str]:
    function = tool.get("function", tool)
    return str(function.get("name", "")), str(function.get("description", ""))


def pair_features(request: str, tools: Sequence[Mapping[str, Any]], platforms: Sequence[str],
                  embed: Embedder, embed_apis: Embedder | None = None) -> list[PairFeatures]:
    """Features of the request paired with each tool. ``embed_apis`` (default ``embed``)
    embeds the API texts, so a chat process can read them from a persistent cache while the
    request never goes into one."""
    described = [tool_name_and_description(t) for t in tools]
    texts = [api_text(n, d) for n, d in described]
    if embed_apis is None:  # one batch for the request and the APIs
        vectors = embed([request, *texts])
        query, apis = vectors[0], vectors[1:]
    else:
        query, apis = embed([request])[0], embed_apis(texts)
    terms = request_terms(request, platforms)
    out: list[PairFeatures] = []
    for (name, description), vector in zip(described, apis, strict=True):
        name_words, desc_words = api_terms(name, description, platforms)
        overlap = np.array([_overlap(terms, name_words), _overlap(terms, desc_words),
                            float(vector @ query)])
        out.append(PairFeatures(buckets=cross_buckets(terms, [*name_words, *desc_words]),
                                overlap=overlap, product=vector * query))
    return out


_FILE = WeightsFile(model="intent scorer", command="ptool train intent",
                    missing=IntentModelMissing, features={"overlap_features": OVERLAP_FEATURES})


@dataclass(frozen=True)
class IntentWeights:
    """The trained scorer. ``threshold``: the top probability above which the grammar offers
    only that API (chosen on dev users for precision)."""

    cross: np.ndarray  # (HASH_DIM,) float32
    overlap: np.ndarray  # (len(OVERLAP_FEATURES),)
    product: np.ndarray  # (dim,)
    bias: float
    threshold: float

    def save(self, path: Path) -> None:
        index, value = sparse_vector(self.cross)  # the hashed cross features are mostly zero
        _FILE.write(path, {"cross_index": index, "cross_value": value,
                           "overlap": self.overlap, "product": self.product,
                           "bias": np.array([self.bias]),
                           "threshold": np.array([self.threshold])}, compressed=True)

    @classmethod
    def load(cls, path: Path) -> IntentWeights:
        with _FILE.read(path) as data:
            cross = dense_vector(data["cross_index"], data["cross_value"], HASH_DIM)
            return cls(cross=cross, overlap=data["overlap"], product=data["product"],
                       bias=float(data["bias"][0]), threshold=float(data["threshold"][0]))

    def probability(self, pair: PairFeatures) -> float:
        logit = (float(self.cross[pair.buckets].sum()) + float(self.overlap @ pair.overlap)
                 + float(self.product @ pair.product) + self.bias)
        return float(1.0 / (1.0 + np.exp(-logit)))


def shipped_intent_path() -> Path:
    return Path(__file__).parent / "data" / MODEL_FILE


@cache
def shipped_intent() -> IntentWeights:
    """The shipped weights, read once per process on first use."""
    return IntentWeights.load(shipped_intent_path())


def score_tools(request: str, tools: Sequence[Mapping[str, Any]], platforms: Sequence[str],
                embed: Embedder, weights: IntentWeights | None = None,
                embed_apis: Embedder | None = None) -> list[float]:
    """The probability that each tool is the one the request asks for."""
    if not tools:
        return []
    weights = weights or shipped_intent()
    return [weights.probability(p)
            for p in pair_features(request, tools, platforms, embed, embed_apis)]


def selected(scored: Sequence[tuple[str, float]], threshold: float) -> list[str]:
    """The APIs of one platform the grammar should offer: those at or above the threshold
    (usually one), or every candidate when none is confident (the model then chooses)."""
    sure = [name for name, p in scored if p >= threshold]
    return sure or [name for name, _ in scored]
