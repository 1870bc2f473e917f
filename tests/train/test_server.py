"""The embedded server with the real bundled SmolLM2-135M, driven through the ``openai`` client.

One server process per module (model load is the slow part). The converted model is cached in
pytest's cache folder so only the first run ever pays the GGUF conversion.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import openai
import pytest

from assistant.answer_grammar import answer_grammar
from assistant.parsing import parse_answer_text
from toolcatalog.loader import load_catalog
from train.base_models import ensure_converted
from train.serving.embedded import embedded_server

pytestmark = pytest.mark.model

BASE = "smollm2-135m"


def _random_lora(model_dir: Path, out: Path) -> Path:
    """A rank-8 LoRA with random A and B (init_lora_weights=False), so it must change outputs."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    config = LoraConfig(
        r=8,
        lora_alpha=16,
        target_modules=["q_proj", "v_proj"],
        init_lora_weights=False,
        task_type="CAUSAL_LM",
    )
    get_peft_model(model, config).save_pretrained(out)
    return out


@pytest.fixture(scope="module")
def workspace(request: pytest.FixtureRequest) -> Path:
    return Path(request.config.cache.mkdir("ptool-train-workspace"))


@pytest.fixture(scope="module")
def server(workspace: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    model_dir = ensure_converted(workspace, BASE)
    adapter = _random_lora(model_dir, tmp_path_factory.mktemp("adapters") / "ptool")
    with embedded_server(
        workspace=workspace, base=BASE, adapters={"ptool": adapter}, extra=["--max-queue", "8"]
    ) as running:
        yield running.url


@pytest.fixture()
def client(server: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=server, api_key="not-needed", max_retries=0, timeout=120)


def ask(client: openai.OpenAI, text: str, **kw: Any) -> Any:
    kw.setdefault("model", BASE)
    kw.setdefault("max_tokens", 24)
    return client.chat.completions.create(messages=[{"role": "user", "content": text}], **kw)


def test_models_lists_base_and_adapter_and_health(client: openai.OpenAI, server: str) -> None:
    models = {m.id: m.model_extra or {} for m in client.models.list().data}
    assert models[BASE]["adapter"] is None
    assert models["ptool"]["adapter"].endswith("ptool")
    assert httpx.get(server.removesuffix("/v1") + "/health").json()["status"] == "ok"


def test_plain_and_streamed_answers_agree_at_temperature_zero(client: openai.OpenAI) -> None:
    plain = ask(client, "What is the capital of France?")
    assert "Paris" in plain.choices[0].message.content
    assert plain.system_fingerprint == f"{BASE}+base"
    chunks = list(ask(client, "What is the capital of France?", stream=True))
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert streamed == plain.choices[0].message.content
    assert chunks[-1].choices[0].finish_reason in ("stop", "length")


def test_tool_call_round_trip(client: openai.OpenAI) -> None:
    catalog = load_catalog()
    _, _, api = next(t for t in catalog.iter_apis("takeout") if t[2].required)
    tool = api.openai_tool()
    messages: list[Any] = [{"role": "user", "content": "Find me a burger place near the office."}]
    first = client.chat.completions.create(
        model=BASE, messages=messages, tools=[tool], tool_choice="required", max_tokens=96
    )
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls"
    call = choice.message.tool_calls[0]
    assert call.function.name == api.name
    jsonschema.validate(json.loads(call.function.arguments), api.function.parameters)

    messages += [
        choice.message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": json.dumps({"results": []})},
    ]
    final = client.chat.completions.create(
        model=BASE, messages=messages, tools=[tool], tool_choice="none", max_tokens=24
    )
    assert final.choices[0].message.content
    assert not final.choices[0].message.tool_calls

    streamed = list(
        client.chat.completions.create(
            model=BASE,
            messages=messages[:1],
            tools=[tool],
            stream=True,
            max_tokens=96,
            tool_choice={"type": "function", "function": {"name": api.name}},
        )
    )
    deltas = [c.choices[0].delta for c in streamed if c.choices]
    calls = [tc for d in deltas for tc in (d.tool_calls or [])]
    assert calls and calls[0].function.name == api.name
    assert streamed[-1].choices[0].finish_reason == "tool_calls"


def _catalog_schemas(n: int) -> list[tuple[str, dict[str, Any]]]:
    seen: dict[str, tuple[str, dict[str, Any]]] = {}
    for _, _, api in load_catalog().iter_apis():
        key = json.dumps(api.function.parameters, sort_keys=True)
        seen.setdefault(key, (api.function.description, api.function.parameters))
    schemas = list(seen.values())
    assert len(schemas) >= n, "catalog has too few distinct parameter schemas"
    step = len(schemas) / n
    return [schemas[int(i * step)] for i in range(n)]


def test_json_schema_output_validates_for_20_catalog_schemas(client: openai.OpenAI) -> None:
    for description, schema in _catalog_schemas(20):
        reply = ask(
            client,
            f"Give short example arguments as JSON for: {description}",
            max_tokens=400,
            response_format={
                "type": "json_schema",
                "json_schema": {"name": "args", "schema": schema},
            },
        )
        choice = reply.choices[0]
        assert choice.finish_reason == "stop", f"ran out of tokens: {choice.message.content!r}"
        jsonschema.validate(json.loads(choice.message.content), schema)


def test_ebnf_grammar_in_vllm_fields_pins_the_answer_format(client: openai.OpenAI) -> None:
    """The assistant's answer grammar (``structured_outputs.grammar``, and the older
    ``guided_grammar``): whatever the untrained model wants to say, the answer parses and calls a
    listed API of the platform it names."""
    catalog = load_catalog()
    scenario = catalog.scenarios["takeout"]
    tools = [(p.name, api.openai_tool()) for p in scenario.platforms for api in p.apis[:3]]
    grammar = answer_grammar([p.name for p in scenario.platforms], tools)
    assert grammar is not None
    owners = {tool["function"]["name"]: owner for owner, tool in tools}
    for field in ({"structured_outputs": {"grammar": grammar}}, {"guided_grammar": grammar}):
        reply = ask(client, "Order me a burger.", max_tokens=200, extra_body=field)
        choice = reply.choices[0]
        assert choice.finish_reason == "stop", choice.message.content
        parsed = parse_answer_text(choice.message.content)
        assert parsed.calls and all(owners[c.name] == parsed.platform for c in parsed.calls)
        # jump-forward: text such as "(dish='" is fed without a decode step per token
        details = reply.usage.model_dump()["completion_tokens_details"]
        assert 0 < details["forced_tokens"] < reply.usage.completion_tokens
    with pytest.raises(openai.BadRequestError, match="grammar"):
        ask(client, "hi", extra_body={"structured_outputs": {"grammar": "root ::= nope"}})
    with pytest.raises(openai.BadRequestError, match="must be a string"):
        ask(client, "hi", extra_body={"guided_grammar": 3})


def test_unknown_model_is_404(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError, match="does not exist"):
        ask(client, "hi", model="gpt-9")


def test_malformed_requests_are_400_with_a_message(client: openai.OpenAI, server: str) -> None:
    with pytest.raises(openai.BadRequestError, match="temperature"):
        ask(client, "hi", temperature=7)
    with pytest.raises(openai.BadRequestError, match="cannot build a grammar"):
        ask(
            client,
            "hi",
            response_format={
                "type": "json_schema",
                "json_schema": {
                    "name": "x",
                    "schema": {"type": "object", "properties": {"a": {"$ref": "#/nope"}}},
                },
            },
        )
    raw = httpx.post(
        f"{server}/chat/completions",
        content=b"{not json",
        headers={"content-type": "application/json"},
    )
    assert raw.status_code == 400 and raw.json()["error"]["message"]


def test_server_survives_client_disconnecting_mid_stream(
    client: openai.OpenAI, server: str
) -> None:
    with _long_request(server, stream=True) as sock:
        received = b""
        while b"data:" not in received:  # read until streaming has started ...
            chunk = sock.recv(4096)
            assert chunk, f"connection closed before any event: {received!r}"
            received += chunk
    # ... and the socket is gone. The server must stop that generation and keep answering.
    health = server.removesuffix("/v1") + "/health"
    before = httpx.get(health).json()["completed"]
    deadline = time.monotonic() + 60
    while httpx.get(health).json()["cancelled"] < 1:
        assert time.monotonic() < deadline, "the abandoned generation was never cancelled"
        time.sleep(0.2)
    reply = ask(client, "What is the capital of France?")
    assert "Paris" in reply.choices[0].message.content
    assert httpx.get(health).json()["completed"] == before + 1


def _health(server: str) -> dict[str, Any]:
    return dict(httpx.get(server.removesuffix("/v1") + "/health").json())


def _long_request(server: str, *, stream: bool) -> socket.socket:
    """A raw connection that has sent a request for a long generation and reads nothing."""
    body = {
        "model": BASE,
        "stream": stream,
        "max_tokens": 1000,
        "ignore_eos": True,
        "messages": [{"role": "user", "content": "Tell me a very long story."}],
    }
    host, port = server.removeprefix("http://").removesuffix("/v1").split(":")
    payload = json.dumps(body).encode()
    sock = socket.create_connection((host, int(port)))
    sock.sendall(
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(payload)}\r\n\r\n".encode()
        + payload
    )
    return sock


