"""The shipped catalog is well-formed, and malformed files are reported with path and field."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from toolcatalog.loader import CatalogError, default_catalog_dir, load_catalog

TRAINING_SCENARIOS = {"shopping", "takeout", "entertainment", "work", "travel"}


def test_shipped_catalog_covers_training_scenarios() -> None:
    catalog = load_catalog()
    assert set(catalog.scenarios) >= TRAINING_SCENARIOS
    for name in TRAINING_SCENARIOS:
        scenario = catalog.scenario(name)
        assert len(scenario.platforms) == 3
        for platform in scenario.platforms:
            assert len(platform.apis) >= 8
            assert len(platform.profile) >= 3, "platforms need characteristics to prefer them by"


def test_every_schema_is_valid_and_required_subset_of_properties() -> None:
    catalog = load_catalog()
    for scenario in catalog.scenarios.values():
        names: set[str] = set()
        for platform in scenario.platforms:
            per_platform = [a.name for a in platform.apis]
            assert len(per_platform) == len(set(per_platform)), platform.name
            names.update(per_platform)
            for api in platform.apis:
                Draft202012Validator.check_schema(api.function.parameters)
                Draft202012Validator.check_schema(api.function.response)
                props = api.function.parameters.get("properties", {})
                assert set(api.required) <= set(props), api.name
        # Unique across the scenario too, so a PTBench tool list never has a name twice.
        assert len(names) == sum(len(p.apis) for p in scenario.platforms)


def test_platforms_of_a_scenario_are_similar_but_not_identical() -> None:
    catalog = load_catalog()
    for scenario in catalog.scenarios.values():
        signatures = [
            tuple(
                sorted(
                    (a.name, tuple(sorted(a.function.parameters.get("properties", {}))))
                    for a in p.apis
                )
            )
            for p in scenario.platforms
        ]
        assert len(set(signatures)) == len(signatures), scenario.name


def _copy_catalog(tmp_path: Path) -> Path:
    target = tmp_path / "catalog"
    target.mkdir()
    for f in default_catalog_dir().glob("*.json"):
        (target / f.name).write_text(f.read_text())
    return target


def test_corrupt_json_names_the_file(tmp_path: Path) -> None:
    directory = _copy_catalog(tmp_path)
    bad = directory / "shopping.json"
    bad.write_text(bad.read_text()[:200])
    with pytest.raises(CatalogError, match=r"shopping\.json: not valid JSON"):
        load_catalog(directory)


def _drop_a_description(doc: dict[str, Any]) -> None:
    del doc["platforms"][1]["apis"][2]["function"]["description"]


def _require_an_unknown_parameter(doc: dict[str, Any]) -> None:
    doc["platforms"][0]["apis"][0]["function"]["parameters"]["required"].append("nope")


def _give_a_parameter_an_unknown_type(doc: dict[str, Any]) -> None:
    properties = doc["platforms"][2]["apis"][0]["function"]["parameters"]["properties"]
    properties[next(iter(properties))]["type"] = "text"


def _repeat_an_api(doc: dict[str, Any]) -> None:
    apis = doc["platforms"][0]["apis"]
    apis.append(apis[0])


@pytest.mark.parametrize(("file", "edit", "message"), [
    pytest.param("travel.json", _drop_a_description,
                 r"travel\.json: field 'platforms\.1\.apis\.2\.function\.description'",
                 id="bad-field-names-the-field"),
    pytest.param("work.json", _require_an_unknown_parameter,
                 r"required': not in properties: nope", id="required-not-in-properties"),
    pytest.param("takeout.json", _give_a_parameter_an_unknown_type, "invalid JSON Schema",
                 id="invalid-json-schema"),
    pytest.param("shopping.json", _repeat_an_api, "duplicate API name", id="duplicate-api-name"),
])
def test_a_malformed_file_is_rejected(tmp_path: Path, file: str,
                                      edit: Callable[[dict[str, Any]], None],
                                      message: str) -> None:
    directory = _copy_catalog(tmp_path)
    path = directory / file
    doc = json.loads(path.read_text())
    edit(doc)
    path.write_text(json.dumps(doc))
    with pytest.raises(CatalogError, match=message):
        load_catalog(directory)


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="not found"):
        load_catalog(tmp_path / "absent")
