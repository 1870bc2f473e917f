"""A real langchain ``BaseChatModel`` that answers tool-calling (structured output) requests
from recorded responses: each is picked by the requested schema name and a substring of the
prompt, so answers do not depend on call order (the runner calls concurrently).

Also the world those responses were recorded for (``SMALL_WORLD``, ``ONE_USER``), which
``bench/synth_llm_smoke.py`` builds with a real model."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import PrivateAttr

from profiles.models import BasicFeatures
from synth.backends.llm import LLMWorldConfig
from synth.models import Persona

FIXTURE = Path(__file__).parent / "fixtures" / "llm_responses.json"

SMALL_WORLD = LLMWorldConfig(
    seed=0,
    scenarios=("shopping",),
    platforms=2,
    areas=1,
    apis_per_area=2,
    users=1,
    events_per_scenario=3,
    samples_per_pair=4,
)
"""Every stage of the LLM backend at its smallest: two platforms to prefer between, one area
of two APIs, one user."""
ONE_USER = Persona(
    id="u-t",
    username="tess",
    traits={"budget": "frugal"},
    basic_features=BasicFeatures(
        name="Tess Doe",
        home_address="1 Main St, Springfield",
        email="tess@example.com",
        phone="+1-555-0100",
    ),
)
"""The one user of ``SMALL_WORLD``: a home address, so a sample can fill one from the profile."""


class RecordedChatModel(BaseChatModel):
    responses: list[dict[str, Any]]
    fail_first: int = 0
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)
    _calls: int = PrivateAttr(default=0)

    @classmethod
    def from_fixture(cls, **kwargs: Any) -> RecordedChatModel:
        return cls(responses=json.loads(FIXTURE.read_text()), **kwargs)

    @property
    def _llm_type(self) -> str:
        return "recorded"

    @property
    def calls(self) -> int:
        return self._calls

    def bind_tools(self, tools: Any, **kwargs: Any) -> Any:
        return self.bind(tools=[convert_to_openai_tool(t) for t in tools], **kwargs)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> ChatResult:
        with self._lock:
            self._calls += 1
            if self._calls <= self.fail_first:
                raise ConnectionError("recorded transient failure")
        schema = kwargs["tools"][0]["function"]["name"]
        prompt = str(messages[-1].content)
        match = next(r for r in self.responses if r["schema"] == schema and r["match"] in prompt)
        message = AIMessage(
            content="",
            tool_calls=[{"name": schema, "args": match["args"], "id": "c1"}],
            usage_metadata={
                "input_tokens": len(prompt) // 4,
                "output_tokens": 20,
                "total_tokens": len(prompt) // 4 + 20,
            },
        )
        return ChatResult(generations=[ChatGeneration(message=message)])
