"""PTBench samples: read benchmark files into typed samples, parse a sample's profile.

Why a loader of its own: the official files must run unchanged, and they carry quirks (a profile
given as its Python-literal string, samples without an ``id``), while a broken file should fail
with a message naming the file, the sample and the field instead of a KeyError deep in scoring.

Layouts accepted by :func:`load_benchmark`:

* a single ``data.json`` (or any ``*.json`` list of samples): one split, named after its folder
  when the file is ``data.json`` and after the file stem otherwise;
* a folder holding ``data.json``: the same, one split;
* a folder holding ``test_trained_user/`` and/or ``test_untrained_user/`` (each with
  ``data.json``) and optionally more split folders or loose ``*.json`` files (for example the
  unseen-scenario set): one split per folder / file.

Samples without an ``id`` get their index in the file; an id that repeats within a file
becomes ``<id>@<index>`` (predictions are keyed by split and id).

A sample whose answer names a platform missing from its ``platforms`` list is an *issue*: with
``strict=True`` (the default) loading fails with all such issues listed; with ``strict=False``
they are returned in :attr:`Benchmark.issues` and the samples are scored as they are (the
platform metric can then never be right for them).
"""

from __future__ import annotations

import ast
import json
from collections import Counter
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

TRAINED_SPLIT = "test_trained_user"
UNTRAINED_SPLIT = "test_untrained_user"
MAIN_SPLITS = (TRAINED_SPLIT, UNTRAINED_SPLIT)
"""The two splits the paper's ``overall`` row combines (sample-weighted)."""

AblateMode = Literal["basic", "history", "both"]


class DatasetFormatError(ValueError):
    """A benchmark file is not in PTBench format; the message names file, sample and field."""


class PlatformInfo(BaseModel):
    """One platform of the scenario: its name and its characteristics (free text)."""

    model_config = ConfigDict(extra="allow")

    name: str
    profile: dict[str, Any] | str = Field(default_factory=dict)


class ExpectedCall(BaseModel):
    """One function of the reference answer; each parameter lists its accepted values."""

    name: str
    params: dict[str, list[Any]]


class Answer(BaseModel):
    """The reference answer: the preferred platform and the calls to make on it."""

    platform: str
    calls: list[ExpectedCall]


class BenchSample(BaseModel):
    """One PTBench sample, normalised: profile always a dict, answer typed, id always a string.

    ``profile_text`` keeps the profile exactly as the file gave it when that was a string, so the
    paper-style prompt shows the model the very same text the reference harness would.
    """

    model_config = ConfigDict(frozen=True)

    id: str
    split: str
    index: int
    user_profile: dict[str, Any]
    profile_text: str | None = None
    platforms: list[PlatformInfo]
    tools: list[dict[str, Any]]
    query: str
    answer: Answer
    query_params: list[str] = Field(default_factory=list)
    profile_params: list[str] = Field(default_factory=list)

    @property
    def key(self) -> tuple[str, str]:
        """Identity of the sample inside a run (ids repeat across splits)."""
        return (self.split, self.id)

    @property
    def platform_names(self) -> list[str]:
        return [p.name for p in self.platforms]


class Benchmark(BaseModel):
    """All splits of a benchmark, in a stable order, plus any issues found while loading."""

    source: str
    splits: dict[str, list[BenchSample]]
    issues: list[str] = Field(default_factory=list)

    def samples(self) -> list[BenchSample]:
        return [s for split in self.splits.values() for s in split]

    def overall_splits(self) -> list[str]:
        """Splits that the ``overall`` row combines: trained + untrained users when present
        (as in the paper), else every split."""
        main = [s for s in self.splits if s in MAIN_SPLITS]
        return main or list(self.splits)


# ---------------------------------------------------------------------------------------------
# raw-format checking


class _RawSample(BaseModel):
    """The on-disk shape of one sample; used only to produce precise error locations."""

    model_config = ConfigDict(extra="allow")

    id: int | str | None = None
    user_profile: dict[str, Any] | str
    platforms: list[PlatformInfo]
    tools: list[dict[str, Any]]
    query: str
    answer: list[Any] = Field(min_length=2, max_length=2)
    query_params: list[str] = Field(default_factory=list)
    profile_params: list[str] = Field(default_factory=list)


def _fail(path: Path, index: int, field: str, why: str) -> DatasetFormatError:
    return DatasetFormatError(
        f"{path}: sample {index}: field '{field}': {why} (not PTBench format; see "
        "docs/ptbench.md for the expected keys)"
    )


def parse_profile(raw: Any) -> dict[str, Any]:
    """A ``user_profile``: a dict or its Python-literal string (as in the official files); JSON
    text is accepted too. Never ``eval``. Raises ValueError saying what was found."""
    if isinstance(raw, dict):
        return raw
    value: Any
    try:
        value = ast.literal_eval(str(raw))
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        try:
            value = json.loads(str(raw))
        except json.JSONDecodeError as exc:
            raise ValueError("a string that is neither a Python literal nor JSON") from exc
    if not isinstance(value, dict):
        raise ValueError(f"expected a dict, got {type(value).__name__}")
    return value


