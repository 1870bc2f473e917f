"""LoRA SFT smoke test on the real bundled model: a few steps on a handful of examples.

Checks what a broken pipeline would get wrong silently: the training prompt is the prompt the
runtime's graph sends, the loss covers only the answer, and the saved adapter loads with peft
and changes the model's output.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ptbench.records import TrainingRecord
from train.dataset import Example, encode, runtime_prompt

if TYPE_CHECKING:
    from train.presets import Preset
    from train.sft import TrainResult

pytestmark = pytest.mark.model

BASE = "smollm2-135m"


def _tool(platform: str, name: str, params: dict[str, str], required: list[str]) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": f"{platform}_{name}",
            "description": f"{name} ({platform})",
            "parameters": {
                "type": "object",
                "required": required,
                "properties": {k: {"type": "string", "description": v} for k, v in params.items()},
            },
        },
    }


def _record(n: int) -> TrainingRecord:
    """A tiny training record, tools inline (no catalog needed)."""
    users = [
        ("Ana Lopez", "ana@example.com", "1 Main St"),
        ("Bo Chen", "bo@example.com", "2 Elm Rd"),
    ]
    name, email, home = users[n % 2]
    platform = ("FastFood", "SlowFood")[n % 2]
    tools = [
        _tool(p, "orderFood", {"dish": "Dish", "address": "Delivery address"}, ["dish", "address"])
        for p in ("FastFood", "SlowFood")
    ]
    dish = ("burger", "pizza", "salad")[n % 3]
    return TrainingRecord.model_validate({
        "id": f"t{n}",
        "user_id": f"u{n % 2}",
        "scenario": "takeout",
        "profile": {
            "basic_features": {"name": name, "email": email, "home_address": home},
            "user_history": {"takeout": [{"platform": platform, "action": "ordered soup"}]},
        },
        "platforms": [
            {"name": "FastFood", "profile": {"speed": "fast"}},
            {"name": "SlowFood", "profile": {"speed": "slow"}},
        ],
        "tools": tools,
        "query": f"order me a {dish}",
        "gold": {
            "platform": platform,
            "calls": [
                {"name": f"{platform}_orderFood", "arguments": {"dish": dish, "address": home}}
            ],
        },
    })


def _train(data: Path, out: Path, preset: Preset, workspace: Path, max_steps: int,
           **options: Any) -> TrainResult:
    """A short run on the inline records (no retrieval: the tools are in each record), quiet."""
    from train.sft import TrainRequest, train

    return train(TrainRequest(data=data, out=out, preset=preset, max_steps=max_steps,
                              retrieve=False, workspace=workspace, progress=False, **options))


@pytest.fixture(scope="module")
def workspace(request: pytest.FixtureRequest) -> Path:
    return Path(request.config.cache.mkdir("ptool-train-workspace"))


def test_training_prompt_is_the_prompt_the_graph_sends() -> None:
    from assistant.benchmark import run_benchmark_sample
    from tests.assistant.conftest import QueueChatModel

    record = _record(0)
    reply = "FastFood:[FastFood_orderFood(dish='x', address='y')]"
    model = QueueChatModel(replies=[reply, reply])  # the answer and its one repair round
    run_benchmark_sample(
        {
            "user_profile": record.profile,
            "platforms": record.platforms,
            "tools": record.tools,
            "query": record.query,
        },
        model,
        preference="hint", grounding=False,  # nothing narrows: every candidate is listed
    )
    roles = {"system": "system", "human": "user", "ai": "assistant"}
    sent = [{"role": roles[m.type], "content": str(m.content)} for m in model.seen[0]]
    assert sent == runtime_prompt(record, embed=None, history_k=None, tools_per_platform=None,
                                  preference="hint")


def test_loss_mask_covers_only_the_answer(workspace: Path) -> None:
    from transformers import AutoTokenizer

    from train.base_models import ensure_converted

    tokenizer = AutoTokenizer.from_pretrained(ensure_converted(workspace, BASE))
    prompt = runtime_prompt(_record(1), embed=None, history_k=None, tools_per_platform=None)
    answer = "SlowFood:[SlowFood_orderFood(dish='pizza', address='2 Elm Rd')]"
    enc = encode(tokenizer, Example(id="x", prompt=prompt, answer=answer))
    # The prompt part is exactly what the embedded server feeds the model
    # (train/serving/prepare.py).
    served = tokenizer(
        tokenizer.apply_chat_template(prompt, add_generation_prompt=True, tokenize=False),
        add_special_tokens=False,
    )["input_ids"]
    n_prompt = enc.completion_mask.index(1)
    assert enc.input_ids[:n_prompt] == served and set(enc.completion_mask[:n_prompt]) == {0}
    trained = tokenizer.decode(enc.input_ids[n_prompt:])
    assert trained.startswith(answer) and tokenizer.eos_token in trained


def test_a_few_steps_save_an_adapter_that_loads_and_changes_the_output(
    workspace: Path, tmp_path: Path
) -> None:
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from train.presets import get_preset
    from train.sft import resolve_base

    data = tmp_path / "records.jsonl"
    data.write_text("".join(_record(n).model_dump_json() + "\n" for n in range(4)))
    cpu = get_preset("cpu")
    preset = replace(
        cpu,
        grad_accum=1,
        save_every_steps=1,
        logging_steps=1,
        lora=replace(cpu.lora, learning_rate=1e-3),
    )
    out = tmp_path / "adapter"
    result = _train(data, out, preset, workspace, max_steps=2)
    assert result.steps == 2 and result.examples == 4
    assert (out / "adapter_config.json").is_file() and (out / "adapter_model.safetensors").is_file()
    assert not (out / "training_args.bin").exists()  # no pickle in an adapter
    assert any("loss" in h for h in result.log_history)
    assert list((out / "checkpoints").glob("checkpoint-*/optimizer.pt"))

    # Resuming restores the trainer state from the checkpoint (it does not start over).
    # transformers 5 runs one extra step when resumed exactly at max_steps, hence ">=".
    again = _train(data, out, preset, workspace, max_steps=2, resume=True)
    assert again.steps >= 2 and again.log_history[0]["step"] == 1

    base_dir = resolve_base(BASE, workspace)
    tokenizer = AutoTokenizer.from_pretrained(base_dir)
    prompt = runtime_prompt(_record(2), embed=None, history_k=None, tools_per_platform=None)
    ids = tokenizer.apply_chat_template(
        prompt, add_generation_prompt=True, return_tensors="pt", return_dict=True
    )["input_ids"]
    base = AutoModelForCausalLM.from_pretrained(base_dir)
    with torch.no_grad():
        before = base(ids).logits[0, -1]
        tuned = PeftModel.from_pretrained(base, str(out))
        after = tuned(ids).logits[0, -1]
    assert float((after - before).abs().max()) > 1e-3

    # A run with --init-adapter starts from the saved adapter's weights, not a fresh LoRA
    # (whose B matrices are zero): with a zero learning rate one step leaves them as they were.
    from safetensors.torch import load_file

    continued = tmp_path / "continued"
    frozen = replace(preset, lora=replace(preset.lora, learning_rate=0.0))
    _train(data, continued, frozen, workspace, max_steps=1, init_adapter=out)
    first = load_file(str(out / "adapter_model.safetensors"))
    second = load_file(str(continued / "adapter_model.safetensors"))
    assert first.keys() == second.keys()
    assert any(float(t.abs().max()) > 0 for k, t in first.items() if "lora_B" in k)
    assert all(torch.equal(first[k], second[k]) for k in first)
    assert json.loads((continued / "run_config.json").read_text())["init_adapter"] == str(out)


def test_init_adapter_must_be_an_adapter_folder(tmp_path: Path) -> None:
    from train.sft import _load_init_adapter

    with pytest.raises(FileNotFoundError, match=r"adapter_config\.json"):
        _load_init_adapter(object(), tmp_path)

