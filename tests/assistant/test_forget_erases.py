"""Forget erases: after it, no file of the workspace holds a byte of what was unique to the user
-- profile values, history text, call arguments -- also after a failed step and a retry, and
when the user is forgotten while one of their turns is running."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from assistant import accounts
from assistant.checkpoints import checkpoint_path, forget_hook
from assistant.graph import AssistantGraph
from assistant.turns import answer_consent, run_turn
from profiles.crud import UnknownUser
from profiles.io import PersonaFile
from tests.assistant.conftest import World, fake, order_call

QUINN = {"name": "Quillon Vexmoor", "phone": "+1-555-0177-4242",
         "home_address": "88 Zanzibarre Way, Frostmoor", "email": "quillon@vexmoor.example"}
HISTORY = "ordered a blorptastic noodle bowl"
DISH = "glimmerfrond salad"
TOKENS = [*QUINN.values(), "blorptastic", "glimmerfrond", "Zanzibarre", "Vexmoor"]


def _seed_quinn(world: World) -> None:
    accounts.seed_personas(engine=world.engine, index=world.index, personas=PersonaFile(
        users=[{"id": "u-quinn", "username": "quinn", "basic_features": QUINN,
                "history": [{"scenario": "takeout", "platform": "FastFood",
                             "action": HISTORY}]}]))


def _order(world: World) -> str:
    return order_call("FastFood", dish=DISH, address=QUINN["home_address"], phone=QUINN["phone"])


def _workspace_bytes(root: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _leaks(root: Path) -> list[tuple[str, str]]:
    return [(token, str(path.relative_to(root))) for path, blob in _workspace_bytes(root).items()
            for token in TOKENS if token.encode() in blob]


def _forget(world: World, hooks: list[Callable[[str, list[str]], None]] | None = None
            ) -> accounts.ForgetReport:
    return accounts.forget_user(engine=world.engine, index=world.index, name_or_id="quinn",
                                forget_hooks=hooks or [forget_hook(world.checkpoints)])


def _chat_and_order(world: World, graph: AssistantGraph) -> None:
    context = world.context(fake(_order(world)))
    asked = run_turn(graph, context=context, user="quinn", request=f"order me a {DISH}")
    assert asked.status == "consent", asked.answer
    done = answer_consent(graph, context=context, thread_id=asked.thread_id, granted=True)
    assert done.status == "done", done.answer


def test_the_workspace_holds_the_tokens_before_forget(world: World, graph: AssistantGraph) -> None:
    """The scan can fail: before the forget it finds every kind of token."""
    _seed_quinn(world)
    _chat_and_order(world, graph)
    found = {token for token, _ in _leaks(world.checkpoints.parent)}
    assert {"blorptastic", "glimmerfrond", QUINN["phone"]} <= found


def test_after_forget_no_file_holds_a_unique_token(world: World, graph: AssistantGraph) -> None:
    _seed_quinn(world)
    _chat_and_order(world, graph)
    report = _forget(world)
    assert report.api_records_deleted == 1 and report.threads_deleted == 1
    assert _leaks(world.checkpoints.parent) == []


def test_a_forget_that_fails_half_way_is_finished_by_a_retry(world: World,
                                                             graph: AssistantGraph) -> None:
    _seed_quinn(world)
    _chat_and_order(world, graph)
    calls = []

    def flaky(user_id: str, threads: list[str]) -> None:
        calls.append(user_id)
        if len(calls) == 1:
            raise OSError("disk hiccup")
        forget_hook(world.checkpoints)(user_id, threads)

    with pytest.raises(OSError):
        _forget(world, [flaky])
    with pytest.raises(UnknownUser, match="being forgotten"):  # gone for every lookup already
        run_turn(graph, context=world.context(fake()), user="quinn", request="hi")
    report = _forget(world, [flaky])
    assert report.threads_deleted == 1
    assert _leaks(world.checkpoints.parent) == []
    with pytest.raises(UnknownUser):
        _forget(world)


def test_a_forget_during_a_turn_leaves_nothing_of_the_turn(world: World,
                                                           graph: AssistantGraph) -> None:
    _seed_quinn(world)

    def forget_then_answer() -> str:
        _forget(world)
        return _order(world)

    with pytest.raises(UnknownUser, match="forgotten while this turn ran"):
        run_turn(graph, context=world.context(fake(forget_then_answer)), user="quinn",
                 request=f"order me a {DISH}")
    assert _leaks(world.checkpoints.parent) == []
    assert checkpoint_path(world.checkpoints.parent) == world.checkpoints
