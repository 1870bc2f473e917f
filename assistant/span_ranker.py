"""Which span of the request a text parameter takes: a trained ranker over the span's shape.

Why: with text parameters limited to the request's spans (``assistant.grounding``), the value
is always an exact copy, but the language model still picks a shorter span than the answer's
("contract negotiation" for "contract negotiation with Vandelay"): the grammar lets it close
the string after any prefix that is a span. A 135M model stops early.

The ranker reads what a span looks like where it sits, not what it says: each word of the span
and its neighbours becomes a class -- a function word as itself ("to", "with", "for"), else a
shape (a number, a date or time word, a record id, a capitalised word, a word of the API's or the
parameter's own name, any other word) -- and the features are those classes by position (first,
last, inside, before, after), the span's length, where its clause is and whether the request
quotes it. So "two chicken pot
pie to my flat" says: a number first, "to" inside, "my" inside: not a dish; "chicken pot pie"
between a number and "to" is. Crossed with the parameter's name words the features can learn
that a ``reason`` is a clause and a ``dish`` a noun phrase; on a parameter name it never saw,
the uncrossed features still rank.

A logistic layer scores every (parameter, span) pair; a parameter's spans are normalised with a
softmax. :func:`offered_spans` keeps the top span alone when its probability clears the
dev-chosen threshold, else the top few, so the grammar's choice is narrow where the ranker is
sure and the model still chooses where it is not. Trained by ``train/spans.py``
(``ptool train spans``) on synthesized requests, shipped as ``assistant/data/spans.npz``.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from assistant.intent import words
from assistant.request_values import NUMBER_WORDS, RECORD_ID, Span
from assistant.weights import WeightsFile, dense_vector, sparse_vector

MODEL_FILE = "spans.npz"
HASH_DIM = 2**16
"""Buckets of the hashed features (a few thousand distinct ones are used)."""
FEATURE_SET = ("shape-v2",)
"""Names the feature code; a weights file trained on another set is refused."""
FUNCTION_WORDS = frozenset({
    "a", "an", "the", "this", "that", "these", "those", "some", "any", "each", "every", "all",
    "to", "of", "for", "in", "on", "at", "by", "with", "from", "about", "into", "onto", "over",
    "under", "near", "around", "before", "after", "until", "till", "through", "via", "between",
    "without", "within", "per", "as", "like", "than", "and", "or", "but", "nor", "so", "if",
    "because", "while", "when", "where", "who", "what", "which", "whose", "how", "why",
    "i", "me", "my", "mine", "you", "your", "we", "us", "our", "he", "him", "his", "she", "her",
    "it", "its", "they", "them", "their", "is", "are", "was", "were", "be", "been", "am", "do",
    "does", "did", "have", "has", "had", "can", "could", "would", "will", "shall", "should",
    "may", "might", "must", "not", "no", "please", "pls", "plz", "thanks", "thx", "ty", "hi",
    "hey", "hello", "yo", "ok", "okay", "just", "also", "too", "very", "really", "again",
    "called", "named", "titled", "regarding", "re", "there", "here", "get", "want", "need",
    "let", "lets",
})
"""Closed-class words the features name as themselves: English grammar, not a domain's
vocabulary (every other word is only a shape)."""
TIME_WORDS = frozenset({
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "mon", "tue",
    "wed", "thu", "fri", "sat", "sun", "january", "february", "march", "april", "june", "july",
    "august", "september", "october", "november", "december", "jan", "feb", "mar", "apr",
    "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "next", "last", "noon",
    "midnight", "morning", "afternoon", "evening", "night", "weekend", "week", "month", "year",
    "asap", "later", "soon", "sometime", "pm", "o'clock", "now", "today", "tomorrow",
    "tonight", "yesterday",
})
"""Words of dates and times, one class: a value rarely runs into "next Friday"."""
TIME = re.compile(r"^\d{1,2}(:\d{2})?(am|pm)?$|^(am|pm)$", re.IGNORECASE)
NUMBER = re.compile(r"^\d+([.,]\d+)?$")


class SpanModelMissing(RuntimeError):
    """The span ranker's weights are missing or unreadable; the message says what to do."""


def word_class(word: str, *, api_words: frozenset[str], param_words: frozenset[str],
               clause_first: bool) -> str:
    """The class a feature sees for one word (see the module docstring)."""
    low = word.lower()
    if low in FUNCTION_WORDS:
        return low
    if low in TIME_WORDS:
        return "<time>"
    if low in NUMBER_WORDS or NUMBER.match(low):
        return "<num>"
    if TIME.match(low):
        return "<time>"
    if RECORD_ID.fullmatch(word):
        return "<id>"
    stems = {w[:5] for w in words(word)}
    if stems and stems <= {w[:5] for w in param_words}:
        return "<param>"
    if stems and stems <= {w[:5] for w in api_words}:
        return "<api>"
    if word[:1].isupper() and not clause_first:
        return "<Cap>"
    return "<w>"


