"""``ptool synth ...``: generate the catalog, personas, frozen benchmark and training set."""

from __future__ import annotations

import json
import time
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

if TYPE_CHECKING:
    from synth.models import World
    from toolcatalog.models import Scenario
from rich.markup import escape

console = Console()
synth_app = typer.Typer(
    help="Data synthesis (PTool pipeline): catalog, personas, benchmark, train set.",
    no_args_is_help=True,
)

SeedOpt = Annotated[int, typer.Option("--seed", help="World seed (same seed -> same bytes).")]


def _pkg_dir(package: str) -> Path:
    from importlib import resources

    return Path(str(resources.files(package)))


def _targets(out: Path | None) -> dict[str, Path]:
    """Where outputs go: the package data folders by default, or a layout under ``out``."""
    if out is None:
        return {
            "catalog": _pkg_dir("toolcatalog") / "data" / "catalog",
            "personas": _pkg_dir("profiles") / "data" / "personas.json",
            "bench": _pkg_dir("eval") / "data" / "ptbench_synth",
        }
    return {
        "catalog": out / "catalog",
        "personas": out / "personas.json",
        "bench": out / "ptbench_synth",
    }


def _world(seed: int, with_train: bool = True):  # type: ignore[no-untyped-def]
    from synth.world import WorldConfig, build_world

    with console.status(f"building the world (seed {seed})..."):
        return build_world(WorldConfig(seed=seed, with_train=with_train))


class Backend(StrEnum):
    procedural = "procedural"
    llm = "llm"


def _llm_world(seed: int, base_url: str | None, model: str, users: int,
               scenarios: list[str], out: Path) -> tuple[World, dict[str, Scenario]]:
    """The paper's LLM-driven pipeline against an OpenAI-compatible endpoint (the embedded
    server when ``base_url`` is unset). Every call is cached under ``out``, so a re-run
    resumes instead of paying again."""
    from synth.backends.llm import LLMBackend, LLMWorldConfig
    from synth.backends.runner import StructuredRunner
    from train.serving.client import chat_model
    from ui.settings import Settings

    config = LLMWorldConfig(seed=seed, scenarios=tuple(scenarios), users=users)
    out.mkdir(parents=True, exist_ok=True)
    with chat_model(base_url, model, workspace=Settings().workspace, max_tokens=1024) as llm:
        runner = StructuredRunner(model=llm, cache_path=out / "llm_calls.jsonl")
        return LLMBackend(runner, config).build()


@synth_app.command()
def world(
    seed: SeedOpt = 0,
    out: Annotated[
        Path | None,
        typer.Option(help="Write under this folder instead of the package data folders."),
    ] = None,
    backend: Annotated[Backend, typer.Option(
        help="procedural: the offline, deterministic generator (the shipped data); llm: the "
        "paper's LLM-driven pipeline against --base-url (needs --out).")] = Backend.procedural,
    base_url: Annotated[str | None, typer.Option(
        help="llm backend: an OpenAI-compatible endpoint (default: the embedded server).")
    ] = None,
    model: Annotated[str, typer.Option(help="llm backend: the model name to send.")] = "ptool",
    users: Annotated[int, typer.Option(min=1, help="llm backend: personas to act out.")] = 4,
    scenario: Annotated[list[str] | None, typer.Option(
        help="llm backend: scenarios to generate (repeatable; default: shopping).")] = None,
) -> None:
    """Generate everything: catalog, personas, the frozen benchmark, stats (deterministic with
    the procedural backend)."""
    from synth.stats import leakage, markdown_table, world_stats
    from synth.tools import write_catalog
    from synth.writers import write_benchmark, write_personas, write_rejections

    if backend is Backend.llm and out is None:
        console.print("[red]--backend llm writes under --out; it never replaces the shipped "
                      "data[/red]")
        raise typer.Exit(2)
    start = time.perf_counter()
    if backend is Backend.llm and out is not None:
        w, catalog = _llm_world(seed, base_url, model, users, scenario or ["shopping"], out)
    else:
        w, catalog = _world(seed)
    t = _targets(out)
    write_catalog(catalog.values(), t["catalog"])
    write_personas(w, t["personas"])
    files = write_benchmark(w, catalog, t["bench"])
    n_rej = write_rejections(w, t["bench"] / "rejections.jsonl")
    table = markdown_table(world_stats(w, catalog))
    leaks = "\n".join(f"- {k}: {v}" for k, v in leakage(w).items())
    (t["bench"] / "STATS.md").write_text(
        f"# Synthetic PTBench (seed {seed})\n\n{table}\n\n## Leakage check\n\n{leaks}\n",
        encoding="utf-8",
    )
    for path in [t["catalog"], t["personas"], *files]:
        console.print(f"wrote {escape(str(path))}")
    console.print(
        f"{len(w.samples)} samples, {len(w.rejections)} rejected "
        f"({n_rej} in test splits, logged), {time.perf_counter() - start:.1f}s"
    )


