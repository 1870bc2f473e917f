"""Typed model of the tool catalog: scenarios -> platforms -> APIs.

The on-disk format (one JSON file per scenario under ``toolcatalog/data/catalog``) mirrors what a
PTBench sample carries: platforms are ``{"name", "profile"}`` and each API is an OpenAI function
spec with an extra ``response`` JSON Schema. ``effect`` tells the mock executor whether a call
changes per-user state (an order, a booking...) or reads it back (track my order).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

CATALOG_FORMAT_VERSION = 1

Effect = Literal["read", "create", "lookup", "update", "cancel"]
"""What a call does to mock state: ``create`` stores a record (order, booking, cart item,
subscription); ``lookup`` reads a record back by id or lists them; ``update`` / ``cancel``
change an existing one; ``read`` is a pure query (search, details)."""


class FunctionSpec(BaseModel):
    """The ``function`` part of an OpenAI tool spec, plus the response schema PTBench ships."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
    description: str
    parameters: dict[str, Any]
    response: dict[str, Any] = Field(default_factory=lambda: {"type": "object"})


class ApiSpec(BaseModel):
    """One API of one platform, as stored in the catalog."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["function"] = "function"
    function: FunctionSpec
    effect: Effect = "read"
    record: str | None = Field(
        default=None,
        description="Kind of per-user record this API creates or reads (order, booking, ...).",
    )

    @property
    def name(self) -> str:
        return self.function.name

    @property
    def required(self) -> list[str]:
        return list(self.function.parameters.get("required", []))

    def openai_tool(self) -> dict[str, Any]:
        """The plain OpenAI tool dict (what a model or a PTBench sample sees)."""
        return {"type": "function", "function": self.function.model_dump()}


class Platform(BaseModel):
    """A platform: a name, characteristics that make it preferable to some users, and its APIs."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    profile: dict[str, str]
    apis: list[ApiSpec] = Field(min_length=1)

    def api(self, name: str) -> ApiSpec | None:
        return next((a for a in self.apis if a.name == name), None)


class Scenario(BaseModel):
    """A scenario file: functionally similar platforms that compete for the same requests."""

    model_config = ConfigDict(extra="forbid")

    format_version: int = CATALOG_FORMAT_VERSION
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    description: str
    unseen: bool = Field(
        default=False, description="True for scenarios held out of training (PTBench Table 4)."
    )
    platforms: list[Platform] = Field(min_length=1)

    def platform(self, name: str) -> Platform | None:
        return next((p for p in self.platforms if p.name == name), None)


class Catalog(BaseModel):
    """All scenarios, looked up by name; the unit the rest of the system works with."""

    scenarios: dict[str, Scenario]

    def scenario(self, name: str) -> Scenario:
        try:
            return self.scenarios[name]
        except KeyError:
            raise KeyError(
                f"unknown scenario {name!r}; known: {', '.join(sorted(self.scenarios))}"
            ) from None

    def find_platform(self, name: str) -> tuple[Scenario, Platform]:
        """Find a platform by name (case-insensitive) across scenarios."""
        for scenario in self.scenarios.values():
            for platform in scenario.platforms:
                if platform.name.lower() == name.lower():
                    return scenario, platform
        known = sorted(p.name for s in self.scenarios.values() for p in s.platforms)
        raise KeyError(f"unknown platform {name!r}; known: {', '.join(known)}")

    def iter_apis(self, scenario: str | None = None) -> list[tuple[Scenario, Platform, ApiSpec]]:
        """Every (scenario, platform, api) triple, optionally for one scenario."""
        scenarios = [self.scenario(scenario)] if scenario else list(self.scenarios.values())
        return [(s, p, a) for s in scenarios for p in s.platforms for a in p.apis]
