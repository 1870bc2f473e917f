"""Wiring of the assistant graph (flat, at the bottom: ``graph``).

    START -> load_profile -> retrieve_tools -> retrieve_history -> score_platforms
          -> ground_values -> decide
    retrieve_tools --the router is unsure which kind of service--> respond (asks)
    ground_values --a required value nothing supplies--> respond (asks)
    decide -> validate
    validate --repair (errors, one round)--> decide
    validate --clarify | invalid after repair | benchmark mode--> respond
    validate --a state change, untrusted recipient/amount, or sensitive data to a new platform-->
             confirm (interrupt: the exact calls and sources) -> execute | respond
    validate --ok--> execute -> respond -> END

Tools are retrieved before history because the history search is restricted to the scenario
the tool retrieval picks.
"""

from __future__ import annotations

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from assistant import nodes, validation
from assistant.context import Context
from assistant.state import State, TurnInput

AssistantGraph = CompiledStateGraph[State, Context, TurnInput, State]


def build_graph(checkpointer: BaseCheckpointSaver[str] | None = None) -> AssistantGraph:
    """Compile the graph; pass a checkpointer (``checkpoints.open_checkpointer``) for threads."""
    builder = StateGraph(State, context_schema=Context, input_schema=TurnInput)
    builder.add_node("load_profile", nodes.load_profile)
    builder.add_node("retrieve_tools", nodes.retrieve_tools)
    builder.add_node("retrieve_history", nodes.retrieve_history)
    builder.add_node("score_platforms", nodes.score_platforms)
    builder.add_node("ground_values", nodes.ground_values)
    builder.add_node("decide", nodes.decide)
    builder.add_node("validate", validation.validate)
    builder.add_node("confirm", nodes.confirm)
    builder.add_node("execute", nodes.execute)
    builder.add_node("respond", nodes.respond)
    builder.add_edge(START, "load_profile")
    builder.add_edge("load_profile", "retrieve_tools")
    builder.add_conditional_edges("retrieve_tools", nodes.route_after_tools)
    builder.add_edge("retrieve_history", "score_platforms")
    builder.add_edge("score_platforms", "ground_values")
    builder.add_conditional_edges("ground_values", nodes.route_after_grounding)
    builder.add_edge("decide", "validate")
    builder.add_conditional_edges("validate", nodes.route_after_validate)
    builder.add_conditional_edges("confirm", nodes.route_after_confirm)
    builder.add_edge("execute", "respond")
    builder.add_edge("respond", END)
    return builder.compile(checkpointer=checkpointer, name="ptool-assistant")


graph = build_graph()
"""The graph without persistence (benchmark mode, LangGraph tooling)."""
