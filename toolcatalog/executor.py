"""Deterministic mock platform APIs.

A call is validated against its schema first (nothing runs on failure). A valid call produces a
response built from the API's response schema, seeded by the call itself, so the same call on the
same state always answers the same. APIs whose ``effect`` changes state keep per-owner records in
the database, which is what lets "track my order" find the order placed a turn earlier.
Bad calls return ``{"error": ...}`` instead of raising: the caller shows the message to the model
or the user.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from jsonschema import Draft202012Validator
from pydantic import BaseModel, Field
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from toolcatalog import state
from toolcatalog.checks import CheckResult, check_call
from toolcatalog.models import ApiSpec, Catalog, Platform

_STATUS_AFTER = {"create": "confirmed", "cancel": "cancelled", "update": "updated"}


class ExecutionResult(BaseModel):
    """What executing one call gave: the check result and the platform's response."""

    platform: str
    name: str
    arguments: dict[str, Any]
    check: CheckResult
    response: dict[str, Any] = Field(default_factory=dict)
    replayed: bool = Field(default=False, description="Already executed under this key; "
                           "the stored response, nothing ran again.")

    @property
    def ok(self) -> bool:
        return self.check.valid and "error" not in self.response


def _seed(*parts: Any) -> int:
    blob = json.dumps(parts, sort_keys=True, default=str).encode()
    return int.from_bytes(hashlib.sha256(blob).digest()[:8], "big")


def _fake_value(schema: dict[str, Any], key: str, seed: int, args: dict[str, Any]) -> Any:
    """A deterministic value of the schema's type; echoes a same-named argument."""
    if key in args:
        return args[key]
    kind = schema.get("type", "string")
    if "enum" in schema:
        return schema["enum"][seed % len(schema["enum"])]
    if kind == "integer":
        return 1 + seed % 60
    if kind == "number":
        return round(5 + (seed % 50000) / 100, 2)
    if kind == "boolean":
        return bool(seed % 2)
    if kind == "array":
        item_schema = schema.get("items", {"type": "object"})
        return [_fake_item(item_schema, seed + k, args) for k in range(1 + seed % 3)]
    if kind == "object":
        return _fake_object(schema, seed, args)
    return f"{key}-{seed % 100000:05d}"


def _fake_item(schema: dict[str, Any], seed: int, args: dict[str, Any]) -> Any:
    if schema.get("type", "object") == "object" and not schema.get("properties"):
        # Search-like results: an item that mentions what was asked for.
        subject = next((str(v) for v in args.values() if isinstance(v, str)), "item")
        return {
            "id": f"ID-{seed % 100000:05d}",
            "name": f"{subject} #{1 + seed % 9}",
            "price": round(5 + (seed % 20000) / 100, 2),
            "rating": round(3 + (seed % 20) / 10, 1),
        }
    return _fake_value(schema, "item", seed, {})


def _fake_object(schema: dict[str, Any], seed: int, args: dict[str, Any]) -> dict[str, Any]:
    props: dict[str, Any] = schema.get("properties", {})
    if not props:
        return _fake_item(schema, seed, args)
    return {k: _fake_value(v, k, seed + n, args) for n, (k, v) in enumerate(props.items())}