def _wait_for(server: str, what: str, done: Any, bound_s: float = 60) -> dict[str, Any]:
    """Poll /health until ``done(health)``; a liveness bound, not a timing assertion."""
    deadline = time.monotonic() + bound_s
    while not done(health := _health(server)):
        assert time.monotonic() < deadline, f"{what}: {health}"
        time.sleep(0.1)
    return health


def test_non_streamed_client_that_disconnects_stops_within_a_few_tokens(server: str) -> None:
    before = _health(server)["cancelled"]
    with _long_request(server, stream=False):
        # submitted and taken off the queue: the worker is generating it
        _wait_for(server, "never started", lambda h: h["in_flight"] == 1 and h["queued"] == 0)
    health = _wait_for(server, "never cancelled", lambda h: h["cancelled"] == before + 1)
    assert health["max_tokens_after_cancel"] <= 4
    assert health["in_flight"] == 0


def test_abandoned_requests_do_not_starve_a_new_one(client: openai.OpenAI, server: str) -> None:
    """A running job and a queue full of waiting ones, all abandoned: the server drops them
    all (the queued ones without running them) and answers the next client."""
    before = _health(server)["cancelled"]
    socks = [_long_request(server, stream=i % 2 == 0) for i in range(8)]  # 1 running + 7 queued
    try:
        _wait_for(server, "not all submitted", lambda h: h["in_flight"] == 8)
    finally:
        for sock in socks:
            sock.close()
    _wait_for(server, "abandoned jobs kept running",
              lambda h: h["cancelled"] == before + 8 and h["in_flight"] == 0 and h["queued"] == 0)
    assert _health(server)["max_tokens_after_cancel"] <= 4
    reply = ask(client, "What is the capital of France?")
    assert "Paris" in reply.choices[0].message.content


