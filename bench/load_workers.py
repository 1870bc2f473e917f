"""What each app process of ``bench/load_test.py`` runs: open the workspace as an app worker
does, one untimed warm-up turn, then its timed turns on a few threads, and a report of every
turn written as JSON for the parent to read back.

A turn is "order me a <dish>" for a random user through the app's adapter
(``ui.chat_adapter.ChatService``), which stops at the confirmation, then the "Yes" that executes
it. The chat model is timed per thread, so a turn's latency can leave the model's time out.
``bench/load_test.py`` sets the offline environment before it imports this module.
"""

from __future__ import annotations

import json
import random
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatResult
from pydantic import Field

from tests.ui.conftest import ProfileEchoModel
from ui.chat_adapter import ChatService
from ui.settings import Settings
from ui.wiring import Workspace, open_workspace

DISHES = ["hamburger", "cheeseburger", "veggie burger", "pizza", "sushi platter", "pad thai",
          "burrito", "ramen", "falafel wrap", "caesar salad"]


# -- the fake model, timed -------------------------------------------------------------------

class TimedEchoModel(ProfileEchoModel):
    """``ProfileEchoModel`` that adds the seconds each call took to ``spent_s``."""

    spent_s: list[float] = Field(default_factory=list)

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None,
                  **kwargs: Any) -> ChatResult:
        start = time.perf_counter()
        try:
            return super()._generate(messages, stop, run_manager, **kwargs)
        finally:
            self.spent_s.append(time.perf_counter() - start)


class ModelClock:
    """The chat-model factory for ``ChatService``: the adapter calls it on the thread that runs
    the turn, so each thread reads back the time its own turn spent in the model."""

    def __init__(self) -> None:
        self._local = threading.local()

    def __call__(self) -> TimedEchoModel:
        model = TimedEchoModel()
        self._models().append(model)
        return model

    def _models(self) -> list[TimedEchoModel]:
        if not hasattr(self._local, "models"):
            self._local.models = []
        models: list[TimedEchoModel] = self._local.models
        return models

    def take(self) -> float:
        """Model seconds of this thread since the last ``take``."""
        models = self._models()
        spent = sum(sum(m.spent_s) for m in models)
        models.clear()
        return spent


# -- one worker process ----------------------------------------------------------------------------

@dataclass
class TurnRecord:
    """One turn as the parent checks and times it: statuses, what executed, seconds taken."""

    user_id: str
    dish: str
    timed: bool
    thread_id: str = ""
    ask_status: str = ""
    yes_status: str = ""
    executed: int = 0
    ask_s: float = 0.0
    yes_s: float = 0.0
    model_s: float = 0.0
    started: float = 0.0
    error: str = ""

    @property
    def non_model_s(self) -> float:
        return self.ask_s + self.yes_s - self.model_s

    @property
    def ok(self) -> bool:
        return (not self.error and self.ask_status == "consent" and self.yes_status == "done"
                and self.executed == 1)


@dataclass
class WorkerReport:
    """All a worker did, written as JSON when it ends (also when it failed): the parent reads
    it back from the file, since a worker process returns nothing."""

    worker: int
    turns: list[TurnRecord] = field(default_factory=list)
    start: float = 0.0
    end: float = 0.0
    error: str = ""


def one_turn(service: ChatService, clock: ModelClock, user_id: str, dish: str,
             timed: bool) -> TurnRecord:
    """The request, then the Yes the Chat tab's button sends."""
    rec = TurnRecord(user_id=user_id, dish=dish, timed=timed, started=time.monotonic())
    clock.take()
    try:
        start = time.perf_counter()
        asked = service.send(user=user_id, text=f"order me a {dish}", thread_id=None)
        rec.ask_s = time.perf_counter() - start
        rec.thread_id, rec.ask_status = asked.thread_id, asked.status
        if asked.status == "consent":
            start = time.perf_counter()
            done = service.consent(thread_id=asked.thread_id, granted=True)
            rec.yes_s = time.perf_counter() - start
            rec.yes_status, rec.executed = done.status, len(done.executions)
    except Exception as exc:  # a failed turn is a result to report, not a crash
        rec.error = f"{type(exc).__name__}: {exc}"[:300]
    rec.model_s = clock.take()
    return rec


def worker_main(worker: int, settings: Settings, user_ids: list[str], turns: int, threads: int,
                seed: int, barrier: Barrier, out: str, barrier_timeout_s: float) -> None:
    """One app process: open the workspace, warm up, wait for the others, run the turns."""
    report = WorkerReport(worker=worker)
    rng = random.Random(seed * 1000 + worker)
    ws: Workspace | None = None
    try:
        ws = open_workspace(settings)
        clock = ModelClock()
        service = ChatService(ws, clock)
        report.turns.append(one_turn(service, clock, rng.choice(user_ids), rng.choice(DISHES),
                                     timed=False))
        jobs = [(rng.choice(user_ids), rng.choice(DISHES)) for _ in range(turns)]
        barrier.wait(timeout=barrier_timeout_s)
        report.start = time.monotonic()
        with ThreadPoolExecutor(max_workers=threads) as pool:
            report.turns += list(pool.map(
                lambda job: one_turn(service, clock, job[0], job[1], timed=True), jobs))
        report.end = time.monotonic()
    except Exception:
        report.error = traceback.format_exc()[-2000:]
        barrier.abort()
    finally:
        if ws is not None:
            ws.engine.dispose()
        Path(out).write_text(json.dumps(asdict(report)), encoding="utf-8")


def read_report(path: Path, worker: int) -> WorkerReport:
    """The report ``worker`` wrote to ``path``; a missing file is a failed worker."""
    if not path.is_file():
        return WorkerReport(worker=worker, error="the worker wrote no report (killed?)")
    raw = json.loads(path.read_text(encoding="utf-8"))
    turns = [TurnRecord(**t) for t in raw.pop("turns")]
    return WorkerReport(turns=turns, **raw)
