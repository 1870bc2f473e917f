"""The subset of the OpenAI chat-completions request the server honours, as pydantic models.

Why explicit models: a malformed request must get a 400 that names the bad field, and fields we
cannot honour (``n > 1``, logprobs) must be refused rather than silently ignored.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class FunctionDef(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str = Field(pattern=r"^[A-Za-z0-9_.\-]{1,64}$")
    description: str = ""
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object"})


class Tool(BaseModel):
    type: Literal["function"] = "function"
    function: FunctionDef


class ToolCallFunction(BaseModel):
    name: str
    arguments: str = "{}"


class ToolCall(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str = ""
    type: Literal["function"] = "function"
    function: ToolCallFunction


class Message(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[dict[str, Any]] | None = None
    tool_calls: list[ToolCall] | None = None
    tool_call_id: str | None = None
    name: str | None = None


class NamedToolChoice(BaseModel):
    type: Literal["function"] = "function"
    function: dict[str, str]


class JsonSchemaSpec(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="allow")

    name: str = "response"
    schema_: dict[str, Any] = Field(alias="schema")
    strict: bool | None = None


class ResponseFormat(BaseModel):
    type: Literal["text", "json_object", "json_schema"]
    json_schema: JsonSchemaSpec | None = None

    @model_validator(mode="after")
    def _schema_given(self) -> ResponseFormat:
        if self.type == "json_schema" and self.json_schema is None:
            raise ValueError("response_format of type 'json_schema' needs a 'json_schema' object")
        return self


class StreamOptions(BaseModel):
    include_usage: bool = False


class ChatRequest(BaseModel):
    """``POST /v1/chat/completions`` body; unknown extra fields are accepted and ignored."""

    model_config = ConfigDict(extra="allow")

    model: str = Field(min_length=1)
    messages: list[Message] = Field(min_length=1)
    tools: list[Tool] | None = None
    tool_choice: Literal["none", "auto", "required"] | NamedToolChoice | None = None
    response_format: ResponseFormat | None = None
    stream: bool = False
    stream_options: StreamOptions | None = None
    max_tokens: int | None = Field(default=None, ge=1, le=8192)
    max_completion_tokens: int | None = Field(default=None, ge=1, le=8192)
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    top_p: float = Field(default=1.0, gt=0.0, le=1.0)
    seed: int | None = None
    stop: str | list[str] | None = None
    n: int = Field(default=1, ge=1, le=1, description="Only one choice per request.")
    logprobs: Literal[False] | None = None
    ignore_eos: bool = Field(
        default=False, description="vLLM extension: keep decoding past EOS (benchmarks only)."
    )

    @model_validator(mode="after")
    def _tool_choice_matches_tools(self) -> ChatRequest:
        names = {t.function.name for t in self.tools or []}
        if isinstance(self.tool_choice, NamedToolChoice):
            wanted = self.tool_choice.function.get("name")
            if wanted not in names:
                raise ValueError(f"tool_choice names function {wanted!r}, which is not in tools")
        elif self.tool_choice == "required" and not names:
            raise ValueError("tool_choice 'required' needs a non-empty 'tools' list")
        return self

    def _grammar_fields(self) -> list[Any]:
        """vLLM's grammar fields, as sent: ``structured_outputs: {"grammar": ...}`` (current),
        then ``guided_grammar`` (older releases). Extra fields, so plain clients are unaffected."""
        extra = self.model_extra or {}
        structured = extra.get("structured_outputs")
        return [structured.get("grammar") if isinstance(structured, dict) else None,
                extra.get("guided_grammar")]

    @property
    def grammar(self) -> str | None:
        """The request's EBNF grammar, if any (the validator below guarantees it is text)."""
        return next((g for g in self._grammar_fields() if g), None)

    @model_validator(mode="after")
    def _grammar_is_text(self) -> ChatRequest:
        if any(v is not None and not isinstance(v, str) for v in self._grammar_fields()):
            raise ValueError("structured_outputs.grammar (or guided_grammar) must be a string")
        return self

    @property
    def token_limit(self) -> int | None:
        return self.max_completion_tokens or self.max_tokens

    @property
    def stop_list(self) -> list[str]:
        if self.stop is None:
            return []
        return [self.stop] if isinstance(self.stop, str) else list(self.stop)


def error_body(
    message: str, *, type_: str, code: str | None = None, param: str | None = None
) -> dict[str, Any]:
    """The OpenAI error envelope the ``openai`` client turns into typed exceptions."""
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}
