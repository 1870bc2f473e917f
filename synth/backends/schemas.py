"""Structured-output schemas the LLM backend asks the model to fill (one per pipeline step).

Arguments are ``[{name, value_json, source, surface}]`` lists rather than free dicts: strict
structured-output modes need closed schemas, and the explicit ``source`` is the paper's
query/profile annotation.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class PlatformDraft(BaseModel):
    name: str = Field(description="Platform brand name, one word, CamelCase")
    profile: dict[str, str] = Field(
        description="characteristic -> description (price level, speed, range, audience)"
    )


class PlatformsOut(BaseModel):
    platforms: list[PlatformDraft]


class AreasOut(BaseModel):
    areas: list[str] = Field(description="functional areas of the scenario, snake_case")


class ParamDraft(BaseModel):
    name: str
    type: Literal["string", "integer", "number", "boolean"]
    description: str
    required: bool = False
    enum: list[str] | None = None


class ApiDraft(BaseModel):
    stem: str = Field(description="snake_case verb_object, e.g. place_order")
    description: str
    parameters: list[ParamDraft]
    effect: Literal["read", "create", "lookup", "update", "cancel"] = "read"
    record: str | None = Field(default=None, description="record kind for non-read effects")


class ApisOut(BaseModel):
    apis: list[ApiDraft]


class EventDraft(BaseModel):
    platform: str
    action: str


class HistoryOut(BaseModel):
    events: list[EventDraft]


class QueryOut(BaseModel):
    query: str
    platform: str = Field(description="the platform this user would use for it")


class ArgDraft(BaseModel):
    name: str
    value_json: str = Field(description='the value as JSON, e.g. "\\"Rioja\\"" or 2')
    source: Literal["query", "profile"]
    surface: str | None = Field(default=None, description="query text stating the value")
    feature: str | None = Field(default=None, description="basic feature a profile value is from")


class CallDraft(BaseModel):
    name: str
    arguments: list[ArgDraft]


class SolutionOut(BaseModel):
    platform: str
    calls: list[CallDraft]


class Verdict(BaseModel):
    profile_ok: bool
    query_ok: bool
    solution_ok: bool
    problems: list[str] = Field(default_factory=list)
