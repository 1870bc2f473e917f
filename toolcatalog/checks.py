"""Typed validation of a tool call against its API schema (BFCL-style check results).

Checks run in a fixed order -- function name, required params, unexpected params, types, values --
and stop at the first failing stage, so the error type says what to fix first.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jsonschema import Draft202012Validator
from pydantic import BaseModel, Field

from toolcatalog.models import ApiSpec


class CheckResult(BaseModel):
    """Outcome of validating one call; ``error_type`` is namespaced (``call:missing_required``)."""

    valid: bool
    errors: list[str] = Field(default_factory=list)
    error_type: str | None = None

    @classmethod
    def ok(cls) -> CheckResult:
        return cls(valid=True)

    @classmethod
    def fail(cls, error_type: str, errors: list[str]) -> CheckResult:
        return cls(valid=False, error_type=error_type, errors=errors)


def check_call(name: str, arguments: Any, apis: Mapping[str, ApiSpec]) -> CheckResult:
    """Validate ``name(**arguments)`` against the callable set ``apis`` (name -> spec)."""
    api = apis.get(name)
    if api is None:
        known = ", ".join(sorted(apis)) or "none"
        return CheckResult.fail(
            "call:unknown_function", [f"unknown function {name!r}; callable: {known}"]
        )
    if not isinstance(arguments, Mapping):
        return CheckResult.fail(
            "call:bad_arguments",
            [f"arguments of {name} must be a JSON object, got {type(arguments).__name__}"],
        )
    schema = api.function.parameters
    properties: dict[str, Any] = schema.get("properties", {})
    missing = [p for p in schema.get("required", []) if p not in arguments]
    if missing:
        return CheckResult.fail(
            "call:missing_required", [f"{name}: missing required parameter '{p}'" for p in missing]
        )
    unexpected = [p for p in arguments if p not in properties]
    if unexpected:
        return CheckResult.fail(
            "call:unexpected_param",
            [
                f"{name}: unexpected parameter '{p}' (allowed: {', '.join(properties)})"
                for p in unexpected
            ],
        )
    type_errors: list[str] = []
    value_errors: list[str] = []
    validator = Draft202012Validator(schema)
    for error in validator.iter_errors(dict(arguments)):
        path = ".".join(str(p) for p in error.absolute_path) or "(arguments)"
        message = f"{name}: parameter '{path}': {error.message}"
        (type_errors if error.validator == "type" else value_errors).append(message)
    if type_errors:
        return CheckResult.fail("call:wrong_type", type_errors)
    if value_errors:
        return CheckResult.fail("call:invalid_value", value_errors)
    return CheckResult.ok()
