"""LoRA supervised fine-tuning with TRL's ``SFTTrainer`` and peft.

Why TRL + peft and nothing custom: the trainer already does checkpointing, resumption, cosine
schedules, gradient accumulation and a progress bar; what this module adds is the project's
part -- which base model (bundled weights, never a hub), which examples (rendered by the
runtime's own prompt code, see ``train/dataset.py``), the paper's LoRA recipe, and where the
result goes (a PEFT adapter folder that the embedded server and ``vllm --lora-modules`` load).

Loss masking: the dataset is handed to TRL already tokenized, with ``input_ids`` and a
``completion_mask`` that is 1 only on the answer tokens (and the end-of-turn token);
``completion_only_loss=True`` makes TRL turn every other position into ``-100`` labels.

Checkpoints (LoRA weights + optimizer state, tens of MB) live under ``<out>/checkpoints`` with
only the latest kept, so a run interrupted on a laptop can be committed and resumed elsewhere
with ``--resume``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ptbench.records import TrainingRecord, read_records
from train.presets import Preset

log = logging.getLogger(__name__)

RUN_CONFIG = "run_config.json"
"""What a run was started with; ``--resume`` refuses a different dataset or recipe."""


@dataclass(frozen=True)
class TrainRequest:
    """One ``ptool train`` invocation."""

    data: Path
    out: Path
    preset: Preset
    base: str | None = None
    max_examples: int | None = None
    max_steps: int | None = None
    save_steps: int | None = None
    resume: bool = False
    seed: int = 0
    variety: bool = True
    retrieve: bool = True
    """Rank tools and history with the bundled embedder (the runtime's compact prompt); False
    shows every tool and event (the paper's full prompt, no embedding model needed)."""
    workspace: Path = Path("data")
    init_adapter: Path | None = None
    """Continue from this adapter's weights instead of a fresh LoRA (a second stage with other
    examples or settings); the recipe (rank, modules) is the saved adapter's."""
    threads: int | None = None
    progress: bool = True


@dataclass
class TrainResult:
    """What a finished (or stopped) run produced."""

    adapter_dir: Path
    examples: int
    dropped_too_long: int
    max_length: int
    steps: int
    wall_seconds: float
    train_loss: float | None
    log_history: list[dict[str, Any]] = field(default_factory=list)


def resolve_base(base: str, workspace: Path) -> Path:
    """A local folder of base weights: a bundled model's converted copy (``smollm2-135m``) or
    any folder given as a path (e.g. Qwen2.5-7B-Instruct on a GPU host). Never a hub id."""
    path = Path(base).expanduser()
    if path.is_dir():
        return path
    from train.base_models import BASE_MODELS, ensure_converted

    if base in BASE_MODELS or "/" not in base:
        return ensure_converted(workspace, base)
    raise FileNotFoundError(
        f"base {base!r} is neither a bundled model ({', '.join(BASE_MODELS)}) nor a local folder; "
        "this project never downloads from a model hub: copy the weights to a folder and pass it"
    )


def _read_data(path: Path) -> list[dict[str, Any]] | list[TrainingRecord]:
    """Training records (``ptool synth train``), or pre-rendered ``{"id", "messages"}`` lines."""
    if not path.is_file():
        raise FileNotFoundError(f"no training data at {path}; write it with "
                                f"`ptool synth train --out {path}`")
    with path.open(encoding="utf-8") as fh:
        first = next((line for line in fh if line.strip()), "{}")
    if "messages" in json.loads(first):
        with path.open(encoding="utf-8") as fh:
            return [json.loads(line) for line in fh if line.strip()]
    return list(read_records(path))


def _examples(request: TrainRequest, rows: list[dict[str, Any]] | list[TrainingRecord],
              limit: int | None) -> list[Any]:
    """Rendered examples from training records, or the pre-rendered lines as they are."""
    from train.dataset import Example, build_examples, scenario_and_user, select_records

    if rows and isinstance(rows[0], dict):
        lines = select_records([r for r in rows if isinstance(r, dict)], limit, request.seed)
        return [Example(id=str(r.get("id", i)), prompt=r["messages"][:-1],
                        answer=r["messages"][-1]["content"]) for i, r in enumerate(lines)]
    records = [r for r in rows if isinstance(r, TrainingRecord)]
    chosen = select_records(records, limit, request.seed, scenario_and_user)
    embed = None
    if request.retrieve:
        from profiles.embeddings import CachedEmbedder, embed_texts

        embed = CachedEmbedder(embed_texts)
    return build_examples(chosen, render=request.preset.render, embed=embed,
                          seed=request.seed, variety=request.variety,
                          progress=_bar("rendering prompts", request.progress))


def _bar(desc: str, enabled: bool) -> Any:
    def wrap(items: Iterable[Any]) -> Iterable[Any]:
        if not enabled:
            return items
        from tqdm.auto import tqdm

        return tqdm(items, desc=desc)

    return wrap


def _fingerprint(encoded: list[Any]) -> str:
    digest = hashlib.sha256()
    for e in encoded:
        digest.update(json.dumps(e.input_ids).encode())
    return digest.hexdigest()[:16]


def _check_resume(out: Path, config: dict[str, Any]) -> None:
    saved_path = out / RUN_CONFIG
    if not saved_path.is_file():
        return
    saved = json.loads(saved_path.read_text())
    keys = ("data_fingerprint", "max_length", "lora", "batch_size", "grad_accum", "max_steps",
            "init_adapter")
    diff = [k for k in keys if saved.get(k) != config.get(k)]
    if diff:
        raise ValueError(f"cannot resume {out}: {', '.join(diff)} differ from the saved run "
                         f"({saved_path}); start a new --out or rerun with the same options")


def _load_init_adapter(model: Any, adapter_dir: Path) -> Any:
    """The base model wrapped with a saved adapter, its LoRA weights trainable."""
    from peft import PeftModel

    if not (adapter_dir / "adapter_config.json").is_file():
        raise FileNotFoundError(f"--init-adapter {adapter_dir}: no adapter_config.json there; "
                                "pass a folder written by `ptool train`")
    return PeftModel.from_pretrained(model, str(adapter_dir), is_trainable=True)


def _last_checkpoint(ckpt_dir: Path) -> str | None:
    from transformers.trainer_utils import get_last_checkpoint

    return get_last_checkpoint(str(ckpt_dir)) if ckpt_dir.is_dir() else None


def train(request: TrainRequest) -> TrainResult:
    """Fine-tune a LoRA adapter and save it (PEFT format) under ``request.out``."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import torch
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    from train.dataset import choose_max_length, encode

    preset = request.preset
    threads = request.threads or preset.threads
    if threads:
        torch.set_num_threads(threads)
    base_dir = resolve_base(request.base or preset.base, request.workspace)
    tokenizer = AutoTokenizer.from_pretrained(base_dir)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token

    limit = request.max_examples if request.max_examples is not None else preset.max_examples
    examples = _examples(request, _read_data(request.data), limit)
    encoded = [encode(tokenizer, e) for e in examples]
    max_length = choose_max_length([len(e.input_ids) for e in encoded],
                                   preset.length_percentile, preset.max_length_cap)
    kept = [e for e in encoded if len(e.input_ids) <= max_length]
    dropped = len(encoded) - len(kept)
    log.info("%d examples, max_length %d (%d longer ones dropped)", len(kept), max_length, dropped)
    dataset = Dataset.from_list([{"input_ids": e.input_ids, "completion_mask": e.completion_mask}
                                 for e in kept])

    out = request.out
    ckpt_dir = out / "checkpoints"
    lora = preset.lora
    config = {
        "base": request.base or preset.base, "preset": preset.name, "data": str(request.data),
        "examples": len(kept), "dropped_too_long": dropped, "max_length": max_length,
        "data_fingerprint": _fingerprint(kept), "seed": request.seed, "variety": request.variety,
        "retrieve": request.retrieve, "lora": asdict(lora), "batch_size": preset.batch_size,
        "grad_accum": preset.grad_accum,
        "max_steps": request.max_steps, "render": asdict(preset.render),
        "init_adapter": str(request.init_adapter) if request.init_adapter else None,
    }
    resume_from = _last_checkpoint(ckpt_dir) if request.resume else None
    if request.resume:
        _check_resume(out, config)
        if resume_from is None:
            log.warning("--resume: no checkpoint under %s, starting from scratch", ckpt_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / RUN_CONFIG).write_text(json.dumps(config, indent=2) + "\n")

    dtype = torch.bfloat16 if preset.bf16 else torch.float32
    model = AutoModelForCausalLM.from_pretrained(base_dir, dtype=dtype)
    peft_config = None  # --init-adapter: the loaded adapter is the one trained
    if request.init_adapter is not None:
        model = _load_init_adapter(model, request.init_adapter)
    else:
        peft_config = LoraConfig(r=lora.rank, lora_alpha=lora.alpha, lora_dropout=lora.dropout,
                                 target_modules=lora.target_modules, task_type="CAUSAL_LM")
    args = SFTConfig(
        output_dir=str(ckpt_dir),
        per_device_train_batch_size=preset.batch_size,
        gradient_accumulation_steps=preset.grad_accum,
        learning_rate=lora.learning_rate,
        lr_scheduler_type=lora.scheduler,
        warmup_steps=lora.warmup_ratio,
        num_train_epochs=lora.epochs,
        max_steps=request.max_steps if request.max_steps is not None else -1,
        logging_steps=preset.logging_steps,
        logging_first_step=True,
        save_strategy="steps",
        save_steps=request.save_steps or preset.save_every_steps,
        save_total_limit=1,
        max_length=max_length,
        completion_only_loss=True,
        bf16=preset.bf16 or preset.autocast_bf16,
        gradient_checkpointing=preset.gradient_checkpointing,
        use_cpu=not torch.cuda.is_available(),
        report_to="none",
        seed=request.seed,
        data_seed=request.seed,
        disable_tqdm=not request.progress,
        dataloader_num_workers=0,
    )
    trainer = SFTTrainer(model=model, args=args, train_dataset=dataset,
                         processing_class=tokenizer, peft_config=peft_config)
    started = time.monotonic()
    output = trainer.train(resume_from_checkpoint=resume_from)
    wall = time.monotonic() - started
    trainer.save_model(str(out))  # adapter_config.json + adapter_model.safetensors
    # The trainer also pickles its arguments; an adapter that ships must not hold a pickle
    # (loading one runs code), and run_config.json already records the settings.
    (out / "training_args.bin").unlink(missing_ok=True)
    history = list(trainer.state.log_history)
    (out / "log_history.json").write_text(json.dumps(history, indent=1) + "\n")
    return TrainResult(adapter_dir=out, examples=len(kept), dropped_too_long=dropped,
                       max_length=max_length, steps=trainer.state.global_step, wall_seconds=wall,
                       train_loss=output.training_loss, log_history=history)
