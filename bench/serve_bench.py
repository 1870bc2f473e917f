"""Benchmark the embedded model server for the assistant's request shape.

Starts the model server (``python -m train.serving``) as a child process, sends ``--requests``
chat requests of about ``--prompt-tokens`` tokens (system prompt + catalog tool specs + a
profile, like the assistant's) that each decode exactly ``--new-tokens`` tokens, first one client
at a time, then ``--clients`` clients at once, and prints a Markdown table: time to first token,
decode tokens/s, total latency p50/p95, the server's peak RSS, plus the memory-bandwidth bound
for the weights' size.

Two prompt modes: ``distinct`` (each prompt differs from its first token: no prefix reuse, the
worst case) and ``shared`` (same system prompt and tools, different user part: what the assistant
sends, where the server's prefix cache pays off).

    python bench/serve_bench.py --requests 20 --clients 4 --mode distinct --mode shared
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import statistics
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


@dataclass
class Sample:
    ttft: float
    total: float
    completion_tokens: int
    cached_tokens: int
    prompt_tokens: int

    @property
    def decode_tps(self) -> float:
        return (self.completion_tokens - 1) / max(self.total - self.ttft, 1e-9)


def _tools_block(limit: int) -> list[dict[str, object]]:
    from toolcatalog.loader import load_catalog

    return [api.openai_tool() for _, _, api in load_catalog().iter_apis("takeout")][:limit]


def _length(tokenizer: Any, messages: list[dict[str, str]]) -> int:
    text = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    return len(tokenizer(text, add_special_tokens=False)["input_ids"])


PROFILE = (
    "User profile: name Alice Martin; email alice@example.com; phone +33 6 12 34 56 78; "
    "home address 12 rue des Lilas, Paris; work address 5 avenue de France, Paris; language fr; "
    "payment method Visa ending 4242. Recent behaviour: ordered a margherita pizza on "
    "PizzaPlanet; bought premium wine on MegaMart; booked a table at Le Petit Bistro. "
)
FILLER = " Earlier: browsed burger places, compared prices, read reviews."


def build_prompts(tokenizer: Any, n: int, target: int, mode: str) -> list[list[dict[str, str]]]:
    """``n`` rendered message lists of about ``target`` tokens: system + tools, profile, request."""
    from train.serving.chat_format import to_template_messages

    tools = _tools_block(limit=2)
    out = []
    for i in range(n):
        system = (
            "You are a personalized assistant. Pick the platform this user prefers and fill "
            "every required parameter from the request or the profile."
        )
        if mode == "distinct":
            system = f"Session {i * 7919 % 10007}. " + system
        user = f"Request #{i}: order me a hamburger for dinner tonight. " + PROFILE
        while True:
            msgs = [{"role": "system", "content": system}, {"role": "user", "content": user}]
            rendered = to_template_messages(msgs, tools)
            if _length(tokenizer, rendered) >= target:
                break
            user += FILLER
        out.append(rendered)
    return out


def one_request(url: str, model: str, messages: list[dict[str, str]], new_tokens: int) -> Sample:
    from openai import OpenAI

    client = OpenAI(base_url=url, api_key="not-needed", max_retries=0, timeout=600)
    t0 = time.perf_counter()
    ttft = None
    usage = None
    stream = client.chat.completions.create(
        model=model,
        messages=cast(Any, messages),
        max_tokens=new_tokens,
        temperature=0,
        stream=True,
        stream_options={"include_usage": True},
        extra_body={"ignore_eos": True},
    )
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content and ttft is None:
            ttft = time.perf_counter() - t0
        if chunk.usage is not None:
            usage = chunk.usage
    total = time.perf_counter() - t0
    assert usage is not None
    cached = usage.prompt_tokens_details.cached_tokens if usage.prompt_tokens_details else 0
    return Sample(ttft or total, total, usage.completion_tokens, cached or 0, usage.prompt_tokens)


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    k = (len(values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def memory_bandwidth_gbs() -> float:
    """Rough single-process copy bandwidth (read + write) with torch, in GB/s."""
    import torch

    a = torch.empty(256 * 1024 * 1024 // 4, dtype=torch.float32).fill_(1.0)
    b = torch.empty_like(a)
    best = float("inf")
    for _ in range(5):
        t = time.perf_counter()
        b.copy_(a)
        best = min(best, time.perf_counter() - t)
    return 2 * a.numel() * 4 / best / 1e9


def run_load(url: str, args: argparse.Namespace, tokenizer: Any) -> list[Row]:
    """Every (prompt mode, client count) combination against one running server."""
    rows = []
    one_request(url, args.model, build_prompts(tokenizer, 1, 64, "distinct")[0], 4)  # warm-up
    for mode in args.mode or ["distinct", "shared"]:
        prompts = build_prompts(tokenizer, args.requests, args.prompt_tokens, mode)
        if mode == "shared":  # a live server has seen the common prefix before
            one_request(url, args.model, prompts[0], 2)
        for clients in (1, args.clients):
            t0 = time.perf_counter()
            with ThreadPoolExecutor(clients) as pool:
                samples = list(
                    pool.map(lambda m: one_request(url, args.model, m, args.new_tokens), prompts)
                )
            rows.append(Row(mode, clients, samples, time.perf_counter() - t0))
    return rows


@dataclass
class Row:
    mode: str
    clients: int
    samples: list[Sample]
    wall: float

    def markdown(self) -> str:
        s, totals = self.samples, [x.total for x in self.samples]
        cols = [
            self.mode,
            str(self.clients),
            str(s[0].prompt_tokens),
            f"{statistics.mean(x.cached_tokens for x in s):.0f}",
            f"{pct([x.ttft for x in s], 0.5):.2f}",
            f"{pct([x.decode_tps for x in s], 0.5):.1f}",
            f"{pct(totals, 0.5):.2f}",
            f"{pct(totals, 0.95):.2f}",
            f"{sum(x.completion_tokens for x in s) / self.wall:.1f}",
        ]
        return "| " + " | ".join(cols) + " |"


HEADER = (
    "| prompt mode | clients | prompt tok | cached tok (mean) | TTFT p50 s | decode tok/s p50 "
    "| total p50 s | total p95 s | throughput tok/s |\n|---|---|---|---|---|---|---|---|---|"
)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workspace", type=Path, default=ROOT / "data")
    parser.add_argument("--base", default="smollm2-135m")
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--dtype", default="bfloat16", help="torch backend only")
    parser.add_argument("--backend", default="auto", choices=["auto", "llama.cpp", "torch"])
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--prompt-tokens", type=int, default=700)
    parser.add_argument("--new-tokens", type=int, default=60)
    parser.add_argument("--mode", action="append", choices=["distinct", "shared"])
    parser.add_argument("--server-arg", action="append", default=[], help="extra server flag")
    args = parser.parse_args()
    # A killed benchmark must still stop its server: turn SIGTERM into SystemExit (runs finally).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    from transformers import AutoTokenizer

    from train.base_models import ensure_converted
    from train.serving.embedded import free_port, running_server, server_command

    model_dir = ensure_converted(args.workspace, args.base)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    port = free_port()
    extra = ["--backend", args.backend, "--dtype", args.dtype, "--max-queue", "64",
             *args.server_arg]
    cmd = server_command(workspace=args.workspace, port=port, base=args.base, extra=extra)
    with running_server(cmd, port=port) as server:
        rows = run_load(server.url, args, tokenizer)
        rss = peak_rss_mib(server.pid)
        with urllib.request.urlopen(f"{server.url.removesuffix('/v1')}/health") as resp:
            engine = json.load(resp)["engine"]

    bf16 = engine == "llama.cpp" or args.dtype == "bfloat16"
    scale = 0.5 if bf16 else 1.0
    weights_bytes = (model_dir / "model.safetensors").stat().st_size * scale
    bw = memory_bandwidth_gbs()
    print(f"Command: `{' '.join(shlex.quote(a) for a in sys.argv)}`  ")
    print(f"Server: `{' '.join(shlex.quote(a) for a in cmd[1:])}`  ")
    print(
        f"Machine: {os.cpu_count()} cores, 1-min load average at the end "
        f"{os.getloadavg()[0]:.1f}; engine {engine}, base {args.base} "
        f"({'BF16' if bf16 else 'FP32'} weights), model `{args.model}`, "
        f"{args.requests} requests per row, {args.new_tokens} new tokens each\n"
    )
    print(HEADER)
    for row in rows:
        print(row.markdown())
    print(f"\nPeak server RSS: {rss:.0f} MiB.  ")
    print(
        f"Weights read per decoded token: {weights_bytes / 1e6:.0f} MB; measured copy bandwidth "
        f"{bw:.1f} GB/s -> memory-bound ceiling about {bw * 1e9 / weights_bytes:.0f} tok/s."
    )


if __name__ == "__main__":
    main()
