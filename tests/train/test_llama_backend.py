"""The llama.cpp engine: GGUF LoRA conversion, and the served answers against the peft model's.

The equivalence test is the claim that matters: with the shipped adapter, the llama.cpp server
(F32 re-encoding of the shipped GGUF, with the converted LoRA applied at run time or merged into
the weights) gives exactly the constrained answers of the torch server running the unmerged peft
model in float32 on the de-quantized weights the adapter was trained on, for a fixed set of
benchmark prompts built by the assistant's own benchmark path. The default BF16 serving rounds
the weights: it must pick the same platform and API everywhere (measured: 6 of 8 answers
identical to the last character; the torch engine's merged BF16 weights: 5 of 8).
Requests decoded together (several sequences per forward pass) must give the answers they get one
at a time. Marked ``model``: five servers, ~5 minutes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from train.base_models import find_gguf, get_spec
from train.serving.gguf_lora import LoraConversionError, _permute, convert_lora

ROOT = Path(__file__).resolve().parents[2]
ADAPTER = ROOT / "train" / "adapters" / "ptool-smollm2"
SPLIT = ROOT / "eval" / "data" / "ptbench_synth" / "test_untrained_user" / "data.json"
PROMPTS = 8


def _fields(path: Path) -> dict[str, Any]:
    import gguf

    reader = gguf.GGUFReader(str(path))
    meta = {k: v.contents() for k, v in reader.fields.items() if not k.startswith("GGUF.")}
    return {"meta": meta, "tensors": {t.name: t for t in reader.tensors}}


def test_converted_adapter_names_every_lora_pair_for_llama_cpp(tmp_path: Path) -> None:
    out = convert_lora(ADAPTER, find_gguf(get_spec("smollm2-135m")), tmp_path / "a.gguf")
    read = _fields(out)
    assert read["meta"]["general.type"] == "adapter"
    assert read["meta"]["adapter.type"] == "lora"
    assert read["meta"]["adapter.lora.alpha"] == pytest.approx(16.0)
    names = set(read["tensors"])
    assert len(names) == 30 * 7 * 2  # 30 layers x 7 linear modules x (A, B)
    for module in ("attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"):
        assert {f"blk.0.{module}.weight.lora_a", f"blk.29.{module}.weight.lora_b"} <= names
    # GGUF stores dimensions reversed: lora_a [in, r], lora_b [r, out] -- what llama.cpp checks.
    assert list(read["tensors"]["blk.0.attn_q.weight.lora_a"].shape) == [576, 8]
    assert list(read["tensors"]["blk.0.attn_k.weight.lora_b"].shape) == [8, 192]


def test_query_rows_are_permuted_like_llama_cpp_permutes_the_base_weights() -> None:
    """Head h's rotary halves [0..d/2) and [d/2..d) become interleaved pairs."""
    rows = np.arange(8, dtype=np.float32).reshape(8, 1)  # 2 heads of dimension 4
    assert _permute(rows, 2).ravel().tolist() == [0, 2, 1, 3, 4, 6, 5, 7]


def test_non_llama_base_is_refused_with_a_hint(tmp_path: Path) -> None:
    import gguf

    base = tmp_path / "g.gguf"
    writer = gguf.GGUFWriter(str(base), "gemma3")
    for key, value in (("block_count", 1), ("attention.head_count", 1),
                       ("attention.head_count_kv", 1)):
        writer.add_uint32(f"gemma3.{key}", value)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    with pytest.raises(LoraConversionError, match="--backend torch"):
        convert_lora(ADAPTER, base, tmp_path / "out.gguf")


@pytest.fixture(scope="module")
def workspace(request: pytest.FixtureRequest) -> Path:
    return Path(request.config.cache.mkdir("ptool-train-workspace"))


def _answers(workspace: Path, extra: list[str], samples: list[dict[str, Any]],
             clients: int = 1) -> list[str]:
    """The raw answers to ``samples``, sent by ``clients`` threads at once."""
    from concurrent.futures import ThreadPoolExecutor

    from assistant.benchmark import run_benchmark_sample
    from profiles.embeddings import embed_texts
    from train.serving.client import make_chat_model
    from train.serving.embedded import embedded_server

    with embedded_server(workspace=workspace, extra=extra) as server:
        model = make_chat_model(server.url, "ptool", max_retries=0, timeout=300)

        def answer(sample: dict[str, Any]) -> str:
            out = run_benchmark_sample(sample, model, embed=embed_texts, history_k=5,
                                       tools_per_platform=3, max_new_tokens=160, max_repairs=0)
            return str(out["raw"])

        with ThreadPoolExecutor(clients) as pool:
            return list(pool.map(answer, samples))


@pytest.fixture(scope="module")
def answers(workspace: Path) -> Iterator[dict[str, list[str]]]:
    pytest.importorskip("llama_cpp", reason="install: pip install llama-cpp-python==0.3.36")
    samples = json.loads(SPLIT.read_text(encoding="utf-8"))[:PROMPTS]
    yield {
        "llama.cpp f32 lora": _answers(
            workspace, ["--backend", "llama.cpp", "--gguf-weights", "f32", "--no-merge"], samples),
        "llama.cpp f32 merged": _answers(
            workspace, ["--backend", "llama.cpp", "--gguf-weights", "f32"], samples),
        "llama.cpp bf16": _answers(workspace, ["--backend", "llama.cpp", "--parallel", "1"],
                                   samples),
        "llama.cpp bf16 batched": _answers(workspace, ["--backend", "llama.cpp"], samples,
                                           clients=4),
        "peft": _answers(
            workspace, ["--backend", "torch", "--dtype", "float32", "--no-merge",
                        "--prefix-cache", "0"], samples),
    }


@pytest.mark.model
def test_llama_cpp_serves_the_same_answers_as_the_peft_model(
    answers: dict[str, list[str]],
) -> None:
    assert all(answers["peft"]), answers["peft"]  # the reference answered every prompt
    for ours, reference in zip(answers["llama.cpp f32 lora"], answers["peft"], strict=True):
        assert ours == reference
    for ours, reference in zip(answers["llama.cpp f32 merged"], answers["peft"], strict=True):
        assert ours == reference


@pytest.mark.model
def test_requests_decoded_together_get_the_answers_they_get_alone(
    answers: dict[str, list[str]],
) -> None:
    """4 clients at once on the default 4 sequences: each forward pass carries several requests
    (and prompts copy cached prefixes from other sequences), yet every answer is the one the
    same server gives one request at a time."""
    assert answers["llama.cpp bf16 batched"] == answers["llama.cpp bf16"]


@pytest.mark.model
def test_bf16_serving_picks_the_peft_models_platform_and_api(
    answers: dict[str, list[str]],
) -> None:
    for ours, reference in zip(answers["llama.cpp bf16"], answers["peft"], strict=True):
        assert ours.split("(")[0] == reference.split("(")[0]
