"""A model's answer in the paper's formats: parse it into (platform, calls) -- never with
``eval`` -- and render it back.

Two forms: the text form ``platform:[func(p=v, ...)]`` and the reference JSON form. The runtime
(which also reads OpenAI tool calls and the chatter small models put around an answer, see
``assistant/parsing.py``), eval's scoring and the training-data builder all use these functions,
so an answer reads the same everywhere.

Behaviour kept from the reference parser (hyfshadow/PTBench ``src/parse.py``):

* the dict's first entry is used; its key may be a name (``Shop``) or a constant (``'Shop'``);
* the value is one call or a list/tuple of calls; anything else is a format error;
* only keyword arguments count (positional ones are ignored); a repeated keyword keeps the last;
* a bare name as a value is its text (``city=Paris`` -> ``"Paris"``); a call without keywords is
  its source text; a call with keywords is ``{name: {arg: value}}``; ``...`` is ``"..."``.

Deliberate differences (safer, and invisible on well-formed output): arithmetic such as ``2*3``
is folded only over number/string constants instead of being ``eval``-ed; ``+x``/``not x`` get
their real meaning; tuples become lists; lambdas and subscripts become their source text;
``**{"from": 1}`` supplies keyword names that are not identifiers (the renderer uses it, so
every argument name round-trips). The JSON form is read with ``json`` then
``ast.literal_eval`` instead of quote substitution, which corrupted apostrophes inside values.
"""

from __future__ import annotations

import ast
import json
import keyword
import operator
from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, Field

OutputFormat = Literal["text", "json", "auto"]


class ParseError(ValueError):
    """The output is not in the expected format (counts against the *format* metric)."""


class Call(BaseModel):
    """One predicted function call."""

    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)


class ParsedOutput(BaseModel):
    """A well-formed prediction: the chosen platform and the calls on it."""

    platform: str
    calls: list[Call] = Field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# text form


MAX_FOLDED_CHARS = 4096
"""Longest string ``'ab' * n`` may fold into: the *result* is bounded, so a chain such as
``'x'*1000*1000*1000`` (26 characters) cannot allocate a gigabyte."""

_BINOPS: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
}


def _fold_binop(node: ast.BinOp) -> Any:
    """Fold ``a <op> b`` over constants only; anything else stays as its source text."""
    left, right = _value(node.left), _value(node.right)
    op = _BINOPS.get(type(node.op))
    numbers = all(isinstance(x, int | float) and not isinstance(x, bool) for x in (left, right))
    strings = isinstance(left, str) and isinstance(right, str) and isinstance(node.op, ast.Add)
    repeat = isinstance(node.op, ast.Mult) and (
        (isinstance(left, str) and type(right) is int and len(left) * right <= MAX_FOLDED_CHARS)
        or (isinstance(right, str) and type(left) is int and len(right) * left <= MAX_FOLDED_CHARS)
    )
    if op is None or not (numbers or strings or repeat):
        return ast.unparse(node)
    try:
        return op(left, right)
    except (ArithmeticError, TypeError, ValueError):
        return ast.unparse(node)


def _value(node: ast.expr) -> Any:
    """Turn an argument's AST into a plain value (see the module docstring for the rules)."""
    if isinstance(node, ast.Constant):
        return "..." if node.value is Ellipsis else node.value
    if isinstance(node, ast.UnaryOp):
        inner = _value(node.operand)
        if isinstance(node.op, ast.Not):
            return not inner
        if isinstance(inner, int | float) and not isinstance(inner, bool):
            return -inner if isinstance(node.op, ast.USub) else +inner
        return ast.unparse(node)
    if isinstance(node, ast.List | ast.Tuple):
        return [_value(v) for v in node.elts]
    if isinstance(node, ast.Dict):
        out: dict[Any, Any] = {}
        for k, v in zip(node.keys, node.values, strict=True):
            if k is None:  # {**x} inside a value: not a literal
                raise ParseError("dict unpacking inside an argument value")
            key = _value(k)
            try:
                out[key] = _value(v)
            except TypeError as exc:  # unhashable key such as a list
                raise ParseError(f"unhashable dict key {ast.unparse(k)}") from exc
        return out
    if isinstance(node, ast.BinOp):
        return _fold_binop(node)
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Call):
        if not node.keywords:
            return ast.unparse(node)
        inner = _call(node)
        return {inner.name: inner.arguments}
    if isinstance(node, ast.Lambda | ast.Subscript | ast.Attribute):
        return ast.unparse(node)
    raise ParseError(f"unsupported value {ast.unparse(node)!r} ({type(node).__name__})")


def _func_name(node: ast.expr) -> str:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


def _call(node: ast.Call) -> Call:
    args: dict[str, Any] = {}
    for kw in node.keywords:
        if kw.arg is None:
            spread = _value(kw.value)
            if not isinstance(spread, dict) or not all(isinstance(k, str) for k in spread):
                raise ParseError("'**' argument must be a dict with string keys")
            args.update(spread)
        else:
            args[kw.arg] = _value(kw.value)
    return Call(name=_func_name(node.func), arguments=args)


