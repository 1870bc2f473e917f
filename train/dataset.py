"""Training examples: synth records rendered exactly as the runtime prompts the model.

Why this module re-uses the runtime instead of formatting text itself: an adapter is only as
good as the match between what it saw in training and what it sees when serving. So a prompt is
built by the very functions the graph's benchmark mode runs (``assistant.benchmark.
sample_to_inline`` -> ``assistant.retrieval.inline_candidates`` / ``rank_events`` ->
``assistant.prompts.render_messages``, as in ``nodes.retrieve_tools`` / ``retrieve_history`` /
``decide``), including the retrieved history evidence and the candidate APIs, and the answer is
the paper's ``platform:[func(param=value)]`` text (``ptbench.records.Gold.text``).

Token ids are built the way the embedded server builds them (``train/serving/prepare.py``: chat
template with ``add_generation_prompt=True`` rendered to text, then tokenized without special
tokens), and the answer's tokens are appended after them, so the prompt tokens of a training
example are byte-for-byte the tokens the server feeds at inference. The loss mask marks only the
answer (and the end-of-turn token that teaches the model to stop).

Variety for generalization (the adapter must work on profiles, field names, tool
sets and phrasings written by others): profile fields renamed to synonyms, platform and tool
order shuffled, retrieval depth varied, and the request wrapped in neutral paraphrases that keep
every slot value verbatim. Only the training records are used; the frozen benchmark under
``eval/data/`` is never read here.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from assistant.answer_grammar import in_schema_order
from assistant.benchmark import sample_to_inline
from assistant.context import DEFAULT_PREFERENCE, PreferenceMode
from assistant.preference import platform_preference, shipped_weights
from assistant.prompts import ChatMessage, render_messages
from assistant.sources import SampleSource
from assistant.state import Candidate
from ptbench.answers import Call
from ptbench.records import TrainingRecord
from toolcatalog.models import Catalog
from toolcatalog.retrieval import Embedder
from train.presets import RenderSettings

FIELD_SYNONYMS: dict[str, tuple[str, ...]] = {
    "name": ("full_name", "Name", "user name"),
    "gender": ("sex", "Gender"),
    "age": ("Age", "age_years"),
    "occupation": ("job", "profession", "Occupation"),
    "email": ("e-mail", "email_address", "Email"),
    "phone": ("phone_number", "mobile", "telephone"),
    "home_address": ("home address", "address", "residence", "homeAddress"),
    "work_address": ("office address", "workplace", "work address", "officeAddress"),
    "city": ("City", "home city", "location"),
    "language": ("preferred_language", "lang", "Language"),
    "payment_method": ("payment", "preferred payment", "paymentMethod"),
    "passport_number": ("passport", "passport no.", "passportNumber"),
}
"""Names other datasets use for the same basic features (renamed in a share of examples)."""

QUERY_PREFIXES = ("", "", "", "Hi! ", "Hey, ", "Please help: ", "Quick one: ", "Hello. ")
QUERY_SUFFIXES = ("", "", "", " Thanks!", " Thank you.", " Please.", " Cheers.")


@dataclass(frozen=True)
class Example:
    """One rendered training example: prompt messages and the answer text."""

    id: str
    prompt: list[ChatMessage]
    answer: str


@dataclass(frozen=True)
class Encoded:
    """Token ids plus the mask of the tokens that carry the loss (the answer)."""

    input_ids: list[int]
    completion_mask: list[int]


def _norm_api(name: str) -> str:
    """``MegaMart_placeOrder`` and ``LuxeLane_place_order`` -> ``placeorder``."""
    return re.sub(r"[^a-z0-9]", "", name.split("_", 1)[-1].lower())


def _with_gold_apis(
    candidates: list[Candidate], tools: Sequence[dict[str, Any]], platforms: Sequence[str],
    gold: Iterable[str],
) -> list[Candidate]:
    """Make sure the gold APIs are callable, symmetrically.

    When retrieval missed a gold API, the same function is added on *every* platform that has
    it, so the number of APIs per platform never hints at the answer."""
    from assistant.retrieval import tool_owner

    present = {c["tool"]["function"]["name"] for c in candidates}
    wanted = {_norm_api(g) for g in gold if g not in present}
    if not wanted:
        return candidates
    order = {t["function"]["name"]: i for i, t in enumerate(tools)}
    extra: list[Candidate] = [
        {"platform": tool_owner(t, platforms), "tool": dict(t), "effect": "read", "record": None,
         "intent": 0.0}
        for t in tools
        if _norm_api(t["function"]["name"]) in wanted and t["function"]["name"] not in present
    ]
    return sorted([*candidates, *extra], key=lambda c: order[c["tool"]["function"]["name"]])


def runtime_prompt(
    record: TrainingRecord, *, embed: Embedder | None, history_k: int | None,
    tools_per_platform: int | None, preference: PreferenceMode = DEFAULT_PREFERENCE,
) -> list[ChatMessage]:
    """The messages the graph's ``decide`` node sends for this record in benchmark mode when
    nothing narrows the answer (every candidate platform and API listed): the same source
    (``SampleSource``), retrieval, preference model and renderer. The runtime lists only what
    its grammar allows (``prompts.answer_scope``); the shipped adapter was trained on these
    full listings and serves the narrowed ones (measured in ``bench/RESULTS.md``).

    ``record`` must carry full tool specs (:func:`resolve_tools`)."""
    query = record.query.strip()
    inline = sample_to_inline({"user_profile": record.profile, "platforms": record.platforms,
                               "tools": record.tool_specs(), "query": query})
    source = SampleSource(inline, embed)
    found = source.candidates(query, tools_per_platform, None)
    names = [p["name"] for p in found.platforms]
    gold = [c.name for c in record.gold.calls]
    candidates = _with_gold_apis(found.candidates, inline["tools"], names, gold)
    evidence = source.evidence("", query, found.scenario, names, history_k)
    view = (platform_preference(source, user_id="", scenario=found.scenario, request=query,
                                platforms=found.platforms,
                                basic_features=inline["basic_features"],
                                weights=shipped_weights())
            if preference != "off" and len(found.platforms) > 1 else None)
    return render_messages(
        basic_features=inline["basic_features"], history=evidence, platforms=found.platforms,
        tools=[(c["platform"], c["tool"]) for c in candidates], query=query, preference=view)


def vary(record: TrainingRecord, rng: random.Random) -> TrainingRecord:
    """A copy of ``record`` with renamed profile fields, shuffled platforms and tools and a
    paraphrased request (each change applied to about half of the examples). Values are never
    touched, so the gold answer stays correct."""
    profile = dict(record.profile)
    features = dict(profile.get("basic_features") or {})
    if rng.random() < 0.5:
        features = {rng.choice(FIELD_SYNONYMS[k]) if k in FIELD_SYNONYMS else k: v
                    for k, v in features.items()}
    if rng.random() < 0.3:
        items = list(features.items())
        rng.shuffle(items)
        features = dict(items)
    profile["basic_features"] = features
    update: dict[str, Any] = {"profile": profile}
    if rng.random() < 0.5:
        platforms = list(record.platforms)
        rng.shuffle(platforms)
        update["platforms"] = platforms
    if rng.random() < 0.5:
        tools = list(record.tools)
        rng.shuffle(tools)
        update["tools"] = tools
    if rng.random() < 0.4:
        update["query"] = f"{rng.choice(QUERY_PREFIXES)}{record.query}{rng.choice(QUERY_SUFFIXES)}"
    return record.model_copy(update=update)


T = TypeVar("T")


def select_records(
    records: Sequence[T], max_examples: int | None, seed: int,
    group: Callable[[T], Hashable] = lambda r: None,
) -> list[T]:
    """A seeded subset that keeps every group (for records: scenario and user) represented
    when it can: round-robin over the groups, shuffled within each."""
    rng = random.Random(seed)
    groups: dict[Hashable, list[T]] = {}
    for r in records:
        groups.setdefault(group(r), []).append(r)
    buckets = list(groups.values())
    for bucket in buckets:
        rng.shuffle(bucket)
    rng.shuffle(buckets)
    limit = len(records) if max_examples is None else min(max_examples, len(records))
    chosen: list[T] = []
    depth = 0
    while len(chosen) < limit:
        for bucket in buckets:
            if depth < len(bucket) and len(chosen) < limit:
                chosen.append(bucket[depth])
        depth += 1
    rng.shuffle(chosen)
    return chosen


def scenario_and_user(record: TrainingRecord) -> tuple[str, str]:
    return (record.scenario, record.user_id)


class ToolResolver:
    """Resolves a record's tool names to specs, with one catalog load and one spec table per
    scenario."""

    def __init__(self, catalog: Catalog | None = None) -> None:
        self._catalog = catalog
        self._specs: dict[str, dict[str, dict[str, Any]]] = {}

    def __call__(self, record: TrainingRecord) -> TrainingRecord:
        names = [t for t in record.tools if isinstance(t, str)]
        if not names:
            return record
        if self._catalog is None:
            from toolcatalog.loader import load_catalog

            self._catalog = load_catalog()
        if record.scenario not in self._specs:
            self._specs[record.scenario] = {
                a.name: a.openai_tool() for _, _, a in self._catalog.iter_apis(record.scenario)}
        specs = self._specs[record.scenario]
        missing = [t for t in names if t not in specs]
        if missing:
            raise KeyError(f"record {record.id}: tools not in the catalog: "
                           f"{', '.join(missing[:5])}; regenerate the catalog with "
                           "`ptool synth tools`")
        return record.model_copy(update={"tools": [
            specs[t] if isinstance(t, str) else t for t in record.tools]})


def resolve_tools(record: TrainingRecord, catalog: Catalog | None = None) -> TrainingRecord:
    """A copy of ``record`` whose tools are full OpenAI specs."""
    return ToolResolver(catalog)(record)


def gold_answer(record: TrainingRecord) -> str:
    """The target text: the gold calls with their arguments in the order the answer grammar
    allows (each API's schema order)."""
    ordered = in_schema_order([c.model_dump() for c in record.gold.calls], record.tool_specs())
    return record.gold.text([Call.model_validate(c) for c in ordered])


def build_examples(
    records: Sequence[TrainingRecord],
    *,
    render: RenderSettings,
    embed: Embedder | None,
    seed: int = 0,
    variety: bool = True,
    catalog: Catalog | None = None,
    progress: Callable[[Iterable[Any]], Iterable[Any]] = iter,
) -> list[Example]:
    """Render each record with the runtime prompt (plus variety) and the gold answer."""
    rng = random.Random(seed)
    examples: list[Example] = []
    resolve = ToolResolver(catalog)
    for record in progress(records):
        full = resolve(record)
        if variety:
            full = vary(full, rng)
        prompt = runtime_prompt(full, embed=embed, history_k=rng.choice(render.history_k),
                                tools_per_platform=rng.choice(render.tools_per_platform))
        examples.append(Example(id=full.id, prompt=prompt, answer=gold_answer(full)))
    return examples


def encode(tokenizer: Any, example: Example) -> Encoded:
    """Token ids as the server builds them, with the loss on the answer only.

    The prompt is the chat template with the generation prompt, rendered to text and tokenized
    without special tokens (``train/serving/prepare.py``); the answer is the rest of the full
    conversation's text (answer + end-of-turn), tokenized separately and appended, so the prompt
    part is exactly the inference-time token sequence."""
    from train.serving.chat_format import render_prompt, to_template_messages

    prompt = to_template_messages([dict(m) for m in example.prompt], None)
    prompt_text = render_prompt(tokenizer, [dict(m) for m in example.prompt], None)
    full_text = tokenizer.apply_chat_template(
        [*prompt, {"role": "assistant", "content": example.answer}], tokenize=False)
    if not full_text.startswith(prompt_text):
        raise ValueError(f"{example.id}: the chat template renders the prompt differently when "
                         "an answer follows; cannot mask the prompt reliably")
    prompt_ids = tokenizer(prompt_text, add_special_tokens=False)["input_ids"]
    answer_ids = tokenizer(full_text[len(prompt_text):], add_special_tokens=False)["input_ids"]
    return Encoded(input_ids=[*prompt_ids, *answer_ids],
                   completion_mask=[0] * len(prompt_ids) + [1] * len(answer_ids))


def choose_max_length(lengths: Sequence[int], percentile: float, cap: int,
                      multiple: int = 32) -> int:
    """Sequence length from the data: a high percentile of the tokenized lengths, rounded up to
    a multiple of ``multiple`` and capped (longer examples are dropped, never truncated, since
    truncation would cut the answer)."""
    if not lengths:
        raise ValueError("no training examples")
    value = float(np.percentile(np.asarray(lengths), percentile))
    return min(cap, int(math.ceil(value / multiple) * multiple))
