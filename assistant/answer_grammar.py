"""A grammar for the answer format, built from the turn's candidate platforms and APIs.

Why: a small model asked for ``platform:[func(param=value)]`` often writes prose, echoes the
request or rambles until ``max_tokens`` (the untrained SmolLM2-135M did so on every benchmark
sample). Constrained decoding removes that failure class: the server may only emit text that this
grammar accepts, so every answer parses, names one listed platform, calls only that platform's
candidate APIs with their own parameter names, fills every required parameter and gives each
value its schema type (enums, numbers, booleans). With grounded options (``assistant.grounding``)
it goes further: only the API the intent scorer is sure of, only the candidate values code found
for a parameter (an exact copy of the profile's address, the request's date), and no optional
parameter nothing supplies. What stays the model's job is choosing among what is offered.

The grammar is the paper's text format, not JSON, so the prompt, the training targets and the
parser all keep one format, and the answer stays short (fewer decoded tokens). It is EBNF in the
dialect of xgrammar (and of vLLM's ``structured_outputs.grammar``); the request carries it in
the vLLM field, which the embedded server honours too.

Arguments follow the schema's property order (required ones mandatory, optional ones optional):
any order would need a grammar exponential in the parameter count. Training targets are written
in the same order (:func:`in_schema_order`), so the adapter learns what the grammar allows.
"""

from __future__ import annotations

import json
import keyword
from collections.abc import Mapping, Sequence
from typing import Any

from assistant.state import ParamOptions

MAX_STRING_CHARS = 80
"""Longest string value: bounds how long a confused model can stay inside quotes."""
MAX_DIGITS = 12
MAX_CALLS = 3
MAX_ITEMS = 8


def _identifier(name: str) -> bool:
    return name.isidentifier() and not keyword.iskeyword(name)


def _lit(text: str) -> str:
    """An EBNF string literal matching ``text`` exactly."""
    return json.dumps(text, ensure_ascii=False)


def _schema_props(tool: Mapping[str, Any]) -> tuple[list[tuple[str, Mapping[str, Any]]], set[str]]:
    function = tool.get("function", tool)
    params = function.get("parameters") or {}
    props = [(k, v) for k, v in (params.get("properties") or {}).items() if _identifier(k)]
    return props, set(params.get("required") or [])


class _Builder:
    """Accumulates named rules; identical value schemas share one rule."""

    def __init__(self) -> None:
        self.rules: dict[str, str] = {
            "str": (
                "sq | dq"
            ),
            "sq": f"\"'\" ([^'\\\\\\n] | \"\\\\\" [^\\n]){{0,{MAX_STRING_CHARS}}} \"'\"",
            "dq": f"\"\\\"\" ([^\"\\\\\\n] | \"\\\\\" [^\\n]){{0,{MAX_STRING_CHARS}}} \"\\\"\"",
            "int": f"\"-\"? [0-9]{{1,{MAX_DIGITS}}}",
            "num": "int (\".\" [0-9]{1,8})? ([eE] \"-\"? [0-9]{1,3})?",
            "bool": "\"True\" | \"False\"",
            "scalar": "str | num | bool | \"None\"",
            "any": "scalar | anylist | anydict",
            "anylist": f"\"[\" (scalar (\", \" scalar){{0,{MAX_ITEMS - 1}}})? \"]\"",
            "pair": "str \": \" scalar",
            "anydict": f"\"{{\" (pair (\", \" pair){{0,{MAX_ITEMS - 1}}})? \"}}\"",
        }
        self._by_schema: dict[str, str] = {}
        self._calls = 0

    def add(self, name: str, body: str) -> str:
        self.rules[name] = body
        return name

    def value(self, schema: Mapping[str, Any]) -> str:
        """The rule for one parameter value, as the parser reads Python literals."""
        key = json.dumps(schema, sort_keys=True, default=str)
        if key in self._by_schema:
            return self._by_schema[key]
        body = self._value_body(schema)
        if body in self.rules:  # a base rule such as "str"
            return body
        name = self.add(f"v{len(self._by_schema)}", body)
        self._by_schema[key] = name
        return name

    def _value_body(self, schema: Mapping[str, Any]) -> str:
        if schema.get("enum"):
            return " | ".join(_lit(repr(v)) for v in schema["enum"])
        kinds = schema.get("type")
        kinds = kinds if isinstance(kinds, list) else [kinds]
        options: list[str] = []
        for kind in kinds:
            if kind == "string":
                options.append("str")
            elif kind == "integer":
                options.append("int")
            elif kind == "number":
                options.append("num")
            elif kind == "boolean":
                options.append("bool")
            elif kind == "null":
                options.append("\"None\"")
            elif kind == "array":
                item = self.value(schema.get("items") or {})
                options.append(f"\"[\" ({item} (\", \" {item}){{0,{MAX_ITEMS - 1}}})? \"]\"")
            elif kind == "object":
                options.append("anydict")
            else:
                options.append("any")
        return options[0] if len(options) == 1 else " | ".join(f"({o})" for o in options)

    def grounded(self, schema: Mapping[str, Any], options: ParamOptions | None) -> str:
        """The value rule of a parameter with candidates: exactly one of them, as a Python
        literal so the parser reads the very string (unless the options allow free text)."""
        if options is None or not options["candidates"] or options["free_text"]:
            return self.value(schema)  # free text already allows every candidate
        number = options["kind"] == "number"  # a number is written bare, a string quoted
        literals = [_lit(o["value"] if number else repr(o["value"]))
                    for o in options["candidates"]]
        key = json.dumps(literals)
        if key not in self._by_schema:
            self._by_schema[key] = self.add(f"v{len(self._by_schema)}", " | ".join(literals))
        return self._by_schema[key]

    def call(self, tool: Mapping[str, Any],
             options: Mapping[str, ParamOptions] | None = None) -> str:
        """``name(p1=v, p2=v)`` with the schema's parameters in order: chained rules whose
        "started" variant puts a comma first. Rule size is linear in the parameter count.
        ``options`` (``assistant.grounding``) restricts values to candidates and leaves out
        optional parameters nothing supplies."""
        function = tool.get("function", tool)
        name = function["name"]
        props, required = _schema_props(tool)
        options = options or {}
        props = [(k, v) for k, v in props
                 if k in required or k not in options or options[k]["offer"]]
        base = f"c{self._calls}"
        self._calls += 1
        n = len(props)
        self.add(f"{base}_s{n}", '""')
        self.add(f"{base}_n{n}", '""')
        for i in range(n - 1, -1, -1):
            pname, pschema = props[i]
            arg = f"{_lit(pname + '=')} {self.grounded(pschema, options.get(pname))}"
            started, fresh = f"{base}_s{i + 1}", f"{base}_n{i + 1}"
            if pname in required:
                self.add(f"{base}_s{i}", f"\", \" {arg} {started}")
                self.add(f"{base}_n{i}", f"{arg} {started}")
            else:
                self.add(f"{base}_s{i}", f"\", \" {arg} {started} | {started}")
                self.add(f"{base}_n{i}", f"{arg} {started} | {fresh}")
        return self.add(base, f"{_lit(name + '(')} {base}_n0 \")\"")

    def text(self) -> str:
        return "\n".join(f"{name} ::= {body}" for name, body in self.rules.items())