def parse_text(output: str) -> ParsedOutput:
    """Parse ``platform:[func(p=v, ...), ...]``; raise :class:`ParseError` when malformed."""
    try:
        tree = ast.parse("{" + output + "}", mode="eval")
    except (SyntaxError, ValueError, MemoryError, RecursionError) as exc:
        raise ParseError(f"not a Python expression once wrapped in braces: {exc}") from exc
    body = tree.body
    if not isinstance(body, ast.Dict) or not body.keys or body.keys[0] is None:
        raise ParseError("expected 'platform: [calls]'")
    key = body.keys[0]
    if isinstance(key, ast.Name):
        platform = key.id
    elif isinstance(key, ast.Constant):
        platform = str(key.value)
    else:
        raise ParseError(f"platform must be a name or a string, got {ast.unparse(key)!r}")
    value = body.values[0]
    try:
        if isinstance(value, ast.Call):
            calls = [_call(value)]
        elif isinstance(value, ast.List | ast.Tuple | ast.Set):
            if not all(isinstance(e, ast.Call) for e in value.elts):
                raise ParseError("every element of the call list must be a function call")
            calls = [_call(e) for e in value.elts if isinstance(e, ast.Call)]
        else:
            raise ParseError("the platform's value must be a call or a list of calls")
    except RecursionError as exc:
        raise ParseError("expression nested too deeply") from exc
    return ParsedOutput(platform=platform, calls=calls)


# ---------------------------------------------------------------------------------------------
# JSON form


def parse_json(output: str) -> ParsedOutput:
    """Parse ``{"platform": ..., "functions": [{"name": ..., "parameters": {...}}]}``."""
    data: Any
    try:
        data = json.loads(output)
    except json.JSONDecodeError:
        try:
            data = ast.literal_eval(output.strip())
        except (ValueError, SyntaxError, MemoryError, RecursionError) as exc:
            raise ParseError(f"neither JSON nor a Python literal: {exc}") from exc
    if not isinstance(data, dict) or "platform" not in data or "functions" not in data:
        raise ParseError("expected an object with 'platform' and 'functions'")
    funcs = data["functions"]
    if not isinstance(funcs, list):
        raise ParseError("'functions' must be a list")
    calls: list[Call] = []
    for f in funcs:
        if not isinstance(f, dict) or "name" not in f or not isinstance(f.get("parameters"), dict):
            raise ParseError("each function needs 'name' and a 'parameters' object")
        calls.append(Call(name=str(f["name"]), arguments={str(k): v for k, v in
                                                           f["parameters"].items()}))
    return ParsedOutput(platform=str(data["platform"]), calls=calls)


def parse_output(output: str, fmt: OutputFormat = "text") -> ParsedOutput:
    """Parse in the given format; ``auto`` tries the paper's text form, then JSON."""
    if fmt == "text":
        return parse_text(output)
    if fmt == "json":
        return parse_json(output)
    try:
        return parse_text(output)
    except ParseError as text_error:
        try:
            return parse_json(output)
        except ParseError:
            raise text_error from None


# ---------------------------------------------------------------------------------------------
# rendering


class RenderError(ValueError):
    """A prediction cannot be written in the paper's text format (e.g. a hyphenated name)."""


def _is_identifier(name: str) -> bool:
    return name.isidentifier() and not keyword.iskeyword(name)


def _literal(value: Any) -> str:
    """Python-literal source for a JSON-like value (``repr`` of str/number/bool/None/list/dict)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_literal(k)}: {_literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    if value is None or isinstance(value, bool | int | float | str):
        return repr(value)
    raise RenderError(f"cannot render value of type {type(value).__name__}")


def render_call(call: Call) -> str:
    """``name(p1='v', p2=2)``; names that are not identifiers go through ``**{...}``."""
    if not all(_is_identifier(part) for part in call.name.split(".")):
        raise RenderError(f"function name {call.name!r} is not a (dotted) Python identifier")
    plain = [f"{k}={_literal(v)}" for k, v in call.arguments.items() if _is_identifier(k)]
    odd = {k: v for k, v in call.arguments.items() if not _is_identifier(k)}
    if odd:
        plain.append("**" + _literal(odd))
    return f"{call.name}({', '.join(plain)})"


def render_text(prediction: ParsedOutput) -> str:
    """The paper's format: ``platform:[func1(...), func2(...)]``."""
    key = prediction.platform if _is_identifier(prediction.platform) else repr(prediction.platform)
    return f"{key}:[{', '.join(render_call(c) for c in prediction.calls)}]"


def render_json(prediction: ParsedOutput) -> str:
    """The alternative JSON form of the reference code."""
    return json.dumps(
        {
            "platform": prediction.platform,
            "functions": [{"name": c.name, "parameters": c.arguments} for c in prediction.calls],
        },
        ensure_ascii=False,
    )
