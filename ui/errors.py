"""Turn the known failures of lower layers into one red line and a nonzero exit code.

Each exception type already carries a message that says what to do next; the CLI only prints it.
A database that is locked or unreadable is a known failure too: its one line comes from
:func:`profiles.db.explain_database_error`, which never shows the failed statement's values.
Messages are printed literally (Rich markup escaped): they often quote user data such as a
username, and ``[/]`` in a username must not crash the error path.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from sqlalchemy.exc import OperationalError

from profiles.crud import UnknownUser
from profiles.db import StoreUnavailable, explain_database_error
from profiles.embeddings import EmbeddingModelMissing
from profiles.history_index import IndexUnavailable
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
    IndexUnavailable,
)


class UsageError(ValueError):
    """Bad command-line input (e.g. arguments that are not JSON)."""


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print ``message`` literally on stderr; return the exit to raise."""
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
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
        except (OperationalError, sqlite3.OperationalError) as exc:
            # the profile store (SQLAlchemy) and the chat checkpoints (plain sqlite3) alike
            raise fail(f"database: {explain_database_error(exc)}") from None

    return wrapper
