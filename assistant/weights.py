"""The trained decision models' weight files (scenario router, preference model, intent
scorer): ``.npz`` archives of plain numpy arrays.

Why one format description per model: each file is read without pickles (a weights file must
not run code); one trained on other features than this code computes is refused instead of
scoring silently wrong, which needs the feature names written by the same description that
checks them; and any unreadable file becomes the model's own error naming the command that
rebuilds it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np


@dataclass(frozen=True)
class WeightsFile:
    """How one model's weights are written and read back."""

    model: str
    """What the errors call it ("intent scorer")."""
    command: str
    """The command that rebuilds the file."""
    missing: type[Exception]
    """The model's error for a missing, corrupt or foreign file."""
    features: Mapping[str, tuple[str, ...]] | None = None
    """Per layer: the archive key of its feature names, and the names this code computes."""

    def write(self, path: Path, arrays: Mapping[str, np.ndarray], *,
              compressed: bool = False) -> None:
        """Save ``arrays``, then the feature names that :meth:`read` checks."""
        out: dict[str, Any] = dict(arrays)  # Any: savez also takes an allow_pickle flag
        for key, names in (self.features or {}).items():
            out[key] = np.array(names)
        if compressed:
            np.savez_compressed(path, **out)
        else:
            np.savez(path, **out)

    @contextmanager
    def read(self, path: Path) -> Iterator[Mapping[str, np.ndarray]]:
        """The arrays of ``path`` while the block runs. A missing, corrupt or incomplete file
        (also a key the block reads that the file lacks) raises :attr:`missing` saying to
        reinstall or to retrain; so does a file trained on other features."""
        try:
            with np.load(path, allow_pickle=False) as data:
                for key, expected in (self.features or {}).items():
                    names = tuple(str(n) for n in data[key])
                    if names != expected:
                        raise self.missing(
                            f"{path} was trained with features {names}, this code reads "
                            f"{expected}; retrain it with `{self.command}`")
                yield data
        except (OSError, KeyError, ValueError) as exc:
            raise self.missing(f"cannot read the {self.model} {path} ({exc}); reinstall ptool "
                               f"or retrain it with `{self.command}`") from exc


def sparse_vector(vector: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A mostly-zero weight vector as (indices, values): how hashed features are stored."""
    nonzero = np.flatnonzero(vector)
    return nonzero.astype(np.int32), vector[nonzero].astype(np.float32)


def dense_vector(index: np.ndarray, value: np.ndarray, size: int) -> np.ndarray:
    """The vector :func:`sparse_vector` stored."""
    vector = np.zeros(size, dtype=np.float32)
    vector[index] = value
    return vector