def platform_key(name: str) -> str:
    """How the answer writes a platform name (bare when it is an identifier, else quoted)."""
    return name if _identifier(name) else repr(name)


def answer_grammar(
    platforms: Sequence[str],
    tools: Sequence[tuple[str | None, Mapping[str, Any]]],
    max_calls: int = MAX_CALLS,
    options: Mapping[str, Mapping[str, ParamOptions]] | None = None,
) -> str | None:
    """EBNF for ``platform:[call, ...]`` over these candidates; ``None`` when nothing is callable.

    ``tools`` pairs each candidate API with its platform (``None``: callable on any platform).
    ``options`` maps an API name to its parameters' grounded values (``Builder.grounded``).
    A platform without candidate APIs is left out: choosing it could only yield an empty call
    list, which validation would reject anyway."""
    builder = _Builder()
    call_rules: dict[str, str] = {}
    for _owner, tool in tools:
        name = tool.get("function", tool)["name"]
        if _identifier(name.replace(".", "_")) and name not in call_rules:
            call_rules[name] = builder.call(tool, (options or {}).get(name))
    owners = {tool.get("function", tool)["name"]: owner for owner, tool in tools}
    alternatives: list[str] = []
    for n, platform in enumerate(platforms):
        mine = [rule for fn, rule in call_rules.items() if owners.get(fn) in (platform, None)]
        if not mine:
            continue
        call = builder.add(f"p{n}_call", " | ".join(mine))
        calls = f"{call} (\", \" {call}){{0,{max_calls - 1}}}"
        head = _lit(platform_key(platform) + ":[")
        alternatives.append(builder.add(f"p{n}", f"{head} {calls} \"]\""))
    if not alternatives:
        return None
    return f"root ::= {' | '.join(alternatives)}\n{builder.text()}"


def in_schema_order(
    calls: Sequence[Mapping[str, Any]], tools: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """``calls`` with each call's arguments in its API's schema property order (unknown names
    last, in their original order): the order :func:`answer_grammar` allows."""
    order: dict[str, list[str]] = {}
    for tool in tools:
        function = tool.get("function", tool)
        params = function.get("parameters") or {}
        order[function["name"]] = list(params.get("properties") or {})
    out: list[dict[str, Any]] = []
    for call in calls:
        names = order.get(call["name"], [])
        args = dict(call["arguments"])
        ranked = sorted(args, key=lambda k: names.index(k) if k in names else len(names))
        out.append({**call, "arguments": {k: args[k] for k in ranked}})
    return out
