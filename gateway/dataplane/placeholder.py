"""The quickstart's `dummy` model: a fixed "Hello world" answer, no upstream involved."""

from __future__ import annotations

import time
import uuid
from typing import Any

from providers.wire.base import chunk, usage, usage_chunk

CONTENT = "Hello world"


def completion(model: str) -> dict[str, Any]:
    return {
        "id": "cmpl-" + uuid.uuid4().hex,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": CONTENT},
                "finish_reason": "stop",
            }
        ],
        "usage": usage(0, 0),
    }


def chunks(model: str, include_usage: bool) -> list[bytes]:
    cid, created = "cmpl-" + uuid.uuid4().hex, int(time.time())
    payloads = [
        chunk(cid, model, created, {"role": "assistant", "content": ""}),
        chunk(cid, model, created, {"content": CONTENT}),
        chunk(cid, model, created, {}, "stop"),
    ]
    if include_usage:
        payloads.append(usage_chunk(cid, model, created, usage(0, 0)))
    return payloads
