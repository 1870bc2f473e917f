"""Prompt mode's predictor and the ``ptool bench`` command line (no model is loaded)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
import typer
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from typer.testing import CliRunner

from eval.modes import get_mode
from eval.predictor import EndpointUnavailable, ModeConfig, ModeUnavailable
from eval.prompt_predictor import PromptPredictor, build_messages
from ptbench.samples import load_benchmark
from ui.commands.bench import register


class QueuedChat(BaseChatModel):
    """Replies from a queue; an exception in the queue is raised instead."""

    replies: list[Any]

    @property
    def _llm_type(self) -> str:
        return "queued"

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None,
                  **kwargs: Any) -> ChatResult:
        reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        msg = AIMessage(content=reply, usage_metadata={"input_tokens": 1234, "output_tokens": 9,
                                                       "total_tokens": 1243})
        return ChatResult(generations=[ChatGeneration(message=msg)])


def test_paper_prompt_contents(golden_dir: Path) -> None:
    bench = load_benchmark(golden_dir / "ptbench")
    sample = bench.splits["test_untrained_user"][1]  # profile given as a string
    system, user = build_messages(sample)
    assert user.content == sample.query
    text = str(system.content)
    assert text.startswith("You are given a user profile:" + str(sample.profile_text) + ". \n")
    assert "Here is some platforms:[{'name': 'FoodFast'" in text
    assert "'FoodFast_orderFood'" in text and "'MealHub_trackOrder'" in text
    assert text.endswith("platform:[func1(param1_name = param1_value, param2...), func2...] "
                         "No other text MUST be included.")


def test_prompt_predictor_parses_and_counts_tokens(golden_dir: Path) -> None:
    sample = load_benchmark(golden_dir / "ptbench").splits["test_trained_user"][0]
    chat = QueuedChat(replies=["FoodFast:[FoodFast_orderFood(item='hamburger')]", "no idea"])
    good = PromptPredictor(chat).predict(sample)
    assert good.parsed and good.platform == "FoodFast" and good.prompt_tokens == 1234
    bad = PromptPredictor(chat).predict(sample)
    assert not bad.parsed and bad.raw == "no idea" and bad.parse_error


def test_prompt_predictor_reports_unreachable_endpoint(golden_dir: Path) -> None:
    sample = load_benchmark(golden_dir / "ptbench").splits["test_trained_user"][0]
    request = httpx.Request("POST", "http://127.0.0.1:9/v1")
    err = openai.APIConnectionError(request=request)  # type: ignore[arg-type]
    chat = QueuedChat(replies=[err])
    with pytest.raises(EndpointUnavailable, match=r"cannot use http://127\.0\.0\.1:9/v1"):
        PromptPredictor(chat, endpoint="http://127.0.0.1:9/v1").predict(sample)


@pytest.fixture
def no_assistant(monkeypatch: pytest.MonkeyPatch) -> None:
    """Simulate an installation whose assistant package lacks the benchmark entry point."""
    monkeypatch.setitem(sys.modules, "assistant.benchmark", None)


def test_runtime_mode_without_the_assistant(golden_dir: Path, no_assistant: None) -> None:
    bench = load_benchmark(golden_dir / "ptbench")
    with pytest.raises(ModeUnavailable, match="runtime mode is not available yet"):
        get_mode("runtime")(ModeConfig(base_url="http://127.0.0.1:9/v1"), bench)


def test_modes_registry(golden_dir: Path) -> None:
    bench = load_benchmark(golden_dir / "ptbench")
    with pytest.raises(ModeUnavailable, match="did you mean 'prompt'"):
        get_mode("promt")
    with pytest.raises(EndpointUnavailable, match="--base-url"):
        get_mode("prompt")(ModeConfig(base_url=None), bench)
    predictor = get_mode("prompt")(ModeConfig(base_url="http://127.0.0.1:9/v1"), bench)
    assert isinstance(predictor, PromptPredictor)  # built lazily, no request made


@pytest.fixture
def cli() -> typer.Typer:
    app = typer.Typer()

    @app.command()
    def version() -> None:  # a second command keeps `bench` a named group
        """Unused."""

    register(app)
    return app


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--mode", "runtime", "--base-url", "http://127.0.0.1:9/v1"],
         "runtime mode is not available yet"),
        # Without --base-url the embedded server would start; a dead endpoint must stop the run.
        (["--mode", "prompt", "--base-url", "http://127.0.0.1:9/v1"], "endpoint unreachable"),
    ],
)
def test_cli_mode_messages(cli: typer.Typer, golden_dir: Path, tmp_path: Path,
                           no_assistant: None, args: list[str], message: str) -> None:
    res = CliRunner().invoke(cli, ["bench", "--data", str(golden_dir / "ptbench"),
                                   "--out", str(tmp_path), *args])
    assert res.exit_code == 1
    assert message in " ".join(res.output.split())


def test_cli_bad_data(cli: typer.Typer, golden_dir: Path, tmp_path: Path) -> None:
    res = CliRunner().invoke(cli, ["bench", "--data", str(golden_dir / "bad/unknown_platform.json"),
                                   "--out", str(tmp_path), "--mode", "prompt"])
    assert res.exit_code == 1
    assert "UberEats" in res.output and "--lenient" in res.output


def test_cli_requires_data_and_compare_needs_reports(cli: typer.Typer, tmp_path: Path) -> None:
    res = CliRunner().invoke(cli, ["bench"])
    assert res.exit_code == 2 and "--data and --out are required" in res.output
    res = CliRunner().invoke(cli, ["bench", "compare", str(tmp_path), str(tmp_path)])
    assert res.exit_code == 1 and "report.json not found" in " ".join(res.output.split())
