"""The ``ptool`` command line: the composition root that reads settings and wires the packages.

Each area's commands live in ``ui/commands/<area>.py`` and expose ``register(app)``; this module
only assembles them, so ``ptool --help`` is the quickstart.
"""

from __future__ import annotations

import typer

from ui.commands import bench, chat, serve, store, synth, train, ui

app = typer.Typer(
    name="ptool",
    help=(
        "Personalized tool-invocation assistant.\n\n"
        "Quickstart: `ptool setup` (workspace + seeded personas), `ptool users`, "
        "`ptool history chloe92 --search wine`, `ptool catalog`, "
        "`ptool chat --user chloe92 \"order me a bottle of red wine\"`."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

for module in (store, chat, ui, serve, synth, train, bench):
    module.register(app)


if __name__ == "__main__":  # pragma: no cover
    app()