class MockExecutor:
    """Executes catalog APIs for an owner against the database-backed mock state."""

    def __init__(self, catalog: Catalog, engine: Engine) -> None:
        self._catalog = catalog
        self._engine = engine
        self._handlers: dict[str, Callable[..., dict[str, Any]]] = {
            "read": self._read,
            "create": self._create,
            "lookup": self._lookup,
            "update": self._change,
            "cancel": self._change,
        }

    def execute(self, *, owner: str, platform: str, name: str, arguments: Any,
                key: str | None = None) -> ExecutionResult:
        """Validate and run ``platform.name(**arguments)`` for ``owner``.

        With an idempotency ``key``, the call runs at most once: the key is stored in the same
        transaction as the effect, and a second call with that key (even from another process)
        gets the first call's response back with ``replayed=True``."""
        try:
            _, plat = self._catalog.find_platform(platform)
        except KeyError as exc:
            check = CheckResult.fail("call:unknown_platform", [str(exc.args[0])])
            return ExecutionResult(
                platform=platform,
                name=name,
                arguments={},
                check=check,
                response={"error": str(exc.args[0])},
            )
        apis = {a.name: a for a in plat.apis}
        check = check_call(name, arguments, apis)
        args = dict(arguments) if isinstance(arguments, dict) else {}
        if not check.valid:
            return ExecutionResult(
                platform=plat.name,
                name=name,
                arguments=args,
                check=check,
                response={"error": "; ".join(check.errors)},
            )
        api = apis[name]
        with Session(self._engine) as session:
            done = session.get(state.ExecutedCall, key) if key else None
            if done is not None:
                return ExecutionResult(platform=plat.name, name=name, arguments=args,
                                       check=check, response=done.response, replayed=True)
            response = self._handlers[api.effect](session, owner, plat, api, args)
            if key:
                session.add(state.ExecutedCall(key=key, owner=owner, response=response))
            try:
                session.commit()
            except IntegrityError:  # another process committed this key first
                session.rollback()
                done = session.get(state.ExecutedCall, key)
                return ExecutionResult(platform=plat.name, name=name, arguments=args,
                                       check=check, response=done.response if done else {},
                                       replayed=True)
        if "error" not in response:
            _check_response(api, response)
        return ExecutionResult(
            platform=plat.name, name=name, arguments=args, check=check, response=response
        )

    def _read(
        self, session: Session, owner: str, plat: Platform, api: ApiSpec, args: dict[str, Any]
    ) -> dict[str, Any]:
        return _fake_object(api.function.response, _seed(plat.name, api.name, args), args)

    def _create(
        self, session: Session, owner: str, plat: Platform, api: ApiSpec, args: dict[str, Any]
    ) -> dict[str, Any]:
        assert api.record is not None  # the loader guarantees it
        n = state.count_records(session=session, owner=owner, platform=plat.name, record=api.record)
        seed = _seed(owner, plat.name, api.name, args, n)
        record_id = f"{api.record[:3].upper()}-{plat.name[:3].upper()}-{seed % 1000000:06d}"
        status = _STATUS_AFTER["create"]
        response = _fake_object(api.function.response, seed, args)
        for key in api.function.response.get("properties", {}):
            if key.endswith("_id"):
                response[key] = record_id
        if "status" in response:
            response["status"] = status
        session.add(
            state.ApiRecord(
                owner=owner,
                platform=plat.name,
                record=api.record,
                record_id=record_id,
                status=status,
                payload={"api": api.name, "arguments": args, "response": response},
            )
        )
        return response

    def _lookup(
        self, session: Session, owner: str, plat: Platform, api: ApiSpec, args: dict[str, Any]
    ) -> dict[str, Any]:
        assert api.record is not None
        record_id = _record_id_arg(args)
        if record_id is None:
            limit = int(args.get("limit", 20))
            rows = state.list_records(
                session=session, owner=owner, platform=plat.name, record=api.record, limit=limit
            )
            items = [
                {"id": r.record_id, "status": r.status, **r.payload.get("arguments", {})}
                for r in rows
            ]
            key = next(iter(api.function.response.get("properties", {"items": None})))
            return {key: items}
        row = state.find_record(
            session=session, owner=owner, platform=plat.name, record=api.record, record_id=record_id
        )
        if row is None:
            return {"error": f"no {api.record} {record_id!r} on {plat.name} for this user"}
        return _record_response(api, row)

    def _change(
        self, session: Session, owner: str, plat: Platform, api: ApiSpec, args: dict[str, Any]
    ) -> dict[str, Any]:
        assert api.record is not None
        record_id = _record_id_arg(args)
        row = (
            None
            if record_id is None
            else state.find_record(
                session=session,
                owner=owner,
                platform=plat.name,
                record=api.record,
                record_id=record_id,
            )
        )
        if row is None:
            return {"error": f"no {api.record} {record_id!r} on {plat.name} for this user"}
        if row.status == "cancelled":
            return {"error": f"{api.record} {record_id!r} is already cancelled"}
        row.status = _STATUS_AFTER[api.effect]
        session.add(row)
        return _record_response(api, row)


def _record_id_arg(args: dict[str, Any]) -> str | None:
    return next((str(v) for k, v in args.items() if k.endswith("_id")), None)


def _record_response(api: ApiSpec, row: state.ApiRecord) -> dict[str, Any]:
    stored = dict(row.payload.get("response", {}))
    response = _fake_object(api.function.response, _seed(row.record_id), stored)
    for key in response:
        if key.endswith("_id"):
            response[key] = row.record_id
    if "status" in response:
        response["status"] = row.status
    return response


def _check_response(api: ApiSpec, response: dict[str, Any]) -> None:
    """A mock that breaks its own response schema is a bug in the catalog or here: fail loudly."""
    errors = list(Draft202012Validator(api.function.response).iter_errors(response))
    if errors:
        raise AssertionError(f"{api.name}: mock response breaks its schema: {errors[0].message}")