@synth_app.command()
def tools(
    out: Annotated[Path | None, typer.Option(help="Catalog folder (default: shipped).")] = None,
) -> None:
    """Regenerate the tool catalog (stage 1) and check it loads."""
    from synth.tools import write_catalog
    from synth.world import build_catalog
    from toolcatalog.loader import load_catalog

    target = out or _targets(None)["catalog"]
    paths = write_catalog(build_catalog().values(), target)
    catalog = load_catalog(target)
    n = sum(len(p.apis) for s in catalog.scenarios.values() for p in s.platforms)
    console.print(f"wrote {len(paths)} scenario files, {n} APIs, to {escape(str(target))}")


@synth_app.command()
def train(
    out: Annotated[Path, typer.Option(help="JSONL file of training records.")],
    seed: SeedOpt = 0,
    inline_tools: Annotated[bool, typer.Option(help="Embed full tool specs (~200 MB).")] = False,
) -> None:
    """Write the training records (the format of ptbench/records.py)."""
    from synth.writers import write_jsonl, write_train

    w, catalog = _world(seed)
    n = write_train(w, catalog, out, inline_tools=inline_tools)
    rej = write_jsonl(
        (r.model_dump() for r in w.rejections if r.split == "train"),
        out.with_suffix(".rejections.jsonl"),
    )
    console.print(f"wrote {n} records to {escape(str(out))} ({rej} rejected drafts logged)")


@synth_app.command()
def stats(seed: SeedOpt = 0) -> None:
    """Dataset statistics (paper Table 5 style) and the train/test leakage check."""
    from synth.stats import leakage, markdown_table, world_stats

    w, catalog = _world(seed)
    console.print(markdown_table(world_stats(w, catalog)))
    for key, value in leakage(w).items():
        console.print(f"{key}: {value}")


@synth_app.command()
def baselines(
    seed: SeedOpt = 0,
    bench: Annotated[Path | None, typer.Option(help="Benchmark folder (default: shipped).")] = None,
) -> None:
    """Trivial baselines, the history reader and the latent-rule oracle on the frozen benchmark."""
    from synth.baselines import evaluate, oracle_platforms, reader_platforms

    folder = bench or _targets(None)["bench"]
    w, _ = _world(seed, with_train=False)
    oracle, reader = oracle_platforms(w), reader_platforms(w)
    everything: list[dict[str, Any]] = []
    console.print("| split | baseline | platform % | overall % |\n|---|---|---|---|")
    for split in ("test_trained_user", "test_untrained_user", "test_unseen_scenario", None):
        if split is None:
            rows, split = everything, "trained+untrained"
        else:
            path = folder / split / "data.json"
            if not path.exists():
                raise typer.BadParameter(f"{path} missing; run `ptool synth world` first")
            rows = json.loads(path.read_text(encoding="utf-8"))
            if split != "test_unseen_scenario":
                everything += rows
        for name, r in evaluate(rows, oracle, reader).items():
            console.print(
                f"| {split} | {name} | {100 * r['platform']:.1f} | {100 * r['overall']:.1f} |"
            )


def register(app: typer.Typer) -> None:
    """Add the ``synth`` sub-app to the ``ptool`` command line."""
    app.add_typer(synth_app, name="synth")
