"""History inspector: the picked persona's events -- filter, search by meaning, chart, edit, forget.

Every write goes through ``assistant.accounts`` (database first, index second), so the next chat
turn already retrieves the new evidence: no cache lives in the app.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import gradio as gr
import pandas as pd
from sqlmodel import Session

from assistant import accounts
from profiles import crud
from profiles.crud import UnknownUser
from profiles.models import HistoryEventCreate
from ui.chat_adapter import ChatService
from ui.render import md_text
from ui.session import BrowserSession
from ui.wiring import Workspace

ALL = "(all)"
SINCE = {"any time": None, "last 7 days": 7, "last 30 days": 30, "last 365 days": 365}
EVENT_COLUMNS = ["id", "time", "scenario", "platform", "action", "source"]
SEARCH_COLUMNS = ["score", "scenario", "platform", "action", "time"]


def _opt(value: str | None) -> str | None:
    return None if not value or value == ALL else value


def events_table(ws: Workspace, sess: BrowserSession, scenario: str | None = None,
                 platform: str | None = None, since: str = "any time",
                 now: datetime | None = None) -> pd.DataFrame:
    """The persona's events, newest first, filtered by scenario, platform and age."""
    if not sess.user_id:
        return pd.DataFrame(columns=EVENT_COLUMNS)
    days = SINCE.get(since)
    cutoff = (now or datetime.now(UTC)) - timedelta(days=days) if days else None
    with Session(ws.engine) as session:
        rows = crud.list_events(session=session, user_id=sess.user_id,
                                scenario=_opt(scenario), platform=_opt(platform))
    data = [[e.id, e.timestamp.isoformat()[:16].replace("T", " "), e.scenario, e.platform,
             e.action, e.source.value]
            for e in reversed(rows)
            if cutoff is None or e.timestamp.replace(tzinfo=e.timestamp.tzinfo or UTC) >= cutoff]
    return pd.DataFrame(data, columns=EVENT_COLUMNS)


def counts_frame(table: pd.DataFrame) -> pd.DataFrame:
    """Events per (scenario, platform) of the shown table: what the chart draws."""
    if table.empty:
        return pd.DataFrame({"scenario": [], "platform": [], "events": []})
    grouped = table.groupby(["scenario", "platform"]).size().reset_index(name="events")
    return grouped.sort_values(["scenario", "events"], ascending=[True, False])


def semantic_search(ws: Workspace, sess: BrowserSession, text: str,
                    scenario: str | None = None, k: int = 8) -> pd.DataFrame:
    if not sess.user_id or not text.strip():
        return pd.DataFrame(columns=SEARCH_COLUMNS)
    hits = ws.index.search(user_id=sess.user_id, text=text, k=k, scenario=_opt(scenario))
    return pd.DataFrame([[round(1 - h.distance, 3), h.scenario, h.platform, h.action,
                          h.timestamp[:16].replace("T", " ")] for h in hits],
                        columns=SEARCH_COLUMNS)


def platforms_of(ws: Workspace, scenario: str | None) -> list[str]:
    scen = _opt(scenario)
    names = ([p.name for p in ws.catalog.scenario(scen).platforms] if scen else
             sorted(p.name for s in ws.catalog.scenarios.values() for p in s.platforms))
    return names


def add_event(ws: Workspace, sess: BrowserSession, scenario: str | None, platform: str | None,
              action: str) -> str:
    if not sess.user_id:
        return "Pick a persona first."
    scen, plat = _opt(scenario), _opt(platform)
    if not scen or not plat or not action.strip():
        return "Choose a scenario and a platform, and describe what the persona did."
    if plat not in platforms_of(ws, scen):
        return f"{plat} is not a platform of {scen}."
    rows = accounts.record_events(
        engine=ws.engine, index=ws.index, user_id=sess.user_id,
        events=[HistoryEventCreate(scenario=scen, platform=plat, action=action.strip())])
    return f"Added event {rows[0].id}: {md_text(f'[{plat}] {action.strip()}')}"


def delete_event(ws: Workspace, sess: BrowserSession, event_id: float | None) -> str:
    if not sess.user_id or event_id is None:
        return "Pick a persona and enter an event id from the table."
    ok = accounts.delete_event(engine=ws.engine, index=ws.index, user_id=sess.user_id,
                               event_id=int(event_id))
    if ok:
        return f"Deleted event {int(event_id)}."
    return f"{md_text(sess.username)} has no event {int(event_id)}."


