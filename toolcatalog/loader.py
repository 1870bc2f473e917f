"""Load the catalog's data files into typed models, with errors that name file and field."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from pydantic import ValidationError

from toolcatalog.models import Catalog, Scenario


class CatalogError(ValueError):
    """A catalog file is missing, unreadable or malformed. The message names the file and field."""


def default_catalog_dir() -> Path:
    """The catalog shipped inside the package (``toolcatalog/data/catalog``)."""
    return Path(str(resources.files("toolcatalog") / "data" / "catalog"))


def load_scenario(path: Path) -> Scenario:
    """Parse and check one scenario file; raise :class:`CatalogError` naming the bad field."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CatalogError(f"{path}: cannot read catalog file ({exc.strerror})") from exc
    except json.JSONDecodeError as exc:
        raise CatalogError(f"{path}: not valid JSON at line {exc.lineno}: {exc.msg}") from exc
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise CatalogError(f"{path}: field '{where}': {first['msg']}") from exc
    _check_scenario(scenario, path)
    return scenario


def _check_scenario(scenario: Scenario, path: Path) -> None:
    """Checks pydantic cannot express: valid JSON Schemas, unique names, required ⊆ properties."""
    seen: set[str] = set()
    for p_idx, platform in enumerate(scenario.platforms):
        for a_idx, api in enumerate(platform.apis):
            where = f"platforms.{p_idx}.apis.{a_idx}.function"
            if api.name in seen:
                raise CatalogError(f"{path}: field '{where}.name': duplicate API name {api.name!r}")
            seen.add(api.name)
            for part in ("parameters", "response"):
                schema = getattr(api.function, part)
                try:
                    Draft202012Validator.check_schema(schema)
                except SchemaError as exc:
                    raise CatalogError(
                        f"{path}: field '{where}.{part}': invalid JSON Schema: {exc.message}"
                    ) from exc
            params = api.function.parameters
            if params.get("type") != "object":
                raise CatalogError(f"{path}: field '{where}.parameters.type': must be 'object'")
            missing = set(params.get("required", [])) - set(params.get("properties", {}))
            if missing:
                raise CatalogError(
                    f"{path}: field '{where}.parameters.required': not in properties: "
                    f"{', '.join(sorted(missing))}"
                )
            if api.effect != "read" and not api.record:
                raise CatalogError(f"{path}: field '{where}': effect {api.effect!r} needs a record")


def load_catalog(directory: Path | None = None) -> Catalog:
    """Load every ``*.json`` scenario file of a catalog directory (default: the shipped one)."""
    directory = directory or default_catalog_dir()
    if not directory.is_dir():
        raise CatalogError(f"{directory}: catalog directory not found")
    files = sorted(directory.glob("*.json"))
    if not files:
        raise CatalogError(f"{directory}: no scenario files (*.json) in catalog directory")
    scenarios: dict[str, Scenario] = {}
    platform_owner: dict[str, str] = {}
    for path in files:
        scenario = load_scenario(path)
        if scenario.name in scenarios:
            raise CatalogError(f"{path}: field 'name': scenario {scenario.name!r} defined twice")
        for platform in scenario.platforms:
            if platform.name in platform_owner:
                raise CatalogError(
                    f"{path}: field 'platforms': platform {platform.name!r} already defined in "
                    f"scenario {platform_owner[platform.name]!r}"
                )
            platform_owner[platform.name] = scenario.name
        scenarios[scenario.name] = scenario
    return Catalog(scenarios=scenarios)
