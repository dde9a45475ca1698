"""The embedding matcher, when the `intent` extra is installed (required in CI with INTENT_EMBEDDINGS_REQUIRED=1)."""

from __future__ import annotations

from typing import Any

from bench.intent import evaluate
from gateway.dataplane.intent import Route

from .conftest import user

HELDOUT_FLOOR = 0.78  # measured 0.825; the target is 0.85 (see docs/intent-classifier.md)


def test_code_prompt_goes_to_code_route(embedding_classifier: Any, main_routes: Any) -> None:
    prepared = embedding_classifier.prepare(main_routes)
    match = embedding_classifier.classify(prepared, user("Implement quicksort in Go."))
    assert match.route == "code generation"


def test_latest_user_turn_decides(embedding_classifier: Any, main_routes: Any) -> None:
    messages = [
        {"role": "user", "content": "Write a Rust function that reverses a string."},
        {"role": "assistant", "content": "fn rev(s: &str) -> String { s.chars().rev().collect() }"},
        {"role": "user", "content": "Thanks! Now write me a short poem about autumn leaves."},
    ]
    prepared = embedding_classifier.prepare(main_routes)
    assert embedding_classifier.classify(prepared, messages).route == "creative writing"


def test_unrelated_prompt_is_no_match(embedding_classifier: Any, main_routes: Any) -> None:
    prepared = embedding_classifier.prepare(main_routes)
    assert embedding_classifier.classify(prepared, user("Who painted the Mona Lisa?")).route is None


def test_request_supplied_routes_work(embedding_classifier: Any) -> None:
    routes = [Route("recipes", "Cooking recipes, ingredients and kitchen tips."),
              Route("gardening", "Growing plants, vegetables and caring for a garden.")]
    prepared = embedding_classifier.prepare(routes)
    match = embedding_classifier.classify(prepared, user("what should I cook with leftover rice?"))
    assert match.route == "recipes"
    assert embedding_classifier.prepare(list(routes)) is prepared


def test_heldout_accuracy_floor(embedding_classifier: Any, main_routes: Any, prompts: Any) -> None:
    rows = [row for row in prompts if row["split"] == "heldout"]
    assert evaluate(embedding_classifier, main_routes, rows)["accuracy"] >= HELDOUT_FLOOR
