"""A request's CPU work before the engine runs it: grammar, chat template, tokens.

Why apart from the routes: this runs on the server's preparation thread, not on the event loop,
so one large request does not stall every other connection's I/O; and a request the server
cannot run is refused here, with the HTTP answer it gets instead (:class:`Refused`).
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi.responses import JSONResponse

from train.serving.chat_format import render_prompt
from train.serving.constrained import Constraint, GrammarError, GrammarUnavailableError
from train.serving.engine import Engine
from train.serving.protocol import ChatRequest, NamedToolChoice
from train.serving.responses import error_response


class Refused(Exception):
    """A request the server will not run, with the HTTP answer to give instead."""

    def __init__(self, status: int, message: str, *, type_: str = "invalid_request_error",
                 code: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.type_, self.code = status, message, type_, code

    def response(self) -> JSONResponse:
        return error_response(self.status, self.message, type_=self.type_, code=self.code)


@dataclass(frozen=True)
class Prepared:
    """What the engine needs for a request, built off the event loop by :func:`prepare`."""

    prompt_ids: list[int]
    constraint: Constraint | None
    tools_active: bool


def prepare(body: ChatRequest, engine: Engine, window: int | None, max_tokens: int) -> Prepared:
    """Grammar compilation, chat-template rendering and tokenisation: the request's CPU work.

    Runs on the server's preparation thread so one large request does not stall every other
    connection's I/O on the event loop. Raises :class:`Refused` for requests it cannot run."""
    try:
        constraint, tools_active = constraint_for(body, engine)
    except GrammarUnavailableError as exc:
        raise Refused(501, str(exc), type_="server_error") from None
    except GrammarError as exc:
        raise Refused(400, f"cannot build a grammar: {exc}") from None
    messages = [m.model_dump(exclude_none=True) for m in body.messages]
    tools = (
        [t.model_dump() for t in body.tools]
        if body.tools and body.tool_choice != "none"
        else None
    )
    tokenizer = engine.loaded.tokenizer
    try:
        text = render_prompt(tokenizer, messages, tools)
    except Exception as exc:  # jinja raises for role orders a template forbids
        raise Refused(400, f"cannot render messages: {exc}") from None
    ids = list(tokenizer(text, add_special_tokens=False)["input_ids"])
    if window is not None and len(ids) + max_tokens > window:
        raise Refused(
            400,
            f"this model's context window is {window} tokens, but the prompt has {len(ids)} "
            f"and max_tokens asks for {max_tokens} more ({len(ids) + max_tokens}); "
            "shorten the messages or lower max_tokens",
            code="context_length_exceeded",
        )
    return Prepared(ids, constraint, tools_active)


def constraint_for(body: ChatRequest, engine: Engine) -> tuple[Constraint | None, bool]:
    """Which grammar (if any) the request needs, and whether tool-call parsing applies."""
    grammars = engine.loaded.grammars
    tools = [t.model_dump() for t in body.tools or []]
    if tools and body.tool_choice != "none":
        if isinstance(body.tool_choice, NamedToolChoice):
            chosen = [
                t for t in tools if t["function"]["name"] == body.tool_choice.function["name"]
            ]
            return grammars.tool_calls(chosen, required=True), True
        if body.tool_choice == "required":
            return grammars.tool_calls(tools, required=True), True
        # "auto": free text, but a started <tool_call> must follow the tool's schema.
        return grammars.tool_calls(tools, required=False), True
    grammar = body.grammar
    if grammar is not None:
        return grammars.ebnf(grammar), False
    fmt = body.response_format
    if fmt is not None and fmt.type == "json_schema" and fmt.json_schema is not None:
        return grammars.json_schema(fmt.json_schema.schema_), False
    if fmt is not None and fmt.type == "json_object":
        return grammars.json_object(), False
    return None, False
