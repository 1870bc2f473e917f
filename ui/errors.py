"""Turn the known failures of lower layers into one red line and a nonzero exit code.

Each exception type already carries a message that says what to do next; the CLI only prints it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import typer
from rich.console import Console

from profiles.crud import UnknownUser
from profiles.db import StoreUnavailable
from profiles.embeddings import EmbeddingModelMissing
from profiles.io import PersonaFileError
from toolcatalog.loader import CatalogError

P = ParamSpec("P")
R = TypeVar("R")

err_console = Console(stderr=True, soft_wrap=True)

KNOWN_ERRORS: tuple[type[Exception], ...] = (
    UnknownUser,
    StoreUnavailable,
    CatalogError,
    PersonaFileError,
    EmbeddingModelMissing,
)


class UsageError(ValueError):
    """Bad command-line input (e.g. arguments that are not JSON)."""


def fail(message: str, code: int = 1) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code)


def cli_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Decorator for commands: known errors -> message on stderr, exit code 1 (2 for usage)."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except UsageError as exc:
            raise fail(str(exc), code=2) from None
        except KNOWN_ERRORS as exc:
            raise fail(str(exc.args[0] if exc.args else exc)) from None

    return wrapper
