"""Shared route sets, prompts and one embedding classifier per test session."""

from __future__ import annotations

import os
from typing import Any

import pytest

from bench.intent import load_prompts, load_routes
from gateway.dataplane.intent import Route, embedding_available


@pytest.fixture(scope="session")
def route_sets() -> dict[str, tuple[Route, ...]]:
    return load_routes()


@pytest.fixture(scope="session")
def main_routes(route_sets: dict[str, tuple[Route, ...]]) -> tuple[Route, ...]:
    return route_sets["main"]


@pytest.fixture(scope="session")
def prompts() -> list[dict[str, Any]]:
    return load_prompts()


@pytest.fixture(scope="session")
def embedding_classifier() -> Any:
    """Loaded once per session; fails instead of skipping when INTENT_EMBEDDINGS_REQUIRED=1."""
    if not embedding_available():
        if os.environ.get("INTENT_EMBEDDINGS_REQUIRED") == "1":
            pytest.fail("INTENT_EMBEDDINGS_REQUIRED=1 but the `intent` extra is not installed")
        pytest.skip("the `intent` extra is not installed")
    from gateway.dataplane.intent.embedding import EmbeddingClassifier

    return EmbeddingClassifier()


def user(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]
