"""The chat model over the embedded server: the server starts in the background and the first
model call waits for it; a server that cannot start fails that call with its log, as a
connection error the runtime already reports."""

from __future__ import annotations

import time
from pathlib import Path

import openai
import pytest

from train.serving import embedded
from train.serving.client import chat_model

pytestmark = pytest.mark.model

BASE = "smollm2-135m"


def test_the_block_starts_before_the_server_answers_and_the_first_call_waits(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    workspace = Path(request.config.cache.mkdir("ptool-train-workspace"))
    start = time.monotonic()
    with chat_model(None, BASE, workspace=workspace, base=BASE, adapter_dir=tmp_path,
                    max_tokens=4, max_retries=0, timeout=120) as model:
        entered = time.monotonic() - start
        url = str(model.openai_api_base).removesuffix("/v1")
        assert not embedded._healthy(url)  # the model is still loading
        reply = model.invoke([{"role": "user", "content": "Say hi."}])
        assert isinstance(reply.content, str) and reply.content
    assert entered < 2.0


def test_a_server_that_cannot_start_fails_the_call_with_its_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(**kw: object) -> list[str]:
        return [embedded.sys.executable, "-c", "raise SystemExit('no model file here')"]

    monkeypatch.setattr(embedded, "server_command", broken)
    with (chat_model(None, BASE, workspace=tmp_path, max_retries=0, timeout=30) as model,
          pytest.raises(openai.APIConnectionError) as failed):
        model.invoke([{"role": "user", "content": "Say hi."}])
    root: BaseException = failed.value
    while root.__cause__ is not None:
        root = root.__cause__
    assert "exited with 1" in str(root) and "no model file here" in str(root)
