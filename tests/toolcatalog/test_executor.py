"""Mock APIs: validate first, answer deterministically within the response schema, keep state."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from profiles.db import init_db, make_engine
from toolcatalog import state
from toolcatalog.checks import check_call
from toolcatalog.executor import MockExecutor
from toolcatalog.loader import load_catalog
from toolcatalog.models import ApiSpec, Catalog


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    init_db(engine)
    yield engine
    engine.dispose()


def _sample_value(schema: dict[str, Any]) -> Any:
    if "enum" in schema:
        return schema["enum"][0]
    return {
        "integer": 2,
        "number": 9.5,
        "boolean": True,
        "array": ["a@example.com"],
        "object": {},
    }.get(schema.get("type", "string"), "sample text")


def _valid_args(api: ApiSpec) -> dict[str, Any]:
    props = api.function.parameters.get("properties", {})
    return {name: _sample_value(props[name]) for name in api.required}


def _records(engine: Engine) -> list[state.ApiRecord]:
    with Session(engine) as session:
        return list(session.exec(select(state.ApiRecord)).all())


def test_every_api_answers_within_its_response_schema(catalog: Catalog, engine: Engine) -> None:
    executor = MockExecutor(catalog, engine)
    for _, platform, api in catalog.iter_apis():
        if api.effect in ("cancel", "update"):
            continue  # need an existing record; covered below
        result = executor.execute(
            owner="u1", platform=platform.name, name=api.name, arguments=_valid_args(api)
        )
        assert result.check.valid, (api.name, result.check.errors)
        if "error" in result.response:
            assert api.effect == "lookup", api.name  # looking up an id that does not exist
            continue
        assert not list(Draft202012Validator(api.function.response).iter_errors(result.response))


def test_read_calls_are_deterministic(catalog: Catalog, engine: Engine) -> None:
    executor = MockExecutor(catalog, engine)
    _, platform, api = next(t for t in catalog.iter_apis() if t[2].effect == "read")
    args = _valid_args(api)
    first = executor.execute(owner="u1", platform=platform.name, name=api.name, arguments=args)
    second = executor.execute(owner="u1", platform=platform.name, name=api.name, arguments=args)
    assert first.response == second.response


def _order_apis(catalog: Catalog) -> tuple[str, ApiSpec, ApiSpec, ApiSpec]:
    for scenario in catalog.scenarios.values():
        for p in scenario.platforms:
            create = next((a for a in p.apis if a.effect == "create" and a.record == "order"), None)
            lookup = next(
                (
                    a
                    for a in p.apis
                    if a.effect == "lookup"
                    and a.record == "order"
                    and any(k.endswith("_id") for k in a.required)
                ),
                None,
            )
            cancel = next((a for a in p.apis if a.effect == "cancel" and a.record == "order"), None)
            if create and lookup and cancel:
                return p.name, create, lookup, cancel
    raise AssertionError("catalog has no order create/lookup/cancel trio")


def test_state_changing_calls_are_remembered_per_user(catalog: Catalog, engine: Engine) -> None:
    executor = MockExecutor(catalog, engine)
    platform, create, lookup, cancel = _order_apis(catalog)
    placed = executor.execute(
        owner="alice", platform=platform, name=create.name, arguments=_valid_args(create)
    )
    assert placed.ok
    order_id = next(v for k, v in placed.response.items() if k.endswith("_id"))
    id_param = next(k for k in lookup.required if k.endswith("_id"))

    tracked = executor.execute(
        owner="alice", platform=platform, name=lookup.name, arguments={id_param: order_id}
    )
    assert tracked.ok and order_id in tracked.response.values()

    # Another user cannot see alice's order.
    other = executor.execute(
        owner="bob", platform=platform, name=lookup.name, arguments={id_param: order_id}
    )
    assert "error" in other.response

    cancelled = executor.execute(
        owner="alice", platform=platform, name=cancel.name, arguments={id_param: order_id}
    )
    assert cancelled.ok and cancelled.response.get("status") == "cancelled"
    again = executor.execute(
        owner="alice", platform=platform, name=cancel.name, arguments={id_param: order_id}
    )
    assert "already cancelled" in again.response["error"]


@pytest.mark.parametrize(
    ("mutate", "error_type"),
    [
        (lambda args, api: args.pop(api.required[0]), "call:missing_required"),
        (lambda args, api: args.__setitem__("not_a_param", 1), "call:unexpected_param"),
        (
            lambda args, api: args.__setitem__(
                next(k for k in args if isinstance(args[k], str)), 42
            ),
            "call:wrong_type",
        ),
    ],
)
def test_invalid_calls_execute_nothing(
    catalog: Catalog, engine: Engine, mutate: Any, error_type: str
) -> None:
    executor = MockExecutor(catalog, engine)
    platform, create, _, _ = _order_apis(catalog)
    args = _valid_args(create)
    mutate(args, create)
    result = executor.execute(owner="alice", platform=platform, name=create.name, arguments=args)
    assert not result.check.valid
    assert result.check.error_type == error_type
    assert "error" in result.response
    assert _records(engine) == []


def test_unknown_function_and_platform(catalog: Catalog, engine: Engine) -> None:
    executor = MockExecutor(catalog, engine)
    platform, _, _, _ = _order_apis(catalog)
    result = executor.execute(owner="a", platform=platform, name="deleteAccount", arguments={})
    assert result.check.error_type == "call:unknown_function"
    result = executor.execute(owner="a", platform="Nowhere", name="x", arguments={})
    assert result.check.error_type == "call:unknown_platform"
    assert "error" in result.response


def test_check_order_name_before_values(catalog: Catalog) -> None:
    _, platform, api = next(t for t in catalog.iter_apis() if t[2].required)
    apis = {a.name: a for a in platform.apis}
    # Missing required is reported before an unexpected parameter.
    result = check_call(api.name, {"bogus": 1}, apis)
    assert result.error_type == "call:missing_required"
    assert check_call(api.name, "not a dict", apis).error_type == "call:bad_arguments"
