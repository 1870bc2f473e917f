"""pyproject.toml's floors are the versions constraints-min.txt pins, and the installed packages
satisfy them: a floor raised in one file and not the other fails here."""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REQUIREMENT = re.compile(r"^([A-Za-z0-9_.\-]+)(?:\[[^\]]+\])?(>=|==)([0-9][^,;\s]*)$")


def _floors() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = list(project["dependencies"])
    for extra, items in project["optional-dependencies"].items():
        if extra != "gpu":  # vllm: GPU hosts only, never installed here
            requirements += items
    floors = {}
    for requirement in requirements:
        found = REQUIREMENT.match(requirement)
        if found:  # a requirement without a version (a typing stub) has no floor
            floors[found.group(1).lower()] = found.group(3)
    return floors


def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints-min.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, pinned = line.partition("==")
            pins[name.strip().lower()] = pinned.strip()
    return pins


def _key(v: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", v.split("+")[0])[:3])


def test_every_floor_is_pinned_in_constraints_min() -> None:
    assert _floors() == _pins()


def test_the_installed_packages_meet_the_floors() -> None:
    low = {name: (floor, version(name)) for name, floor in _floors().items()
           if _key(version(name)) < _key(floor)}
    assert not low, f"installed below the floor: {low}; run `bash scripts/install.sh`"
