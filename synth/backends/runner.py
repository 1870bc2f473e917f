"""Structured-output calls to a chat model: bounded concurrency, retries, resume, token count.

Every call is a :class:`Task` with a stable key. Results are appended to a JSONL cache as they
arrive, so a killed run restarted with the same cache only asks for what is missing. Any
``BaseChatModel`` works (``ChatOpenAI(base_url=...)`` for an OpenAI-compatible endpoint, a fake
one in tests); structured output goes through ``with_structured_output(..., include_raw=True)``
so token usage can be read from the raw message.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage
from pydantic import BaseModel
from tqdm import tqdm


@dataclass(frozen=True)
class Task:
    key: str
    messages: Sequence[BaseMessage]
    schema: type[BaseModel]


@dataclass
class TokenUsage:
    input_tokens: int = 0
    output_tokens: int = 0
    calls: int = 0
    retries: int = 0
    cached: int = 0

    def add(self, raw: Any) -> None:
        usage = getattr(raw, "usage_metadata", None) or {}
        self.input_tokens += int(usage.get("input_tokens", 0))
        self.output_tokens += int(usage.get("output_tokens", 0))
        self.calls += 1


class StructuredFailure(RuntimeError):
    """A task kept failing after every retry; the message names the key and last error."""


@dataclass
class StructuredRunner:
    """Runs tasks against ``model``; see the module docstring."""

    model: BaseChatModel
    cache_path: Path | None = None
    concurrency: int = 4
    max_retries: int = 3
    backoff_s: float = 0.5
    method: str | None = None
    show_progress: bool = True
    usage: TokenUsage = field(default_factory=TokenUsage)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _cache: dict[str, Any] | None = field(default=None, repr=False)

    def _load_cache(self) -> dict[str, Any]:
        if self._cache is None:
            self._cache = {}
            if self.cache_path and self.cache_path.exists():
                for line in self.cache_path.read_text(encoding="utf-8").splitlines():
                    if line.strip():
                        row = json.loads(line)
                        self._cache[row["key"]] = row["value"]
        return self._cache

    def _store(self, key: str, value: dict[str, Any]) -> None:
        with self._lock:
            self._load_cache()[key] = value
            if self.cache_path:
                self.cache_path.parent.mkdir(parents=True, exist_ok=True)
                with self.cache_path.open("a", encoding="utf-8") as fh:
                    fh.write(json.dumps({"key": key, "value": value}, ensure_ascii=False) + "\n")

    def _call(self, task: Task) -> BaseModel:
        kwargs: dict[str, Any] = {"include_raw": True}
        if self.method:
            kwargs["method"] = self.method
        structured = self.model.with_structured_output(task.schema, **kwargs)
        last: Exception | None = None
        for attempt in range(self.max_retries + 1):
            if attempt:
                with self._lock:
                    self.usage.retries += 1
                time.sleep(self.backoff_s * 2 ** (attempt - 1))
            try:
                out = cast(dict[str, Any], structured.invoke(list(task.messages)))
                with self._lock:
                    self.usage.add(out["raw"])
                parsed = out.get("parsed")
                if out.get("parsing_error") is not None or parsed is None:
                    raise ValueError(f"unparsable structured output: {out.get('parsing_error')}")
                if not isinstance(parsed, task.schema):
                    parsed = task.schema.model_validate(parsed)
                return parsed
            except Exception as exc:
                last = exc
        raise StructuredFailure(
            f"task {task.key!r} failed after {self.max_retries + 1} tries: {last}"
        )

    def run(self, tasks: Sequence[Task], *, desc: str = "llm") -> dict[str, BaseModel]:
        """Results by key, cached ones included (in the order of ``tasks``)."""
        cache = self._load_cache()
        results: dict[str, BaseModel] = {}
        todo = []
        for task in tasks:
            if task.key in cache:
                results[task.key] = task.schema.model_validate(cache[task.key])
                self.usage.cached += 1
            else:
                todo.append(task)
        bar = tqdm(
            total=len(tasks),
            initial=len(tasks) - len(todo),
            desc=desc,
            disable=not self.show_progress,
        )

        def work(task: Task) -> tuple[str, BaseModel]:
            parsed = self._call(task)
            self._store(task.key, parsed.model_dump(mode="json"))
            bar.update(1)
            return task.key, parsed

        with ThreadPoolExecutor(max_workers=max(1, self.concurrency)) as pool:
            for key, parsed in pool.map(work, todo):
                results[key] = parsed
        bar.close()
        return {t.key: results[t.key] for t in tasks}
