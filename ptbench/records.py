"""Training records: one synthesized request with its gold answer, one JSON object a line.

``ptool synth train`` writes them (``synth.writers``); the trainers read them (``train/``):
the LoRA's examples, the preference model and router, the intent scorer. The record is stable
on purpose: prompts are rendered from it at training time by the runtime's own renderer, so a
prompt change never needs new records. Tools are referenced by name unless written with
``--inline-tools`` (8,000 x 72 full specs would be ~200 MB); the trainer resolves names against
the catalog.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from ptbench.answers import Call, ParsedOutput, render_text


class RecordFormatError(ValueError):
    """A line of a records file is not a training record; the message names file and line."""


class Gold(BaseModel):
    """The right answer: the platform and the calls with their values."""

    platform: str
    calls: list[Call] = Field(default_factory=list)

    def text(self, calls: list[Call] | None = None) -> str:
        """The answer in the paper's text form (``calls`` reorders them, e.g. into the order the
        answer grammar allows)."""
        return render_text(ParsedOutput(platform=self.platform,
                                        calls=self.calls if calls is None else calls))


class Annotations(BaseModel):
    """What the synthesizer knows about a request beyond its answer (never shown to a model)."""

    query_params: list[str] = Field(default_factory=list)
    profile_params: list[str] = Field(default_factory=list)
    sources: dict[str, dict[str, str]] = Field(default_factory=dict)
    """Per call, per parameter: ``"query"`` or the profile field the value came from."""
    accepted: dict[str, dict[str, list[Any]]] = Field(default_factory=dict)
    """Per call, per parameter: every value a scorer accepts."""
    intent: str | None = None
    explicit_platform: bool = False


class TrainingRecord(BaseModel):
    """One training request. ``profile`` is PTBench's ``user_profile`` (``basic_features`` and
    ``user_history``); ``platforms`` are ``{"name", "profile"}``; ``tools`` are API names or
    OpenAI tool specs."""

    record_version: Literal[1] = 1
    id: str
    user_id: str
    scenario: str
    profile: dict[str, Any]
    platforms: list[dict[str, Any]]
    tools: list[str | dict[str, Any]]
    query: str
    gold: Gold
    annotations: Annotations = Field(default_factory=Annotations)

    def tool_specs(self) -> list[dict[str, Any]]:
        """The tools as specs; names must have been resolved first (``train.dataset``)."""
        specs = [t for t in self.tools if isinstance(t, dict)]
        if len(specs) != len(self.tools):
            raise ValueError(f"record {self.id}: tools are names; resolve them against the "
                             "catalog first")
        return specs


def read_records(path: Path) -> Iterator[TrainingRecord]:
    """Every record of a ``.jsonl`` file (blank lines skipped)."""
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                yield TrainingRecord.model_validate(json.loads(line))
            except (json.JSONDecodeError, ValidationError) as exc:
                raise RecordFormatError(
                    f"{path}:{number}: not a training record ({str(exc).splitlines()[0][:200]}); "
                    "write records with `ptool synth train --out FILE`") from exc
