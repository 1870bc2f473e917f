"""The LLM backend end to end against a fake chat model with recorded structured responses."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from synth.backends.llm import LLMBackend
from synth.backends.runner import StructuredFailure, StructuredRunner
from tests.synth.fakes import ONE_USER, SMALL_WORLD, RecordedChatModel


def _runner(model: RecordedChatModel, cache: Path | None = None) -> StructuredRunner:
    return StructuredRunner(
        model=model, cache_path=cache, concurrency=3, backoff_s=0.0, show_progress=False
    )


def test_end_to_end_verifies_and_rejects(tmp_path: Path) -> None:
    runner = _runner(RecordedChatModel.from_fixture(fail_first=2), tmp_path / "cache.jsonl")
    world, catalog = LLMBackend(runner, SMALL_WORLD).build(personas=[ONE_USER])
    scenario = catalog["shopping"]
    assert [p.name for p in scenario.platforms] == ["Alpha", "Beta"]
    assert {a.name for a in scenario.platforms[1].apis} == {"Beta_place_order", "Beta_track_order"}
    assert all(e.platform in {"Alpha", "Beta"} for e in world.events)  # unknown platform dropped
    accepted = {s.query for s in world.samples}
    assert accepted == {"order 2 Rioja for me pls"}
    assert world.samples[0].profile_params == ["delivery_address"]
    types = {t for r in world.rejections for t in r.error_types}
    assert "call:missing_required" in types  # the recorded track-order solution has no order_id
    assert runner.usage.retries == 2 and runner.usage.calls > 0
    assert runner.usage.input_tokens > 0 and runner.usage.output_tokens > 0


def test_resume_uses_the_cache(tmp_path: Path) -> None:
    cache = tmp_path / "cache.jsonl"
    recording = _runner(RecordedChatModel.from_fixture(), cache)
    first, _ = LLMBackend(recording, SMALL_WORLD).build([ONE_USER])
    dead = RecordedChatModel.from_fixture(fail_first=10**6)  # any model call would fail
    runner = _runner(dead, cache)
    second, _ = LLMBackend(runner, SMALL_WORLD).build([ONE_USER])
    assert [s.query for s in second.samples] == [s.query for s in first.samples]
    assert dead.calls == 0 and runner.usage.cached > 0


def test_gives_up_after_retries() -> None:
    runner = StructuredRunner(
        model=RecordedChatModel.from_fixture(fail_first=100),
        max_retries=2,
        backoff_s=0.0,
        show_progress=False,
    )
    with pytest.raises(StructuredFailure, match="platforms/shopping"):
        LLMBackend(runner, SMALL_WORLD).build_catalog()


def test_the_cli_runs_the_llm_backend_into_its_own_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from ui.cli import app

    @contextmanager
    def recorded(*args: object, **kwargs: object) -> Iterator[RecordedChatModel]:
        yield RecordedChatModel.from_fixture()

    monkeypatch.setattr("train.serving.client.chat_model", recorded)
    runner = CliRunner()
    refused = runner.invoke(app, ["synth", "world", "--backend", "llm"])
    assert refused.exit_code == 2 and "--out" in refused.output
    done = runner.invoke(app, ["synth", "world", "--backend", "llm", "--out", str(tmp_path),
                               "--users", "1"], env={"PTOOL_WORKSPACE": str(tmp_path / "ws")})
    assert done.exit_code == 0, done.output
    assert (tmp_path / "catalog" / "shopping.json").is_file()
    assert (tmp_path / "personas.json").is_file() and (tmp_path / "llm_calls.jsonl").is_file()
    assert (tmp_path / "ptbench_synth" / "STATS.md").is_file()
