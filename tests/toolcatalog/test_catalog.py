"""The shipped catalog is well-formed, and malformed files are reported with path and field."""

from __future__ import annotations

import json
from pathlib import Path

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


def test_bad_field_names_the_field(tmp_path: Path) -> None:
    directory = _copy_catalog(tmp_path)
    path = directory / "travel.json"
    doc = json.loads(path.read_text())
    del doc["platforms"][1]["apis"][2]["function"]["description"]
    path.write_text(json.dumps(doc))
    with pytest.raises(
        CatalogError, match=r"travel\.json: field 'platforms\.1\.apis\.2\.function\.description'"
    ):
        load_catalog(directory)


def test_required_not_in_properties_is_rejected(tmp_path: Path) -> None:
    directory = _copy_catalog(tmp_path)
    path = directory / "work.json"
    doc = json.loads(path.read_text())
    doc["platforms"][0]["apis"][0]["function"]["parameters"]["required"].append("nope")
    path.write_text(json.dumps(doc))
    with pytest.raises(CatalogError, match=r"required': not in properties: nope"):
        load_catalog(directory)


def test_invalid_json_schema_is_rejected(tmp_path: Path) -> None:
    directory = _copy_catalog(tmp_path)
    path = directory / "takeout.json"
    doc = json.loads(path.read_text())
    first_param = next(iter(doc["platforms"][2]["apis"][0]["function"]["parameters"]["properties"]))
    doc["platforms"][2]["apis"][0]["function"]["parameters"]["properties"][first_param]["type"] = (
        "text"
    )
    path.write_text(json.dumps(doc))
    with pytest.raises(CatalogError, match="invalid JSON Schema"):
        load_catalog(directory)


def test_duplicate_api_name_is_rejected(tmp_path: Path) -> None:
    directory = _copy_catalog(tmp_path)
    path = directory / "shopping.json"
    doc = json.loads(path.read_text())
    doc["platforms"][0]["apis"].append(doc["platforms"][0]["apis"][0])
    path.write_text(json.dumps(doc))
    with pytest.raises(CatalogError, match="duplicate API name"):
        load_catalog(directory)


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="not found"):
        load_catalog(tmp_path / "absent")
