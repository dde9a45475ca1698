"""Turn a chat conversation into what a classifier reads: the latest user turn, its context, code replaced by markers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

# Fenced blocks and stack traces say "there is code / an error here"; their contents are noise.
_FENCE = re.compile(r"```[^\n]*\n?(.*?)(```|$)", re.S)
_TRACE_LINE = re.compile(
    r"^\s*(Traceback \(most recent call last\)|File \".*\", line \d+|at [\w$.<>]+\(.*\)|"
    r"[\w.]*(Error|Exception)(:|\b)|npm ERR!|panic:|Caused by:)",
    re.M,
)
_CODE_LINE = re.compile(r"^\s*(def |class |import |from \S+ import|public |private |func |fn |#include|"
                        r"const |let |var |return\b|if .*[:{]$|for .*[:{]$|while .*[:{]$|[}{;]$)")
_INLINE_CODE = re.compile(r"`([^`\n]{1,200})`")
CODE_MARKER = "existing code"
ERROR_MARKER = "error stack trace"
MAX_CHARS = 1200  # intent shows early; the rest costs latency and dilutes the signal


MATERIAL_MIN_CHARS = 200  # a shorter message is all instruction
INSTRUCTION_LINE_CHARS = 200  # a closing line this short is an instruction too ("...\n\nSummarise this?")


@dataclass(frozen=True)
class Query:
    """The latest user turn (cleaned), the earlier user turns, and what was stripped from the latest.

    `latest` is the instruction; `material` is what the user pasted below it (an email, a report,
    a diff): it says what the text is about, not what to do with it.
    """

    latest: str
    context: tuple[str, ...]
    had_code: bool
    had_trace: bool
    material: str = ""


def message_text(message: dict[str, Any]) -> str:
    """Plain text of an OpenAI message whose content is a string or a list of parts."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            part.get("text", "") for part in content
            if isinstance(part, dict) and part.get("type") in (None, "text", "input_text")
        )
    return ""


def strip_code(text: str) -> tuple[str, bool, bool]:
    """Replace fenced code, stack traces and code-looking lines by short markers."""
    had_trace = bool(_TRACE_LINE.search(text))
    had_code = False

    def _fence(match: re.Match[str]) -> str:
        nonlocal had_code
        had_code = True
        return f" {CODE_MARKER} "

    text = _FENCE.sub(_fence, text)
    kept: list[str] = []
    for line in text.splitlines():
        if _TRACE_LINE.match(line) and not kept[-1:] == [ERROR_MARKER]:
            kept.append(ERROR_MARKER)
        elif _TRACE_LINE.match(line):
            continue
        elif _CODE_LINE.match(line):
            had_code = True
            if kept[-1:] != [CODE_MARKER]:
                kept.append(CODE_MARKER)
        else:
            kept.append(line)
    text = " ".join(kept)
    if _INLINE_CODE.search(text):
        had_code = True
        text = _INLINE_CODE.sub(f" {CODE_MARKER} ", text)
    return re.sub(r"\s+", " ", text).strip()[:MAX_CHARS], had_code, had_trace


def split_material(text: str) -> tuple[str, str]:
    """(instruction, material): the first line and a short last line, and the lines between them.

    "My boss wants this in two lines:\n\nFrom: Priya ... refund ... customer ..." asks for a
    summary; the pasted email's words would otherwise outvote the instruction.
    """
    lines = [line for line in text.strip().splitlines() if line.strip()]
    if len(text) < MATERIAL_MIN_CHARS or len(lines) < 2:
        return text, ""
    first, rest = lines[0], lines[1:]
    if len(first) > MATERIAL_MIN_CHARS and len(rest) == 1 and len(rest[0]) <= INSTRUCTION_LINE_CHARS:
        return rest[0], first  # the material came first, the question under it
    # "Shorten this:" announces everything under it; otherwise a short last line is a request too.
    closing = "" if first.rstrip().endswith((":", "：")) or len(rest) < 2 else rest[-1]
    closing = closing if len(closing) <= INSTRUCTION_LINE_CHARS else ""
    body = rest[:-1] if closing else rest
    return f"{first}\n{closing}" if closing else first, "\n".join(body)


def conversation_query(messages: list[dict[str, Any]], *, context_turns: int = 2) -> Query:
    """The latest user turn decides; up to `context_turns` earlier user turns are kept as context."""
    user_turns = [message_text(m) for m in messages if m.get("role") == "user"]
    user_turns = [turn for turn in user_turns if turn.strip()]
    if not user_turns:
        return Query("", (), False, False)
    instruction, pasted = split_material(user_turns[-1])
    latest, had_code, had_trace = strip_code(instruction)
    material, pasted_code, pasted_trace = strip_code(pasted)
    earlier = user_turns[-1 - context_turns:-1] if context_turns else []
    context = tuple(strip_code(turn)[0] for turn in earlier)
    return Query(latest, context, had_code or pasted_code, had_trace or pasted_trace, material)