def span_features(span: Span, *, api_words: frozenset[str],
                  param_words: frozenset[str]) -> list[str]:
    """The named features of one span for one parameter."""
    tokens = span.clause

    def cls(k: int) -> str:
        if k < 0:
            return "^"
        if k >= len(tokens):
            return "$"
        return word_class(tokens[k], api_words=api_words, param_words=param_words,
                          clause_first=k == 0)

    n = span.end - span.start
    inner = [cls(k) for k in range(span.start + 1, span.end - 1)]
    base = [
        f"len={min(n, 6)}", f"first={cls(span.start)}", f"last={cls(span.end - 1)}",
        f"prev={cls(span.start - 1)}", f"prev2={cls(span.start - 2)}", f"next={cls(span.end)}",
        f"prev|first={cls(span.start - 1)}|{cls(span.start)}",
        f"last|next={cls(span.end - 1)}|{cls(span.end)}",
        f"clause={min(span.clause_index, 3)}", f"quoted={span.quoted}",
        *{f"in={c}" for c in inner},
    ]
    crossed = [f"{p}|{f}" for p in sorted(param_words) for f in base]
    return ["bias", *base, *crossed]


def span_buckets(span: Span, *, api_words: frozenset[str],
                 param_words: frozenset[str]) -> np.ndarray:
    """The distinct hash buckets of one span's features: the row the layer is trained on and
    scores (a bucket two features share counts once, as in training)."""
    return np.unique(feature_buckets(span_features(span, api_words=api_words,
                                                   param_words=param_words)))


def _bucket(feature: str) -> int:
    return zlib.crc32(feature.encode()) % HASH_DIM


def feature_buckets(features: Sequence[str]) -> np.ndarray:
    """Hash buckets of named features (CRC-32: stable across processes)."""
    return np.array([_bucket(f) for f in features], dtype=np.int64)


@dataclass(frozen=True)
class SpanWeights:
    """The trained ranker. ``threshold``: the top probability above which only the top span is
    offered; ``top_k``: how many spans are offered otherwise (both chosen on dev requests)."""

    coef: np.ndarray  # (HASH_DIM,) float32
    threshold: float
    top_k: int

    def save(self, path: Path) -> None:
        index, value = sparse_vector(self.coef)
        _FILE.write(path, {"index": index, "value": value,
                           "threshold": np.array([self.threshold]),
                           "top_k": np.array([self.top_k])}, compressed=True)

    @classmethod
    def load(cls, path: Path) -> SpanWeights:
        with _FILE.read(path) as data:
            coef = dense_vector(data["index"], data["value"], HASH_DIM)
            return cls(coef=coef, threshold=float(data["threshold"][0]),
                       top_k=int(data["top_k"][0]))


_FILE = WeightsFile(model="span ranker", command="ptool train spans",
                    missing=SpanModelMissing, features={"feature_set": FEATURE_SET})


def shipped_spans_path() -> Path:
    return Path(__file__).parent / "data" / MODEL_FILE


@cache
def shipped_spans() -> SpanWeights:
    """The shipped weights, read once per process on first use."""
    return SpanWeights.load(shipped_spans_path())


def name_words(text: str) -> frozenset[str]:
    """A name's or description's words (camelCase and snake_case split), filler left out."""
    return frozenset(w for w in words(text) if w not in FUNCTION_WORDS)


def span_probabilities(spans: Sequence[Span], *, param: str, api: str,
                       weights: SpanWeights) -> np.ndarray:
    """The probability that each span is the parameter's value (softmax over the spans).
    ``param``: the parameter's name and description; ``api``: the API's name and
    description."""
    if not spans:
        return np.zeros(0)
    api_words, param_words = name_words(api), name_words(param)
    logits = np.array([float(weights.coef[span_buckets(
        s, api_words=api_words, param_words=param_words)].sum()) for s in spans])
    exp = np.exp(logits - logits.max())
    return exp / exp.sum()


def offered_spans(spans: Sequence[Span], *, param: str, api: str,
                  weights: SpanWeights) -> list[Span]:
    """The spans the grammar offers, best first: the top one alone when the ranker is sure,
    else the top :attr:`SpanWeights.top_k`; each with its singular variant. The ranker chooses
    where a value starts and ends; singular or plural ("sushi sets", "sushi set") is left to
    the model, since answers name either."""
    words_spans = [s for s in spans if not s.singular]
    probs = span_probabilities(words_spans, param=param, api=api, weights=weights)
    order = np.argsort(-probs, kind="stable")
    keep = 1 if len(order) and probs[order[0]] >= weights.threshold else weights.top_k
    singular = {s.where: s for s in spans if s.singular}
    out: list[Span] = []
    for i in order[:keep]:
        out.append(words_spans[i])
        if (one := singular.get(words_spans[i].where)) is not None:
            out.append(one)
    return out
