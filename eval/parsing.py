"""The paper's output formats, as eval uses them: a thin re-export of :mod:`assistant.parsing`.

Why a re-export: the runtime and the benchmark must parse model output with the very same code
(one source of truth), and ``assistant`` is the lower layer eval may import. The behaviour kept
from the reference harness (hyfshadow/PTBench ``src/parse.py``) and the deliberate, documented
differences are described in :mod:`assistant.parsing`.
"""

from __future__ import annotations

from assistant.parsing import (
    Call,
    OutputFormat,
    ParsedOutput,
    ParseError,
    RenderError,
    parse_json,
    parse_output,
    parse_text,
    render_call,
    render_json,
    render_text,
)

__all__ = [
    "Call",
    "OutputFormat",
    "ParseError",
    "ParsedOutput",
    "RenderError",
    "parse_json",
    "parse_output",
    "parse_text",
    "render_call",
    "render_json",
    "render_text",
]