def forget(svc: ChatService, sess: BrowserSession, confirmed: bool) -> tuple[str, BrowserSession]:
    if not sess.user_id:
        return "Pick a persona first.", sess
    if not confirmed:
        return "Tick the confirmation box first: forgetting cannot be undone.", sess
    try:
        report = svc.forget(sess.user_id)
    except UnknownUser as exc:
        return md_text(str(exc)), BrowserSession()
    return (f"Forgot **{md_text(report.username)}**: {report.events_deleted} events, "
            f"{report.threads_deleted} conversations, {report.api_records_deleted} platform "
            "records deleted."), BrowserSession()


@dataclass
class HistoryTab:
    refresh: Callable[..., Any]
    inputs: list[Any]
    outputs: list[Any]
    forgot: Any
    """The forget event: the app chains the persona list and chat refreshes on it."""


def build(svc: ChatService, state: gr.State) -> HistoryTab:
    """Lay out the tab and wire its events."""
    ws = svc.workspace
    scenarios = [ALL, *sorted(ws.catalog.scenarios)]
    with gr.Row():
        scen = gr.Dropdown(scenarios, value=ALL, label="Scenario", elem_id="hist-scenario")
        plat = gr.Dropdown([ALL, *platforms_of(ws, None)], value=ALL, label="Platform",
                           elem_id="hist-platform")
        since = gr.Dropdown(list(SINCE), value="any time", label="Time", elem_id="hist-since")
    with gr.Row():
        table = gr.Dataframe(headers=EVENT_COLUMNS, label="Events", interactive=False,
                             wrap=True, max_height=360, scale=3, elem_id="hist-table")
        chart = gr.BarPlot(x="platform", y="events", color="scenario", label="Events per platform",
                           scale=2, elem_id="hist-chart", x_label_angle=-30)
    with gr.Row():
        query = gr.Textbox(label="Search this persona's history by meaning", scale=4,
                           placeholder="e.g. cheap burgers", elem_id="hist-query")
        search = gr.Button("Search", scale=1, elem_id="hist-search")
    hits = gr.Dataframe(headers=SEARCH_COLUMNS, label="Closest events", interactive=False,
                        wrap=True, elem_id="hist-hits")
    with gr.Accordion("Add or delete an event", open=False):
        with gr.Row():
            add_scen = gr.Dropdown(scenarios[1:], label="Scenario", elem_id="add-scenario")
            add_plat = gr.Dropdown([], label="Platform", elem_id="add-platform")
            add_action = gr.Textbox(label="What the persona did", elem_id="add-action")
            add = gr.Button("Add event", elem_id="add-event")
        with gr.Row():
            del_id = gr.Number(label="Event id", precision=0, elem_id="del-id")
            delete = gr.Button("Delete event", elem_id="del-event")
    with gr.Accordion("Forget this persona", open=False):
        sure = gr.Checkbox(label="I understand: this deletes the persona, its history and its "
                                 "conversations for good", elem_id="forget-sure")
        forget_btn = gr.Button("Forget persona", variant="stop", elem_id="forget-btn")
    status = gr.Markdown(elem_id="hist-status")

    def on_refresh(sess: BrowserSession, s: str, p: str, t: str
                   ) -> tuple[pd.DataFrame, pd.DataFrame]:
        frame = events_table(ws, sess, s, p, t)
        return frame, counts_frame(frame)

    filters = [state, scen, plat, since]
    for dd in (plat, since):
        dd.change(on_refresh, filters, [table, chart])
    scen.change(lambda s: gr.Dropdown([ALL, *platforms_of(ws, s)], value=ALL), scen, plat
                ).then(on_refresh, filters, [table, chart])
    search.click(lambda sess, q, s: semantic_search(ws, sess, q, s), [state, query, scen], hits)
    query.submit(lambda sess, q, s: semantic_search(ws, sess, q, s), [state, query, scen], hits)
    add_scen.change(lambda s: gr.Dropdown(platforms_of(ws, s), value=None), add_scen, add_plat)
    add.click(lambda sess, s, p, a: add_event(ws, sess, s, p, a),
              [state, add_scen, add_plat, add_action], status
              ).then(on_refresh, filters, [table, chart])
    delete.click(lambda sess, i: delete_event(ws, sess, i), [state, del_id], status
                 ).then(on_refresh, filters, [table, chart])
    forgot = forget_btn.click(lambda sess, ok: forget(svc, sess, ok), [state, sure],
                              [status, state])
    forgot.then(on_refresh, filters, [table, chart])
    return HistoryTab(refresh=on_refresh, inputs=filters, outputs=[table, chart], forgot=forgot)
