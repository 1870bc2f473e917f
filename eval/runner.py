"""The benchmark loop: predict every sample once, keep every answer, score when complete.

Why it is built this way:

* **Resumable.** Each finished prediction is appended to ``DIR/predictions.jsonl`` (one JSON
  object per line) the moment it arrives, and a re-run skips samples already there. A
  half-written last line (crash mid-write) is ignored and that sample predicted again.
* **Safe to resume.** ``DIR/run.json`` records the settings that change predictions (mode,
  model, ablation, output format, runtime retrieval sizes); resuming with different ones is
  refused instead of silently mixing two runs.
* **Parallel.** Workers call the (thread-safe) predictor concurrently, which is what keeps a
  batching server busy; the main thread alone writes the file.
* **Stops cleanly.** When the endpoint becomes unreachable, no new sample is started, in-flight
  ones finish, everything finished stays on disk, and :class:`RunAborted` says how to resume.
"""

from __future__ import annotations

import json
import statistics
import threading
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from tqdm import tqdm

from eval.aggregate import AggregateMetrics, aggregate, combine
from eval.metrics import SampleScore, score_sample
from eval.predictor import EndpointUnavailable, Prediction, Predictor, RuntimeSettings
from ptbench.samples import AblateMode, Benchmark, BenchSample, ablate

PREDICTIONS_FILE = "predictions.jsonl"
RUN_FILE = "run.json"


class RunAborted(RuntimeError):
    """The run stopped early; finished predictions are kept and a re-run resumes."""


class RunConfigMismatch(ValueError):
    """``DIR`` already holds predictions made with different settings."""


class RunConfig(RuntimeSettings):
    """Settings of a run, saved as ``DIR/run.json``."""

    data: str
    mode: str
    model: str
    base_url: str | None = None
    ablate: AblateMode | None = None
    output_format: str = "text"
    limit: int | None = None

    def identity(self) -> dict[str, Any]:
        """The settings that change predictions: resuming with other values is refused."""
        return self.model_dump(include={"mode", "model", "ablate", "output_format", "history_k",
                                        "tools_per_platform", "answer_grammar",
                                        "preference", "grounding", "now"})


class PredictionRecord(Prediction):
    """One line of ``predictions.jsonl``: a prediction and the sample it answers."""

    id: str
    split: str

    @property
    def key(self) -> tuple[str, str]:
        return (self.split, self.id)

    @classmethod
    def from_prediction(cls, sample: BenchSample, prediction: Prediction) -> PredictionRecord:
        return cls(id=sample.id, split=sample.split, **prediction.model_dump())


class RunOutcome(BaseModel):
    """What one invocation of :func:`run_predictions` did."""

    total: int
    already_done: int
    new: int
    wall_s: float
    workers: int


# ---------------------------------------------------------------------------------------------
# files


def select_samples(benchmark: Benchmark, limit: int | None = None) -> list[BenchSample]:
    """Every sample, or the first ``limit`` of *each* split (so every split stays represented)."""
    return [s for split in benchmark.splits.values() for s in split[: limit or None]]


def load_predictions(path: Path) -> dict[tuple[str, str], PredictionRecord]:
    """Read ``predictions.jsonl``; unreadable lines (e.g. a torn last write) are skipped."""
    records: dict[tuple[str, str], PredictionRecord] = {}
    if not path.exists():
        return records
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            try:
                record = PredictionRecord.model_validate_json(line)
            except ValidationError:
                continue
            records[record.key] = record
    return records


def prepare_run_dir(out_dir: Path, config: RunConfig) -> None:
    """Create ``out_dir`` and save ``run.json``; refuse to resume with different settings."""
    out_dir.mkdir(parents=True, exist_ok=True)
    run_file = out_dir / RUN_FILE
    if run_file.exists() and (out_dir / PREDICTIONS_FILE).exists():
        old = RunConfig.model_validate_json(run_file.read_text(encoding="utf-8"))
        if old.identity() != config.identity():
            raise RunConfigMismatch(
                f"{out_dir} holds predictions made with {old.identity()}, not "
                f"{config.identity()}; use another --out folder (or delete {out_dir})"
            )
    run_file.write_text(config.model_dump_json(indent=2) + "\n", encoding="utf-8")


# ---------------------------------------------------------------------------------------------
# the loop


def _ensure_line_start(path: Path) -> None:
    """If a previous run died mid-line, start the next record on a fresh line."""
    if path.exists() and path.stat().st_size:
        with path.open("rb") as fh:
            fh.seek(-1, 2)
            last = fh.read(1)
        if last != b"\n":
            with path.open("ab") as fh:
                fh.write(b"\n")


