"""Conversation handling shared by the matchers: latest user turn, context, pasted code replaced by markers."""

from __future__ import annotations

from gateway.dataplane.intent.conversation import CODE_MARKER, ERROR_MARKER, conversation_query


def test_latest_user_turn_and_context() -> None:
    query = conversation_query([
        {"role": "system", "content": "be nice"},
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "ok"},
        {"role": "user", "content": [{"type": "text", "text": "second"}]},
    ])
    assert query.latest == "second" and query.context == ("first",)


def test_pasted_code_and_traces_become_markers() -> None:
    text = "why?\n```python\nx = 1/0\n```\nTraceback (most recent call last):\nZeroDivisionError: division by zero"
    query = conversation_query([{"role": "user", "content": text}])
    assert query.had_code and query.had_trace
    assert CODE_MARKER in query.latest and ERROR_MARKER in query.latest and "1/0" not in query.latest
