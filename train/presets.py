"""Training presets: the paper's LoRA hyper-parameters plus per-machine sizing.

Why presets: the same command must run on this 2-core laptop (a 135M model, a subset of the
data, short sequences) and on a GPU host (Qwen2.5-7B-Instruct in bf16, every example). What
stays fixed across both is the paper's recipe (rank 8, alpha 16, lr 1e-4, cosine, warm-up ratio
0.1, 1 epoch, all linear modules); what a preset changes is only how much data, how long a
sequence and how the batch is laid out. The numbers of the CPU preset are justified in the
training card of the shipped adapter (``train/adapters/ptool-smollm2/README.md``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from train.registry import by_name, lookup


@dataclass(frozen=True)
class LoraSettings:
    """The paper's LoRA recipe (PTBench, section 5.1)."""

    rank: int = 8
    alpha: int = 16
    dropout: float = 0.05
    target_modules: str = "all-linear"
    learning_rate: float = 1e-4
    scheduler: str = "cosine"
    warmup_ratio: float = 0.1
    epochs: float = 1.0


@dataclass(frozen=True)
class RenderSettings:
    """How much retrieved context a training prompt carries: the runtime's compact setting.

    ``history_k`` / ``tools_per_platform`` default to a short prompt (the presets below set
    their own, around the runtime's 12 events and 3 APIs per platform); ``variety`` draws each
    example's values from these
    tuples so the adapter does not overfit one prompt size."""

    history_k: tuple[int, ...] = (5,)
    tools_per_platform: tuple[int, ...] = (3,)


@dataclass(frozen=True)
class Preset:
    """Sizing of one training run. ``max_examples=None`` means the whole training set."""

    name: str
    base: str
    description: str
    max_examples: int | None
    length_percentile: float = 98.0
    max_length_cap: int = 1024
    batch_size: int = 1
    grad_accum: int = 8
    bf16: bool = False
    """Load the weights in bf16 (GPU hosts: halves memory)."""
    autocast_bf16: bool = False
    """Keep fp32 weights but run matmuls in bf16 (CPUs with AVX512-BF16: ~2x faster steps)."""
    gradient_checkpointing: bool = False
    save_every_steps: int = 10
    logging_steps: int = 1
    threads: int | None = None
    lora: LoraSettings = field(default_factory=LoraSettings)
    render: RenderSettings = field(default_factory=RenderSettings)


PRESETS: dict[str, Preset] = by_name(
    Preset(
        name="cpu",
        base="smollm2-135m",
        description=(
            "2-core CPU, SmolLM2-135M, fp32 weights with bf16-autocast matmuls: a 400-example "
            "stratified subset (100 optimizer steps of 4, ~40 s each on an idle machine), "
            "prompts showing 8-16 history events (the runtime shows 12), sequences capped at "
            "1,536 tokens (longer examples are dropped, not truncated), learning rate "
            "4e-4 instead of the paper's 1e-4 because 100 steps are too few for the paper's "
            "rate to move a LoRA adapter far, a checkpoint every 10 steps."
        ),
        max_examples=400,
        max_length_cap=1536,
        batch_size=1,
        grad_accum=4,
        save_every_steps=10,
        autocast_bf16=True,
        lora=LoraSettings(learning_rate=4e-4),
        render=RenderSettings(history_k=(8, 12, 12, 16), tools_per_platform=(2, 3, 3, 4)),
    ),
    Preset(
        name="gpu",
        base="Qwen/Qwen2.5-7B-Instruct",
        description=(
            "One 80 GB GPU, Qwen2.5-7B-Instruct in bf16 (pass a local folder of its weights as "
            "--base): every example, sequences up to 4,096 tokens, effective batch 32, "
            "gradient checkpointing."
        ),
        max_examples=None,
        max_length_cap=4096,
        batch_size=4,
        grad_accum=8,
        bf16=True,
        gradient_checkpointing=True,
        save_every_steps=50,
        logging_steps=5,
        render=RenderSettings(history_k=(3, 5, 5, 8), tools_per_platform=(2, 3, 3, 4)),
    ),
)


def get_preset(name: str) -> Preset:
    """A preset by name; unknown names fail with a "did you mean"."""
    return lookup(PRESETS, name, "preset", ValueError)