def run_predictions(
    samples: Sequence[BenchSample],
    predictor: Predictor,
    out_dir: Path,
    *,
    workers: int = 1,
    ablate_mode: AblateMode | None = None,
    progress: bool = True,
) -> RunOutcome:
    """Predict every sample not yet in ``out_dir/predictions.jsonl``, appending as they finish.

    Raises :class:`RunAborted` (after saving what finished) when the endpoint is unreachable or
    the predictor fails; the message says how many predictions were kept."""
    path = out_dir / PREDICTIONS_FILE
    done = load_predictions(path)
    todo = [s for s in samples if s.key not in done]
    already = len(samples) - len(todo)
    stop = threading.Event()
    workers = max(1, workers)

    def work(sample: BenchSample) -> Prediction | None:
        if stop.is_set():
            return None
        return predictor.predict(ablate(sample, ablate_mode))

    start = time.perf_counter()
    new = 0
    failure: BaseException | None = None
    failed_sample: BenchSample | None = None
    _ensure_line_start(path)
    bar = tqdm(total=len(todo), desc="bench", unit="sample", disable=not progress,
               postfix={"resumed": already} if already else None)
    with path.open("a", encoding="utf-8") as fh, ThreadPoolExecutor(max_workers=workers) as pool:
        pending: dict[Future[Prediction | None], BenchSample] = {}
        queue = iter(todo)

        def refill() -> None:
            while len(pending) < workers * 2 and not stop.is_set():
                nxt = next(queue, None)
                if nxt is None:
                    return
                pending[pool.submit(work, nxt)] = nxt

        try:
            refill()
            while pending:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in finished:
                    sample = pending.pop(fut)
                    try:
                        prediction = fut.result()
                    except Exception as exc:  # stop starting new work, keep what finished
                        stop.set()
                        if failure is None:
                            failure, failed_sample = exc, sample
                        continue
                    if prediction is None:
                        continue
                    record = PredictionRecord.from_prediction(sample, prediction)
                    fh.write(record.model_dump_json() + "\n")
                    fh.flush()
                    new += 1
                    bar.update(1)
                refill()
        except KeyboardInterrupt:
            stop.set()
            failure = KeyboardInterrupt("interrupted")
        finally:
            bar.close()
    kept = already + new
    if failure is not None:
        where = f" (sample {failed_sample.split}/{failed_sample.id})" if failed_sample else ""
        kind = "endpoint unreachable" if isinstance(failure, EndpointUnavailable) else "stopped"
        raise RunAborted(
            f"{kind}{where}: {failure}\n{kept} of {len(samples)} predictions are kept in {path}; "
            "re-run the same command to resume."
        ) from failure
    return RunOutcome(total=len(samples), already_done=already, new=new,
                      wall_s=time.perf_counter() - start, workers=workers)


# ---------------------------------------------------------------------------------------------
# scoring


class RunScores(BaseModel):
    """Scores of a run: per split, overall (sample-weighted), and per sample."""

    splits: dict[str, AggregateMetrics]
    overall: AggregateMetrics
    overall_splits: list[str]
    samples: list[SampleScore]
    missing: int = 0


def score_run(
    benchmark: Benchmark,
    records: dict[tuple[str, str], PredictionRecord],
    samples: Iterable[BenchSample] | None = None,
) -> RunScores:
    """Score the selected samples (default: all); a sample without a prediction is reported in
    ``missing`` and left out (a complete run has none)."""
    chosen = list(samples) if samples is not None else benchmark.samples()
    by_split: dict[str, list[SampleScore]] = {}
    missing = 0
    for sample in chosen:
        record = records.get(sample.key)
        if record is None:
            missing += 1
            continue
        by_split.setdefault(sample.split, []).append(score_sample(sample, record.as_parsed()))
    splits = {name: aggregate(scores) for name, scores in by_split.items()}
    main = [s for s in benchmark.overall_splits() if s in splits] or list(splits)
    return RunScores(
        splits=splits,
        overall=combine([splits[s] for s in main]),
        overall_splits=main,
        samples=[s for scores in by_split.values() for s in scores],
        missing=missing,
    )


def timing_summary(
    records: Iterable[PredictionRecord], outcome: RunOutcome | None = None
) -> dict[str, float | int | None]:
    """Latency and prompt-size statistics; throughput of this invocation when it predicted."""
    items = list(records)
    lat = [r.latency_s for r in items]
    tokens = [r.prompt_tokens for r in items if r.prompt_tokens is not None]
    rate = None
    if outcome is not None and outcome.new and outcome.wall_s > 0:
        rate = outcome.new / outcome.wall_s * 60
    return {
        "samples": len(items),
        "mean_latency_s": statistics.fmean(lat) if lat else None,
        "median_latency_s": statistics.median(lat) if lat else None,
        "mean_prompt_tokens": statistics.fmean(tokens) if tokens else None,
        "samples_per_minute": rate,
        "workers": outcome.workers if outcome else None,
    }


def dump_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
