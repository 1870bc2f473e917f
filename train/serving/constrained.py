"""Constrained decoding: token masks that keep the model's output inside a grammar.

Why xgrammar: it compiles any JSON Schema (``$ref``, ``anyOf``, enums, required keys) in
milliseconds, ships a C++ CPU mask kernel, and its "structural tags" express exactly the tool-call
shapes we need (free text that may switch into ``<tool_call>`` blocks whose arguments follow each
tool's schema). lm-format-enforcer is pure Python per token and covers less of JSON Schema;
outlines builds a full regex index per schema (seconds each for a 49k vocabulary).
"""

from __future__ import annotations

import json
from collections import OrderedDict
from typing import Any

import torch

from train.serving.chat_format import TOOL_CALL_OPEN, TOOL_CALL_SUFFIX, tool_call_prefix

MAX_STRING_CHARS = 64
"""Longest free string the grammar allows where the schema sets no ``maxLength``.

Why: a small model inside a JSON string can repeat itself forever
(``"2023-01-01T00:00:00-00:00-00:00..."``, seen with SmolLM2-135M on a catalog schema); the
answer then hits ``max_tokens`` and is cut off, invalid. A bound makes every constrained answer
terminate, and the result still validates against the original (looser) schema."""
MAX_ARRAY_ITEMS = 16


def bound_schema(
    node: Any, max_chars: int = MAX_STRING_CHARS, max_items: int = MAX_ARRAY_ITEMS
) -> Any:
    """A copy of ``node`` whose unbounded strings and arrays get a length cap (see above)."""
    if isinstance(node, list):
        return [bound_schema(v, max_chars, max_items) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: bound_schema(v, max_chars, max_items) for k, v in node.items()}
    if "properties" in node:  # property names are not schemas; only recurse into their values
        out["properties"] = {
            k: bound_schema(v, max_chars, max_items) for k, v in node["properties"].items()
        }
    types = node.get("type")
    types = types if isinstance(types, list) else [types]
    free = not any(k in node for k in ("enum", "const", "pattern", "format", "maxLength"))
    if "string" in types and free:
        out["maxLength"] = max(max_chars, int(node.get("minLength", 0)))
    if "array" in types and "maxItems" not in node:
        out["maxItems"] = max(max_items, int(node.get("minItems", 0)))
    return out


class GrammarError(ValueError):
    """A schema or tool list cannot be turned into a grammar (the request is at fault)."""


class Constraint:
    """Per-request state: which tokens may come next, updated as tokens are accepted."""

    def __init__(self, compiled: Any, vocab_size: int) -> None:
        import xgrammar as xgr

        self._xgr = xgr
        self._matcher = xgr.GrammarMatcher(compiled)
        self._bitmask = xgr.allocate_token_bitmask(1, vocab_size)
        self._vocab_size = vocab_size

    def mask(self, logits: torch.Tensor) -> None:
        """Set the logits of forbidden tokens to -inf, in place (shape ``[1, vocab]``)."""
        self._matcher.fill_next_token_bitmask(self._bitmask)
        self._xgr.apply_token_bitmask_inplace(logits, self._bitmask, vocab_size=self._vocab_size)

    def accept(self, token_id: int) -> None:
        if not self._matcher.accept_token(token_id):
            raise RuntimeError(f"grammar rejected token {token_id} that its own mask allowed")

    def forced_text(self) -> str:
        """The text the grammar allows as the only continuation from here (may be empty).

        Why: in a tool-call answer much of the text is fixed once a choice is made (after a
        function name, ``(dish='`` is the only way on). Feeding that text in one forward pass
        instead of one pass per token cuts decode time, which on this CPU is dominated by the
        per-pass overhead, not by the number of tokens in the pass."""
        return str(self._matcher.find_jump_forward_string())

    def accept_text(self, text: str) -> None:
        if not self._matcher.accept_string(text):
            raise RuntimeError(f"grammar rejected its own forced text {text!r}")

    @property
    def finished(self) -> bool:
        """True once the grammar is complete and has accepted its stop token."""
        return bool(self._matcher.is_terminated())


class GrammarUnavailableError(GrammarError):
    """The server lacks the constrained-decoding library (a server problem: HTTP 501)."""


class GrammarFactory:
    """Compiles grammars for one tokenizer and caches them (schemas repeat across requests)."""

    def __init__(self, tokenizer: Any, vocab_size: int, cache_size: int = 256) -> None:
        try:
            import xgrammar as xgr
        except ImportError:
            raise GrammarUnavailableError(
                "constrained decoding (tools, response_format) needs xgrammar: "
                "pip install --no-deps xgrammar apache-tvm-ffi"
            ) from None

        info = xgr.TokenizerInfo.from_huggingface(tokenizer, vocab_size=vocab_size)
        self._compiler = xgr.GrammarCompiler(info)
        self._vocab_size = vocab_size
        self._cache: OrderedDict[str, Any] = OrderedDict()
        self._cache_size = cache_size

    def _cached(self, key: str, build: Any) -> Constraint:
        compiled = self._cache.get(key)
        if compiled is None:
            try:
                compiled = build()
            except (RuntimeError, ValueError, TypeError) as exc:
                raise GrammarError(str(exc).strip().splitlines()[0]) from exc
            self._cache[key] = compiled
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(key)
        return Constraint(compiled, self._vocab_size)

    def json_schema(self, schema: dict[str, Any]) -> Constraint:
        """Output is one compact JSON value valid against ``schema``.

        No free whitespace: a small model given the choice tends to emit endless newlines.
        """
        text = json.dumps(bound_schema(schema))  # key order kept: properties come in this order
        return self._cached(
            "schema:" + text,
            lambda: self._compiler.compile_json_schema(text, any_whitespace=False),
        )

    def ebnf(self, grammar: str) -> Constraint:
        """A grammar in xgrammar's EBNF (GBNF-like, ``root ::= ...``), as vLLM's
        ``structured_outputs.grammar`` takes it: how the assistant pins its answer format."""
        return self._cached("ebnf:" + grammar, lambda: self._compiler.compile_grammar(grammar))

    def json_object(self) -> Constraint:
        """``response_format: {"type": "json_object"}``: any JSON object."""
        schema = {"type": "object"}
        return self._cached(
            "object",
            lambda: self._compiler.compile_json_schema(
                json.dumps(schema), any_whitespace=False, strict_mode=False
            ),
        )

    def tool_calls(self, tools: list[dict[str, Any]], *, required: bool) -> Constraint:
        """Free text that may switch into Hermes tool calls (``required``: exactly one call).

        Each call's begin tag fixes the function name, so the arguments are checked against that
        function's own ``parameters`` schema.
        """
        from xgrammar.structural_tag import (
            JSONSchemaFormat,
            OrFormat,
            StructuralTag,
            TagFormat,
            TriggeredTagsFormat,
        )

        tags = [
            TagFormat(
                begin=tool_call_prefix(t["function"]["name"]),
                content=JSONSchemaFormat(
                    json_schema=bound_schema(t["function"].get("parameters") or {"type": "object"}),
                    max_whitespace_cnt=1,
                ),
                end=TOOL_CALL_SUFFIX,
            )
            for t in tools
        ]
        fmt: Any
        if required:
            fmt = tags[0] if len(tags) == 1 else OrFormat(elements=list(tags))
        else:
            fmt = TriggeredTagsFormat(triggers=[TOOL_CALL_OPEN], tags=tags)
        tag = StructuralTag(format=fmt)
        key = f"tools:{required}:" + json.dumps(tools)
        return self._cached(key, lambda: self._compiler.compile_structural_tag(tag))
