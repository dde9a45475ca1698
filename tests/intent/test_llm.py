"""The LLM matcher: Arch-Router prompt, robust answer parsing, garbage is no match."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.dataplane.intent import Route
from gateway.dataplane.intent.llm import LLMClassifier, parse_route

from .conftest import user

NAMES = ("code generation", "translation", "creative writing")


@pytest.mark.parametrize("answer, expected", [
    ('{"route": "translation"}', "translation"),
    ("```json\n{\"route\": \"code generation\"}\n```", "code generation"),
    ("{'route': 'creative writing'}", "creative writing"),
    ("translation", "translation"),
    ("  Code Generation. ", "code generation"),
    ("route: translation", "translation"),
    ("The best route is creative writing.", "creative writing"),
    ('{"route": "other"}', None),
    ("none", None),
    ('{"route": null}', None),
    ('{"route": "weather"}', None),
    ("I cannot help with that.", None),
    ("translation or creative writing", None),
    ("", None),
])
def test_parses_varied_answers(answer: str, expected: str | None) -> None:
    assert parse_route(answer, NAMES) == expected


async def test_prompt_lists_routes_and_conversation() -> None:
    seen: list[list[dict[str, Any]]] = []

    async def complete(messages: list[dict[str, Any]]) -> str:
        seen.append(messages)
        return '{"route": "translation"}'

    classifier = LLMClassifier(complete)
    prepared = classifier.prepare([Route(n, f"about {n}") for n in NAMES])
    match = await classifier.aclassify(prepared, user("traduce 'hola' al inglés"))
    assert match.route == "translation" and match.score == 1.0
    prompt = seen[0][0]["content"]
    assert '"name": "code generation"' in prompt and "about translation" in prompt
    assert "traduce 'hola' al inglés" in prompt and '{"route": "other"}' in prompt


async def test_garbage_answer_is_no_match() -> None:
    async def complete(messages: list[dict[str, Any]]) -> str:
        return "¯\\_(ツ)_/¯"

    classifier = LLMClassifier(complete)
    match = await classifier.aclassify(classifier.prepare([Route(n, n) for n in NAMES]), user("hi"))
    assert match.route is None and match.score == 0.0