def test_prompt_plus_max_tokens_beyond_the_context_window_is_400(
    client: openai.OpenAI, server: str
) -> None:
    window = _health(server)["context_window"]
    assert window == 4096  # one of the 4 sequences llama.cpp decodes together
    with pytest.raises(openai.BadRequestError, match="context window is 4096 tokens") as exc:
        ask(client, "hi", max_tokens=window)
    assert exc.value.code == "context_length_exceeded"


def test_oversized_body_is_413(server: str) -> None:
    message = {"role": "user", "content": "x" * (1 << 20)}
    payload = json.dumps({"model": BASE, "messages": [message]}).encode()
    url = f"{server}/chat/completions"
    headers = {"content-type": "application/json"}
    declared = httpx.post(url, content=payload, headers=headers)
    chunked = httpx.post(url, content=iter([payload[:1000], payload[1000:]]), headers=headers)
    for reply in (declared, chunked):
        assert reply.status_code == 413
        assert "exceeds 1048576 bytes" in reply.json()["error"]["message"]
    assert _health(server)["in_flight"] == 0


def test_lora_adapter_changes_the_output(client: openai.OpenAI) -> None:
    base = ask(client, "Name three colours.", model=BASE)
    tuned = ask(client, "Name three colours.", model="ptool")
    assert tuned.system_fingerprint == f"{BASE}+ptool"
    assert tuned.choices[0].message.content != base.choices[0].message.content