def _parse_answer(raw: list[Any], path: Path, index: int) -> Answer:
    """``[platform, [{function: {param: [accepted, ...]}}, ...]]``.

    A parameter given a single value instead of a list of accepted values is read as a
    one-element list (lenient; the official files always use lists)."""
    platform, funcs = raw
    if not isinstance(platform, str):
        raise _fail(path, index, "answer[0]", "expected the platform name as a string")
    if not isinstance(funcs, list):
        raise _fail(path, index, "answer[1]", "expected a list of {function: {param: [values]}}")
    calls: list[ExpectedCall] = []
    for j, func in enumerate(funcs):
        if not (isinstance(func, dict) and len(func) == 1):
            raise _fail(path, index, f"answer[1][{j}]",
                        "expected a one-key dict {function: params}")
        (name, params), = func.items()
        if not isinstance(params, dict):
            raise _fail(path, index, f"answer[1][{j}].{name}", "expected a dict of parameters")
        norm = {str(k): (v if isinstance(v, list) else [v]) for k, v in params.items()}
        calls.append(ExpectedCall(name=str(name), params=norm))
    return Answer(platform=platform, calls=calls)


def parse_samples(data: Any, path: Path, split: str) -> tuple[list[BenchSample], list[str]]:
    """Validate and normalise the JSON content of one file; returns samples and issues."""
    if not isinstance(data, list):
        raise DatasetFormatError(
            f"{path}: expected a JSON list of samples, got {type(data).__name__} "
            "(not PTBench format)"
        )
    samples: list[BenchSample] = []
    issues: list[str] = []
    for index, item in enumerate(data):
        if not isinstance(item, dict):
            raise _fail(path, index, "<sample>", f"expected an object, got {type(item).__name__}")
        try:
            raw = _RawSample.model_validate(item)
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = ".".join(str(p) for p in err["loc"]) or "<sample>"
            raise _fail(path, index, loc, err["msg"]) from None
        answer = _parse_answer(raw.answer, path, index)
        try:
            profile = parse_profile(raw.user_profile)
        except ValueError as exc:
            raise _fail(path, index, "user_profile", str(exc)) from exc
        sample = BenchSample(
            id=str(raw.id) if raw.id is not None else str(index),
            split=split,
            index=index,
            user_profile=profile,
            profile_text=raw.user_profile if isinstance(raw.user_profile, str) else None,
            platforms=raw.platforms,
            tools=raw.tools,
            query=raw.query,
            answer=answer,
            query_params=raw.query_params,
            profile_params=raw.profile_params,
        )
        if answer.platform not in sample.platform_names:
            issues.append(
                f"{path}: sample {index} (id {sample.id}): answer platform "
                f"'{answer.platform}' is not among its platforms {sample.platform_names}"
            )
        samples.append(sample)
    return _unique_ids(samples), issues


def _unique_ids(samples: list[BenchSample]) -> list[BenchSample]:
    """Predictions are keyed by (split, id): a repeated id becomes ``<id>@<index>``."""
    counts = Counter(s.id for s in samples)
    repeated = {i for i, n in counts.items() if n > 1}
    return [s.model_copy(update={"id": f"{s.id}@{s.index}"}) if s.id in repeated else s
            for s in samples]


def load_split_file(path: Path, split: str) -> tuple[list[BenchSample], list[str]]:
    """Read one JSON file of samples."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DatasetFormatError(f"{path}: cannot read ({exc.strerror})") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DatasetFormatError(
            f"{path}: not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
            "not PTBench format"
        ) from exc
    return parse_samples(data, path, split)


def _split_name(file: Path) -> str:
    return file.parent.name if file.name == "data.json" else file.stem


def discover_split_files(path: Path) -> dict[str, Path]:
    """Map split name -> file for a file or folder in one of the accepted layouts."""
    if path.is_file():
        return {_split_name(path.resolve()): path}
    if not path.is_dir():
        raise DatasetFormatError(f"{path}: no such file or folder")
    if (path / "data.json").is_file():
        return {_split_name((path / "data.json").resolve()): path / "data.json"}
    found: dict[str, Path] = {}
    for name in MAIN_SPLITS:  # the paper's order first
        if (path / name / "data.json").is_file():
            found[name] = path / name / "data.json"
    for sub in sorted(p for p in path.iterdir() if p.is_dir() and p.name not in found):
        if (sub / "data.json").is_file():
            found[sub.name] = sub / "data.json"
    for file in sorted(path.glob("*.json")):
        found.setdefault(file.stem, file)
    if not found:
        raise DatasetFormatError(
            f"{path}: no PTBench files found (expected data.json, or test_trained_user/data.json "
            "and test_untrained_user/data.json)"
        )
    return found


def load_benchmark(path: Path | str, *, strict: bool = True) -> Benchmark:
    """Load every split under ``path``; see the module docstring for layouts and ``strict``."""
    path = Path(path)
    splits: dict[str, list[BenchSample]] = {}
    issues: list[str] = []
    for split, file in discover_split_files(path).items():
        samples, file_issues = load_split_file(file, split)
        splits[split] = samples
        issues.extend(file_issues)
    if strict and issues:
        shown = "\n  ".join(issues[:10])
        more = f"\n  ... and {len(issues) - 10} more" if len(issues) > 10 else ""
        raise DatasetFormatError(
            f"{len(issues)} sample(s) name an answer platform that is not in their platforms:"
            f"\n  {shown}{more}\n(fix the data, or pass --lenient to score them anyway)"
        )
    return Benchmark(source=str(path), splits=splits, issues=issues)


def ablate(sample: BenchSample, mode: AblateMode | None) -> BenchSample:
    """Remove basic features, behaviour history or both from the profile (paper, Table 2).

    The removed keys disappear from the profile altogether, and ``profile_text`` is dropped so
    the prompt shows the ablated dict rather than the original string."""
    if mode is None:
        return sample
    drop = {"basic": {"basic_features"}, "history": {"user_history"}}.get(
        mode, {"basic_features", "user_history"}
    )
    profile = {k: v for k, v in sample.user_profile.items() if k not in drop}
    return sample.model_copy(update={"user_profile": profile, "profile_text": None})
