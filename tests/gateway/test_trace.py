"""W3C trace context: an incoming traceparent is continued upstream and returned; otherwise one is made."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.django_db(transaction=True)

HI = [{"role": "user", "content": "hi"}]
INCOMING = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
TRACEPARENT = re.compile(r"^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$")


async def test_incoming_traceparent_is_continued_upstream_with_a_new_span(gateway, openai_upstream) -> None:  # type: ignore[no-untyped-def]
    response = await gateway.post("/v1/chat/completions", headers={"traceparent": INCOMING},
                                  json={"model": "gpt-4o", "messages": HI})
    sent = openai_upstream.requests[-1].headers["traceparent"]
    assert sent.split("-")[1] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert sent.split("-")[2] != "00f067aa0ba902b7"  # the gateway's own span is the parent
    assert response.headers["x-trace-id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert response.headers["traceparent"] == sent


async def test_trace_is_started_when_there_is_none(gateway, openai_upstream) -> None:  # type: ignore[no-untyped-def]
    response = await gateway.post("/v1/chat/completions", json={"model": "gpt-4o", "messages": HI})
    assert TRACEPARENT.match(response.headers["traceparent"])
    assert openai_upstream.requests[-1].headers["traceparent"] == response.headers["traceparent"]


@pytest.mark.parametrize("bad", ["garbage", "00-" + "0" * 32 + "-00f067aa0ba902b7-01",
                                 "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"])
async def test_invalid_traceparent_starts_a_new_trace(gateway, bad) -> None:  # type: ignore[no-untyped-def]
    response = await gateway.post("/v1/chat/completions", headers={"traceparent": bad},
                                  json={"model": "dummy", "messages": HI})
    trace_id = response.headers["x-trace-id"]
    assert len(trace_id) == 32 and trace_id != "0" * 32 and trace_id not in bad


async def test_error_answers_carry_the_trace_id_too(gateway) -> None:  # type: ignore[no-untyped-def]
    response = await gateway.post("/v1/chat/completions", headers={"traceparent": INCOMING},
                                  json={"model": "no-such-model", "messages": HI})
    assert response.status_code == 404
    assert response.headers["x-trace-id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
