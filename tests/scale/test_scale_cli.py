"""The store commands through the real CLI with the backend given by PTOOL_* variables, as a
deployment sets them: setup (twice), users, history search, forget."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.assistant.conftest import PERSONAS
from ui.cli import app
from ui.settings import Settings

pytestmark = pytest.mark.scale
runner = CliRunner()


def _env(settings: Settings, seed_file: Path) -> dict[str, str]:
    env = {"PTOOL_WORKSPACE": str(settings.workspace), "PTOOL_SEED_FILE": str(seed_file),
           "PTOOL_CATALOG_DIR": str(settings.catalog_dir), "COLUMNS": "400"}
    if settings.database_url:
        env["PTOOL_DATABASE_URL"] = settings.database_url
    if settings.chroma_url:
        env["PTOOL_CHROMA_URL"] = settings.chroma_url
    return env


def test_setup_search_and_forget_from_the_command_line(settings: Settings,
                                                       tmp_path: Path) -> None:
    seed = tmp_path / "personas.json"
    seed.write_text(json.dumps(PERSONAS))
    env = _env(settings, seed)
    first = runner.invoke(app, ["setup"], env=env)
    assert first.exit_code == 0, first.output
    again = runner.invoke(app, ["setup"], env=env)
    assert again.exit_code == 0 and "5 personas (0 new" in again.output, again.output

    users = runner.invoke(app, ["users"], env=env)
    assert users.exit_code == 0 and "alice" in users.output
    found = runner.invoke(app, ["history", "alice", "--search", "burger"], env=env)
    assert found.exit_code == 0 and "cheeseburger" in found.output, found.output
    assert "bob-secret" not in found.output

    forgot = runner.invoke(app, ["forget", "alice", "--yes"], env=env)
    assert forgot.exit_code == 0 and "forgot alice: 4 events" in forgot.output, forgot.output
    users = runner.invoke(app, ["users"], env=env)
    assert "alice" not in users.output and "bob" in users.output
    gone = runner.invoke(app, ["history", "alice"], env=env)
    assert gone.exit_code != 0 and "no such user 'alice'" in gone.output
