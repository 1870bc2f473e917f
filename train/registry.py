"""Named entries a user picks on the command line (training presets, base models): the table
of them by name, and finding one by what was typed."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Protocol, TypeVar


class _Named(Protocol):
    @property
    def name(self) -> str: ...


T = TypeVar("T")
N = TypeVar("N", bound=_Named)


def by_name(*entries: N) -> dict[str, N]:
    """The entries keyed by their own ``name``, in the order given: a table written as a list
    of entries cannot get a key and its entry's name out of step."""
    return {entry.name: entry for entry in entries}


def lookup(registry: Mapping[str, T], name: str, what: str, error: type[Exception]) -> T:
    """``registry[name]``. An unknown name raises ``error`` with the closest known name and
    the list of them all, so a typo on the command line says what was meant."""
    try:
        return registry[name]
    except KeyError:
        close = difflib.get_close_matches(name, list(registry), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        known = ", ".join(sorted(registry))
        raise error(f"unknown {what} {name!r}{hint} Known: {known}") from None
