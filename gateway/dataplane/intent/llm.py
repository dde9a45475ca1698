"""LLM matcher: an Arch-Router-style prompt listing the routes, answered by a model through the gateway."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from .base import Match, Prepared, PreparedCache, Route, validate_routes
from .conversation import message_text

Complete = Callable[[list[dict[str, Any]]], Awaitable[str]]
NO_ROUTE = frozenset({"other", "none", "null", "no_route", "no route", "n/a", ""})
MAX_TURN_CHARS = 2000

PROMPT = """You are a helpful assistant designed to find the best suited route.
You are provided with route description within <routes></routes> XML tags:
<routes>
{routes}
</routes>

<conversation>
{conversation}
</conversation>

Your task is to decide which route is best suit with user intent on the conversation in <conversation></conversation> XML tags. Follow the instruction:
1. If the latest intent from user is irrelevant or user intent is full filled, response with other route {{"route": "other"}}.
2. You must analyze the route descriptions and find the best match route for user latest intent.
3. You only response the name of the route that best matches the user's request, use the exact name in the <routes></routes>.

Based on your analysis, provide your response in the following JSON formats if you decide to match any route:
{{"route": "route_name"}}"""


def build_prompt(routes: Sequence[Route], messages: list[dict[str, Any]]) -> str:
    listed = json.dumps([{"name": r.name, "description": r.description} for r in routes], ensure_ascii=False)
    turns = [
        {"role": m["role"], "content": message_text(m)[:MAX_TURN_CHARS]}
        for m in messages if m.get("role") in ("user", "assistant")
    ]
    return PROMPT.format(routes=listed, conversation=json.dumps(turns, ensure_ascii=False))


def parse_route(answer: str, names: Sequence[str]) -> str | None:
    """The route named by a JSON object or a bare name; 'other', unknown names and garbage are None."""
    by_key = {_key(name): name for name in names}
    candidates: list[str] = []
    for blob in re.findall(r"\{[^{}]*\}", answer):
        try:
            value = json.loads(blob.replace("'", '"')).get("route")
        except (ValueError, AttributeError):
            continue
        candidates.append(value if isinstance(value, str) else "")
    candidates.append(re.sub(r"^(route|answer)\s*[:=]\s*", "", answer.strip(), flags=re.I))
    for candidate in candidates:
        key = _key(candidate)
        if key in NO_ROUTE:
            return None
        if key in by_key:
            return by_key[key]
    mentioned = [name for key, name in by_key.items() if re.search(rf"\b{re.escape(key)}\b", _key(answer))]
    return mentioned[0] if len(mentioned) == 1 else None


def _key(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().strip("`\"'.*").lower())


class LLMClassifier:
    """Asks a model; `complete(messages) -> str` is injected (the gateway's own executor in production)."""

    name = "llm"

    def __init__(self, complete: Complete, *, cache_size: int = 64) -> None:
        self.complete = complete
        self.cache = PreparedCache(cache_size)

    def prepare(self, routes: Sequence[Route]) -> Prepared:
        return self.cache.get_or_build(validate_routes(routes), lambda key: Prepared(key))

    async def aclassify(self, prepared: Prepared, messages: list[dict[str, Any]]) -> Match:
        prompt = build_prompt(prepared.routes, messages)
        answer = await self.complete([{"role": "user", "content": prompt}])
        route = parse_route(answer or "", prepared.names)
        scores = {name: float(name == route) for name in prepared.names}
        return Match(route, 1.0 if route else 0.0, scores)
