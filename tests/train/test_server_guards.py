"""The model server's protections with the real bundled SmolLM2-135M: API key, deadline, and
the embedded server exiting when the process that started it dies.

Its own server (with a key and a 1 s deadline), so the main server tests run without either.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest

from train.serving.embedded import embedded_server

pytestmark = pytest.mark.model

BASE = "smollm2-135m"
KEY = "test-key-0123"
ROOT = Path(__file__).resolve().parents[2]
LONG = {
    "model": BASE,
    "max_tokens": 2000,
    "ignore_eos": True,
    "messages": [{"role": "user", "content": "Tell me a very long story."}],
}


@pytest.fixture(scope="module")
def workspace(request: pytest.FixtureRequest) -> Path:
    return Path(request.config.cache.mkdir("ptool-train-workspace"))


@pytest.fixture(scope="module")
def no_adapters(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("no-adapters")


@pytest.fixture(scope="module")
def keyed(workspace: Path, no_adapters: Path) -> Iterator[str]:
    """A server that requires ``KEY`` and stops every request after 1 s."""
    with embedded_server(workspace=workspace, base=BASE, adapter_dir=no_adapters, api_key=KEY,
                         extra=["--request-timeout", "1"]) as running:
        yield running.url


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_missing_or_wrong_key_is_401_and_health_stays_open(keyed: str) -> None:
    for headers in ({}, _auth("wrong"), {"Authorization": KEY}):
        for reply in (
            httpx.get(f"{keyed}/models", headers=headers),
            httpx.post(f"{keyed}/chat/completions", json=LONG, headers=headers),
        ):
            assert reply.status_code == 401, reply.text
            assert "API key" in reply.json()["error"]["message"]
    assert httpx.get(f"{keyed}/models", headers=_auth(KEY)).status_code == 200
    assert httpx.get(keyed.removesuffix("/v1") + "/health").json()["status"] == "ok"
    client = openai.OpenAI(base_url=keyed, api_key="wrong", max_retries=0, timeout=60)
    with pytest.raises(openai.AuthenticationError, match="wrong API key"):
        client.models.list()


def test_deadline_stops_the_request_with_504_or_a_stream_error(keyed: str) -> None:
    plain = httpx.post(f"{keyed}/chat/completions", json=LONG, headers=_auth(KEY), timeout=60)
    assert plain.status_code == 504
    assert plain.json()["error"]["code"] == "deadline_exceeded"

    with httpx.stream("POST", f"{keyed}/chat/completions", json={**LONG, "stream": True},
                      headers=_auth(KEY), timeout=60) as streamed:
        assert streamed.status_code == 200
        events = [line.removeprefix("data: ") for line in streamed.iter_lines()
                  if line.startswith("data: ")]
    assert json.loads(events[-1])["error"]["code"] == "deadline_exceeded"
    health = httpx.get(keyed.removesuffix("/v1") + "/health").json()
    assert health["stopped"]["deadline"] == 2
    assert health["max_tokens_after_cancel"] <= 4


PARENT = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from train.serving.embedded import embedded_server

    workspace, base, adapters = sys.argv[1:4]
    with embedded_server(workspace=Path(workspace), base=base, adapter_dir=Path(adapters)) as s:
        print(s.pid, flush=True)
        time.sleep(600)
""")


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for init to reap it counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_embedded_server_exits_when_its_parent_is_killed(
    workspace: Path, no_adapters: Path
) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, str(workspace), BASE, str(no_adapters)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT,
    )
    child = 0
    try:
        line = parent.stdout.readline() if parent.stdout else ""
        if not line.strip().isdigit():
            parent.kill()
            pytest.fail(f"the parent did not start the server: {parent.communicate()[1]}")
        child = int(line)
        assert _alive(child)
        parent.kill()  # SIGKILL: no chance to stop its child
        parent.wait()
        deadline = time.monotonic() + 10
        while _alive(child):
            assert time.monotonic() < deadline, "the server outlived its parent by 10 s"
            time.sleep(0.2)
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        if child and _alive(child):
            os.kill(child, signal.SIGKILL)
