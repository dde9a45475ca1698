"""What a user notices of the lexical matcher: right route, last turn decides, no match, request routes, cache."""

from __future__ import annotations

from typing import Any

import pytest

from bench.intent import evaluate
from gateway.dataplane.intent import LexicalClassifier, Route, classifier_from_settings

from .conftest import user

HELDOUT_FLOOR = 0.70


@pytest.fixture
def lexical() -> LexicalClassifier:
    return LexicalClassifier()


def test_code_prompt_goes_to_code_route(lexical: LexicalClassifier, main_routes: Any) -> None:
    prepared = lexical.prepare(main_routes)
    match = lexical.classify(prepared, user("Write a Python function that parses ISO dates."))
    assert match.route == "code generation"
    assert set(match.scores) == {route.name for route in main_routes}


def test_latest_user_turn_decides(lexical: LexicalClassifier, main_routes: Any) -> None:
    messages = [
        {"role": "user", "content": "Write a poem about the sea."},
        {"role": "assistant", "content": "The waves..."},
        {"role": "user", "content": "Now translate this sentence into German: good morning."},
    ]
    assert lexical.classify(lexical.prepare(main_routes), messages).route == "translation"


def test_unrelated_prompt_is_no_match(lexical: LexicalClassifier, main_routes: Any) -> None:
    match = lexical.classify(lexical.prepare(main_routes), user("Who painted the Mona Lisa?"))
    assert match.route is None


def test_the_task_outranks_what_the_text_is_about(lexical: LexicalClassifier, main_routes: Any) -> None:
    prepared = lexical.prepare(main_routes)
    limerick = user("Write a limerick about a Java developer who hates SQL joins.")
    assert lexical.classify(prepared, limerick).route == "creative writing"
    # With no task of its own, the topic still decides.
    assert lexical.classify(prepared, user("Any thoughts about my invoice from March?")).route == "customer support"


def test_a_pasted_email_does_not_outvote_the_instruction(lexical: LexicalClassifier, main_routes: Any) -> None:
    from .test_conversation import EMAIL

    match = lexical.classify(lexical.prepare(main_routes), user("Summarise this thread for me:\n\n" + EMAIL))
    assert match.route == "summarization"


def test_french_elisions_are_read_as_words(lexical: LexicalClassifier, main_routes: Any) -> None:
    match = lexical.classify(lexical.prepare(main_routes), user("Quelle est l'intégrale de 2x entre 0 et 3 ?"))
    assert match.route == "math and data analysis"


def test_empty_conversation_is_no_match(lexical: LexicalClassifier, main_routes: Any) -> None:
    assert lexical.classify(lexical.prepare(main_routes), [{"role": "system", "content": "x"}]).route is None


def test_pasted_stack_trace_goes_to_debugging(lexical: LexicalClassifier, main_routes: Any) -> None:
    trace = 'Traceback (most recent call last):\n  File "a.py", line 3, in <module>\nKeyError: \'id\''
    assert lexical.classify(lexical.prepare(main_routes), user(trace)).route == "code review"


def test_request_supplied_routes_work(lexical: LexicalClassifier) -> None:
    routes = [Route("recipes", "Cooking recipes, ingredients and kitchen tips."),
              Route("gardening", "Growing plants, vegetables and caring for a garden.")]
    prepared = lexical.prepare(routes)
    assert lexical.classify(prepared, user("how do I grow tomatoes in my garden?")).route == "gardening"


def test_prepared_route_set_is_cached(lexical: LexicalClassifier, main_routes: Any) -> None:
    first = lexical.prepare(main_routes)
    assert lexical.prepare(list(main_routes)) is first
    assert lexical.cache.hits == 1 and lexical.cache.misses == 1


def test_prepared_cache_evicts_least_recently_used(main_routes: Any) -> None:
    lexical = LexicalClassifier(cache_size=2)
    sets = [(Route(f"r{i}", f"route number {i}"),) for i in range(3)]
    for routes in sets:
        lexical.prepare(routes)
    assert len(lexical.cache) == 2
    lexical.prepare(sets[0])
    assert lexical.cache.misses == 4


def test_duplicate_route_names_are_rejected(lexical: LexicalClassifier) -> None:
    with pytest.raises(ValueError, match="duplicate"):
        lexical.prepare([Route("a", "x"), Route("a", "y")])


async def test_async_classify_matches_sync(lexical: LexicalClassifier, main_routes: Any) -> None:
    prepared = lexical.prepare(main_routes)
    messages = user("Summarize this article in two sentences.")
    assert (await lexical.aclassify(prepared, messages)) == lexical.classify(prepared, messages)


def test_factory_knows_its_kinds() -> None:
    assert classifier_from_settings("lexical").name == "lexical"
    with pytest.raises(ValueError):
        classifier_from_settings("telepathy")
    with pytest.raises(ValueError):
        classifier_from_settings("llm")


def test_heldout_accuracy_floor(main_routes: Any, prompts: Any) -> None:
    rows = [row for row in prompts if row["split"] == "heldout"]
    assert evaluate(LexicalClassifier(), main_routes, rows)["accuracy"] >= HELDOUT_FLOOR


def test_a_single_route_matches_its_topic_and_nothing_else() -> None:
    from gateway.dataplane.intent.base import Route
    from gateway.dataplane.intent.lexical import LexicalClassifier

    classifier = LexicalClassifier()
    prepared = classifier.prepare((Route("code generation", "writing new code, functions and scripts"),))
    code = classifier.classify(prepared, [{"role": "user", "content": "write a python function that parses csv files"}])
    other = classifier.classify(prepared, [{"role": "user", "content": "what a lovely sunny day for a walk"}])
    assert code.route == "code generation"
    assert other.route is None
