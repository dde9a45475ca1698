"""Conversation handling shared by the matchers: latest user turn, context, pasted code replaced by markers."""

from __future__ import annotations

from gateway.dataplane.intent.conversation import CODE_MARKER, ERROR_MARKER, conversation_query
from gateway.dataplane.intent.text import split_topic


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


def test_topic_markers_split_the_task_from_its_topic() -> None:
    assert split_topic("Write a poem about recursion.") == ("Write a poem", " about recursion.")
    assert split_topic("Escribe un cuento sobre un traductor") == ("Escribe un cuento", " sobre un traductor")
    assert split_topic("写一首关于递归的诗") == ("写一首", "关于递归的诗")
    # A leading "about" is not a task followed by its topic.
    assert split_topic("About my invoice: it is wrong") == ("About my invoice: it is wrong", "")
    assert split_topic("Translate this into German") == ("Translate this into German", "")


EMAIL = (
    "From: Dana\nHi team, the customer on order 4471 asked for a refund because the invoice charged "
    "their account twice.\nFrom: Lee\nBilling confirmed the double charge; support will reply today "
    "and the refund goes out on Friday.\nFrom: Dana\nThanks, closing the ticket once it is paid."
)


def test_pasted_material_is_kept_apart_from_the_instruction() -> None:
    query = conversation_query([{"role": "user", "content": "Summarise this thread for me:\n\n" + EMAIL}])
    assert query.latest == "Summarise this thread for me:"
    assert "refund" in query.material and "refund" not in query.latest
    # A short last line under the material is part of the request.
    query = conversation_query([{"role": "user", "content": "Here is the thread.\n" + EMAIL + "\nWho owes what?"}])
    assert query.latest == "Here is the thread. Who owes what?"
    # Short messages are all instruction.
    assert conversation_query([{"role": "user", "content": "fix this:\nx = 1"}]).material == ""
