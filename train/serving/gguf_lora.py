"""Convert a peft LoRA adapter for llama.cpp (the ``gguf`` package only): as a GGUF LoRA adapter
applied at run time, or merged into a copy of the base weights.

Why our own converter: llama.cpp's ``convert_lora_to_gguf.py`` is a script in its source tree,
not in any package, and it needs the base model in Hugging Face layout. What it does for a
Llama-family model is small: rename every peft tensor to llama.cpp's name (``blk.3.attn_q``),
keep ``lora_A`` / ``lora_B`` as they are, permute the output rows of the query and key
``lora_B`` the way llama.cpp's converter permutes the base ``q_proj`` / ``k_proj`` weights
(its rotary embedding pairs dimensions differently), and record alpha. The result is checked by
a test that compares the served answers with the peft model's.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np

_PEFT_KEY = re.compile(
    r"^base_model\.model\.(?P<module>.+)\.lora_(?P<which>[AB])\.weight$"
)


_ARCH = "llama"  # the only architecture whose tensor names and q/k permutation are handled here


class LoraConversionError(ValueError):
    """The adapter cannot be expressed as a llama.cpp LoRA (say what is unsupported)."""


def _permute(rows: np.ndarray, n_head: int) -> np.ndarray:
    """llama.cpp's q/k row order: the halves of each head's rotary pairs are interleaved."""
    return (
        rows.reshape(n_head, 2, rows.shape[0] // n_head // 2, *rows.shape[1:])
        .swapaxes(1, 2)
        .reshape(rows.shape)
    )


def _base_hparams(base_gguf: Path) -> tuple[str, int, int, int]:
    """(architecture, layers, heads, kv heads) read from the base model's GGUF metadata."""
    import gguf

    reader = gguf.GGUFReader(str(base_gguf))

    def field(key: str) -> object:
        value = reader.fields.get(key)
        if value is None:
            raise LoraConversionError(f"{base_gguf.name} has no {key!r} metadata")
        return value.contents()

    arch = str(field("general.architecture"))
    layers = int(str(field(f"{arch}.block_count")))
    heads = int(str(field(f"{arch}.attention.head_count")))
    kv_heads = int(str(field(f"{arch}.attention.head_count_kv")))
    return arch, layers, heads, kv_heads


def _check_supported(adapter_dir: Path, config: dict[str, object], arch: str) -> None:
    if config.get("use_dora") or config.get("modules_to_save") or config.get("rank_pattern") \
            or config.get("alpha_pattern") or config.get("use_rslora"):
        raise LoraConversionError(
            f"{adapter_dir}: DoRA, rsLoRA, per-module ranks or saved modules are not supported "
            "by the GGUF converter; serve it with --backend torch"
        )
    if arch != _ARCH:
        raise LoraConversionError(
            f"GGUF LoRA conversion supports Llama-family bases, not {arch!r}; "
            "serve this adapter with --backend torch"
        )


Pairs = dict[str, dict[str, np.ndarray]]


def lora_pairs(adapter_dir: Path, base_gguf: Path) -> tuple[float, Pairs]:
    """(alpha, {llama.cpp weight name: {"a": A [r, in], "b": B [out, r]}}) in llama.cpp's layout
    (query / key ``B`` rows permuted), float32."""
    import gguf
    from safetensors.numpy import load_file

    config = json.loads((adapter_dir / "adapter_config.json").read_text(encoding="utf-8"))
    arch, layers, heads, kv_heads = _base_hparams(base_gguf)
    _check_supported(adapter_dir, config, arch)
    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH.LLAMA, layers)
    pairs: Pairs = {}
    for key, value in load_file(str(adapter_dir / "adapter_model.safetensors")).items():
        match = _PEFT_KEY.match(key)
        if match is None:
            raise LoraConversionError(f"{adapter_dir}: unexpected tensor {key!r}")
        module, which = match["module"], match["which"]
        target = names.get_name(f"{module}.weight", try_suffixes=(".weight",))
        if target is None:
            raise LoraConversionError(f"{adapter_dir}: no llama.cpp tensor for {module!r}")
        data = value.astype(np.float32)
        if which == "B" and module.endswith("q_proj"):
            data = _permute(data, heads)
        elif which == "B" and module.endswith("k_proj"):
            data = _permute(data, kv_heads)
        pairs.setdefault(target, {})[which.lower()] = data
    return float(config["lora_alpha"]), pairs


def convert_lora(adapter_dir: Path, base_gguf: Path, out: Path) -> Path:
    """Write ``out``: the peft adapter in ``adapter_dir`` as a GGUF LoRA for ``base_gguf``."""
    import gguf

    alpha, pairs = lora_pairs(adapter_dir, base_gguf)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    writer = gguf.GGUFWriter(str(tmp), _ARCH)
    writer.add_type(gguf.GGUFType.ADAPTER)
    writer.add_string(gguf.Keys.Adapter.TYPE, "lora")
    writer.add_float32(gguf.Keys.Adapter.LORA_ALPHA, alpha)
    for target in sorted(pairs):
        for which in ("a", "b"):
            writer.add_tensor(f"{target}.lora_{which}", pairs[target][which])
    _finish(writer, tmp, out)
    return out


def merge_lora(adapter_dir: Path, base_f32_gguf: Path, out: Path) -> Path:
    """Write ``out``: ``base_f32_gguf`` (every tensor F32) with the adapter merged into its
    weights, ``W + (alpha / r) B A`` -- what peft's ``merge_and_unload`` computes.

    Why merge: a run-time LoRA adds two small matrix products per linear layer and token;
    merged, an adapter request runs as fast as the base (measured in train/README.md). The
    caller re-encodes the F32 result (e.g. to BF16) with llama.cpp's quantizer."""
    import gguf

    alpha, pairs = lora_pairs(adapter_dir, base_f32_gguf)
    reader = gguf.GGUFReader(str(base_f32_gguf))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    writer = gguf.GGUFWriter(str(tmp), _ARCH, use_temp_file=True)  # tensors spool to disk, not RAM
    for field in reader.fields.values():
        if field.name.startswith("GGUF.") or field.name == gguf.Keys.General.ARCHITECTURE:
            continue
        kind = field.types[0]
        sub = field.types[-1] if kind == gguf.GGUFValueType.ARRAY else None
        writer.add_key_value(field.name, field.contents(), kind, sub_type=sub)
    merged = set()
    for tensor in reader.tensors:
        if tensor.tensor_type != gguf.GGMLQuantizationType.F32:
            raise LoraConversionError(f"{base_f32_gguf.name}: {tensor.name} is not F32")
        data = np.array(tensor.data, dtype=np.float32)
        pair = pairs.get(tensor.name)
        if pair is not None:
            rank = pair["a"].shape[0]
            data = data + (alpha / rank) * (pair["b"] @ pair["a"])
            merged.add(tensor.name)
        writer.add_tensor(tensor.name, data)
    missing = sorted(set(pairs) - merged)
    if missing:
        raise LoraConversionError(f"{adapter_dir}: no base tensor for {', '.join(missing[:3])}")
    _finish(writer, tmp, out)
    return out


def _finish(writer: Any, tmp: Path, out: Path) -> None:
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    tmp.replace(out)
