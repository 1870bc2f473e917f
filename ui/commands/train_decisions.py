"""``ptool train preference`` and ``ptool train router``: the runtime's small decision models.

Only wiring lives here: synthesized worlds (``synth``) give the records and labels, the fitting
is in ``train/preference.py`` and ``train/routing.py``, the weights go to ``assistant/data/``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Protocol

import typer
from rich.console import Console
from rich.markup import escape

from ui.errors import fail

console = Console()


def _say(message: str) -> None:
    console.print(escape(message))


def _seeds(text: str) -> list[int]:
    try:
        return [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise fail(f"--seeds {text!r}: expected comma-separated integers, e.g. 1,2",
                   code=2) from None


def _out_option(shipped: str) -> Any:
    """``--out`` of a command that writes one of the shipped weights files."""
    return typer.Option(
        "--out", help=f"Weights file (default: the shipped assistant/data/{shipped}).")


def _seeds_option(trained: str) -> Any:
    """``--seeds`` of a command trained on synthesized requests, one world per seed."""
    return typer.Option("--seeds", help=f"World seeds whose requests train {trained}.")


def _dev_seed_option(chosen: str) -> Any:
    """``--dev-seed``: the held-out world (see :func:`_training_seeds`)."""
    return typer.Option("--dev-seed", help=f"World seed whose requests choose {chosen}.")


def _training_seeds(seeds: str, dev_seed: int) -> list[int]:
    """``--seeds`` as integers, none of them the ``--dev-seed``: the dev world must be one the
    model never saw."""
    seed_list = _seeds(seeds)
    if dev_seed in seed_list:
        raise fail("--dev-seed must differ from the training seeds", code=2)
    return seed_list


class _Weights(Protocol):
    def save(self, path: Path) -> None: ...


def _save(weights: _Weights, out: Path | None, shipped: Path) -> Path:
    """Write trained weights to ``--out``, or over the shipped file; returns where."""
    target = out or shipped
    target.parent.mkdir(parents=True, exist_ok=True)
    weights.save(target)
    return target


def _world(seed: int):  # type: ignore[no-untyped-def]
    from synth.world import WorldConfig, build_world

    with console.status(f"building the synthesized world (seed {seed})..."):
        return build_world(WorldConfig(seed=seed))[0]


def preference_command(
    out: Annotated[Path | None, _out_option("preference.npz")] = None,
    seeds: Annotated[str, typer.Option(
        "--seeds", help="World seeds whose training split is used (comma-separated; seed 0 is "
        "the frozen benchmark's world, whose test splits are never read).")] = "0",
    dev_share: Annotated[float, typer.Option(
        "--dev-share", min=0.05, max=0.5, help="Share of training users held out for model "
        "selection and the constrain threshold.")] = 0.15,
    seed: Annotated[int, typer.Option("--seed", help="Dev split and variety seed.")] = 0,
    cold_only: Annotated[bool, typer.Option(
        "--cold-only", help="Refit only the cold-start layer (users without history) on the "
        "shipped weights, leaving the layers that read history as they are.")] = False,
) -> None:
    """Train the preference model (which platform this user would pick) on synthesized
    training users; prints dev accuracy next to the baselines it must beat."""
    from assistant.preference import PreferenceModelMissing, shipped_model_path, shipped_weights
    from profiles.embeddings import CachedEmbedder, embed_texts
    from train.preference import (
        cold_examples,
        fit,
        fit_cold,
        split_users,
        synthesized,
        train_and_dev,
    )

    data = synthesized(_seeds(seeds), _world)
    dev_users = split_users([r.user_id for r in data.records], dev_share, seed)
    train, dev = train_and_dev(data, data.records, dev_users, seed)
    _say(f"{len(train)} training requests, {len(dev)} dev requests ({len(dev_users)} dev users)")
    embed = CachedEmbedder(embed_texts)
    if cold_only:
        try:
            weights = shipped_weights()
        except PreferenceModelMissing as exc:
            raise fail(f"{exc} (--cold-only refits the cold-start layer of shipped "
                       "weights)") from None
        cold = fit_cold(weights, cold_examples(train, data.traits, seed),
                        cold_examples(dev, data.traits, seed + 1), embed, progress=_say)
        target = _save(weights.with_cold_layer(cold.coef), out, shipped_model_path())
        console.print(f"| dev users ({len(dev)} requests, no history) | platform accuracy |\n"
                      f"|---|---|\n| cold start | {cold.dev_accuracy:.3f} |\n"
                      f"| cold start, profile states preferences | "
                      f"{cold.dev_accuracy_stated:.3f} |")
        console.print(f"C={cold.c}; wrote {target}")
        return
    report = fit(train, dev, embed, data.labels, traits=data.traits, seed=seed, progress=_say)
    target = _save(report.weights, out, shipped_model_path())
    console.print(f"| dev users ({report.n_dev} requests) | platform accuracy |\n|---|---|")
    for name, value in report.baselines.items():
        console.print(f"| {escape(name)} (users with history) | {value:.3f} |")
    console.print(f"| preference model, users with history | {report.dev_accuracy:.3f} |")
    console.print(f"| preference model, the same requests without history | "
                  f"{report.dev_accuracy_cold:.3f} |")
    console.print(f"| ... of which the profile states preferences | "
                  f"{report.dev_accuracy_cold_stated:.3f} |")
    console.print(f"constrain threshold {report.weights.threshold:.2f}: covers "
                  f"{report.threshold_coverage:.1%} of dev requests at "
                  f"{report.threshold_accuracy:.1%} accuracy; C={report.pair_c}/"
                  f"{report.platform_c}/{report.cold_c}; wrote {target}")


def router_command(
    out: Annotated[Path | None, _out_option("router.npz")] = None,
    seeds: Annotated[str, _seeds_option("the router")] = "1,2",
    dev_seed: Annotated[int, _dev_seed_option("C and the threshold")] = 3,
) -> None:
    """Train the scenario router on synthesized requests of every scenario plus the catalog's
    API texts (worlds of other seeds than the frozen benchmark's)."""
    from assistant.routing import shipped_router_path
    from profiles.embeddings import CachedEmbedder, embed_texts
    from synth.decisions import scenario_requests
    from toolcatalog.loader import load_catalog
    from train.routing import catalog_texts, fit_router

    seed_list = _training_seeds(seeds, dev_seed)
    train = catalog_texts(load_catalog())
    for world_seed in seed_list:
        train.extend(scenario_requests(_world(world_seed)))
    dev = scenario_requests(_world(dev_seed))
    report = fit_router(train, dev, CachedEmbedder(embed_texts), progress=_say)
    target = _save(report.weights, out, shipped_router_path())
    console.print(f"router: dev accuracy {report.dev_accuracy:.3f} on {report.n_dev} requests; "
                  f"confident (p >= {report.weights.threshold:.2f}) on "
                  f"{report.dev_confident_share:.1%} at {report.dev_confident_accuracy:.1%}; "
                  f"wrote {target}")


def _intent_examples(world_seed: int, scenarios: set[str], catalog):  # type: ignore[no-untyped-def]
    """Intent examples from one synthesized world's requests in ``scenarios``."""
    from train.intent import IntentExample

    world = _world(world_seed)
    out = []
    for s in world.samples:
        if s.scenario not in scenarios or len(s.calls) != 1:
            continue
        scenario = catalog[s.scenario]
        platform = next(p for p in scenario.platforms if p.name == s.platform)
        out.append(IntentExample(request=s.query,
                                 tools=[a.openai_tool() for a in platform.apis],
                                 platforms=[p.name for p in scenario.platforms],
                                 gold=s.calls[0].name))
    return out


def intent_command(
    out: Annotated[Path | None, _out_option("intent.npz")] = None,
    seeds: Annotated[str, _seeds_option("the scorer")] = "1,2",
    dev_seed: Annotated[int, _dev_seed_option("C")] = 3,
    dev_size: Annotated[int, typer.Option("--dev-size", min=100,
                                          help="Dev requests drawn from that world.")] = 3000,
) -> None:
    """Train the intent scorer (which API of a platform a request asks for) on synthesized
    requests of the training scenarios, in worlds of other seeds than the frozen benchmark's
    (the unseen scenarios stay unseen), plus every catalog API as a request of its own; the
    narrowing threshold is chosen on hand-written phrasings."""
    import random

    from assistant.intent import shipped_intent_path
    from profiles.embeddings import CachedEmbedder, embed_texts
    from synth.procedural import scenario_specs
    from synth.world import build_catalog
    from train.intent import api_examples, fit, load_phrasings

    seed_list = _training_seeds(seeds, dev_seed)
    scenarios = {n for n, spec in scenario_specs().items() if not spec.unseen}
    catalog = build_catalog()
    train = [ex for s in seed_list for ex in _intent_examples(s, scenarios, catalog)]
    dev = _intent_examples(dev_seed, scenarios, catalog)
    random.Random(dev_seed).shuffle(dev)
    extra = []
    for name in sorted(scenarios):
        names = [p.name for p in catalog[name].platforms]
        for platform in catalog[name].platforms:
            extra += api_examples([a.openai_tool() for a in platform.apis], names)

    def tools_of(scenario: str, platform: str) -> tuple[list[dict[str, Any]], list[str]]:
        found = next(p for p in catalog[scenario].platforms if p.name == platform)
        return ([a.openai_tool() for a in found.apis],
                [p.name for p in catalog[scenario].platforms])

    report = fit(train, dev[:dev_size], CachedEmbedder(embed_texts), extra=extra,
                 phrasings=load_phrasings(tools_of), progress=_say)
    target = _save(report.weights, out, shipped_intent_path())
    console.print(
        f"intent scorer: top-1 {report.dev_top1:.3f} on {report.n_dev} synthesized dev "
        f"requests (embedding similarity {report.dev_cosine_top1:.3f}); top-1 "
        f"{report.phrasings_top1:.3f} on hand-written phrasings (embedding similarity "
        f"{report.phrasings_cosine_top1:.3f}); threshold {report.weights.threshold:.2f} covers "
        f"{report.coverage:.1%} of the phrasings at {report.precision:.1%}; C={report.c}; "
        f"wrote {target}")


def _span_examples(world_seed: int, scenarios: set[str], catalog):  # type: ignore[no-untyped-def]
    """Span examples: every text parameter of a gold call whose value the request says."""
    from assistant.grounding import param_kind
    from train.spans import SpanExample

    out = []
    for s in _world(world_seed).samples:
        if s.scenario not in scenarios:
            continue
        scenario = catalog[s.scenario]
        platform = next(p for p in scenario.platforms if p.name == s.platform)
        functions = {a.name: a.openai_tool()["function"] for a in platform.apis}
        for call in s.calls:
            function = functions[call.name]
            props = function["parameters"]["properties"]
            for name, value in call.arguments.items():
                schema = props.get(name, {})
                if value.source != "query" or param_kind(name, schema) != "text":
                    continue
                out.append(SpanExample(
                    request=s.query, platforms=tuple(p.name for p in scenario.platforms),
                    param=f"{name} {schema.get('description', '')}",
                    api=f"{function['name']} {function.get('description', '')}",
                    accepted=tuple(str(a) for a in value.accepted)))
    return out


def spans_command(
    out: Annotated[Path | None, _out_option("spans.npz")] = None,
    seeds: Annotated[str, _seeds_option("the ranker")] = "1,2",
    dev_seed: Annotated[int, _dev_seed_option("C, the threshold and how many spans")] = 3,
) -> None:
    """Train the span ranker (which span of the request a text parameter takes) on synthesized
    requests of the training scenarios, in worlds of other seeds than the frozen benchmark's."""
    from assistant.span_ranker import shipped_spans_path
    from synth.procedural import scenario_specs
    from synth.world import build_catalog
    from train.spans import fit

    seed_list = _training_seeds(seeds, dev_seed)
    scenarios = {n for n, spec in scenario_specs().items() if not spec.unseen}
    catalog = build_catalog()
    train = [ex for s in seed_list for ex in _span_examples(s, scenarios, catalog)]
    dev = _span_examples(dev_seed, scenarios, catalog)
    report = fit(train, dev, progress=_say)
    target = _save(report.weights, out, shipped_spans_path())
    console.print(
        f"span ranker: top-1 {report.dev_top1:.3f} on {report.n_dev} dev parameters (the "
        f"longest span: {report.longest_top1:.3f}); threshold {report.weights.threshold:.2f} "
        f"covers {report.coverage:.1%} at {report.precision:.1%}; below it the top "
        f"{report.weights.top_k} hold {report.recall_k:.1%} of the answers; C={report.c}; "
        f"wrote {target}")
