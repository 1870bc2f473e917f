"""The paper's single benchmark prompt (prompt mode).

NOTE: this text moves to ``assistant/prompts.py`` -- the project's single prompt module -- once
that module exists; eval will then import it from there. It lives here only because the
assistant package is being built in parallel.

Why the exact wording and ``str()`` rendering: prompt mode reproduces the paper's setting, in
which the reference harness formats the profile, platforms and tools with Python's ``str`` into
this system prompt and sends the query as the user message. Changing the text changes results.
"""

from __future__ import annotations

from typing import Any

PAPER_SYSTEM_PROMPT = (
    "You are given a user profile:{profile}. \n"
    "Here is some platforms:{platforms}. \n"
    "Here is some apis under the platforms:{tools}.\n"
    "The user will give you a query. Based on the profile, try to solve the query by using the "
    "platforms and apis. The platform you choose should fit the user profile or the needs of the "
    "user's query. All the necessary information are provided in the user profile. DO NOT ask "
    "the user for further information. \n"
    "You should respond in the format of {format} No other text MUST be included."
)

TEXT_FORMAT = "platform:[func1(param1_name = param1_value, param2...), func2...]"
JSON_FORMAT = (
    "{'platform':platform_name, 'functions':[{'name':func1_name, "
    "'parameters':{param1_name:param1_value, param2...}}, func2...]}"
)
FORMAT_INSTRUCTIONS = {"text": TEXT_FORMAT, "json": JSON_FORMAT}


def render_paper_prompt(
    profile: dict[str, Any] | str,
    platforms: list[dict[str, Any]],
    tools: list[dict[str, Any]],
    output_format: str = "text",
) -> str:
    """The system prompt: profile, platforms, every tool of the scenario, format instruction."""
    return PAPER_SYSTEM_PROMPT.format(
        profile=profile,
        platforms=platforms,
        tools=tools,
        format=FORMAT_INSTRUCTIONS[output_format],
    )
