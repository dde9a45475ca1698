"""Intent routing on chat and the decision endpoint: override, stripping, fallback, failover, ranking, trace."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.db.backends.utils import CursorWrapper

from gateway.dataplane.intent.ranking import latency
from providers.models import Model, Provider
from tests.intent_routing.conftest import CHAT, CODE, OTHER, ask, load, sample

pytestmark = pytest.mark.django_db(transaction=True)
DECIDE = "/routing/v1/chat/completions"
INCOMING = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


async def decide(gateway, text: str, model: str = "gpt-4o-mini", **extra):  # type: ignore[no-untyped-def]
    return await gateway.post(DECIDE, json={"model": model, "messages": ask(text), **extra.pop("body", {})}, **extra)


async def test_matched_route_serves_its_first_model(gateway, routed) -> None:  # type: ignore[no-untyped-def]
    primary, backup = routed
    response = await gateway.post("/v1/chat/completions", json={"model": "gpt-4o-mini", "messages": ask(CODE)})
    assert response.status_code == 200, response.text
    assert response.headers["x-switchyard-provider"] == "primary"
    assert response.headers["x-switchyard-route"] == "intent"
    assert backup.requests == []


async def test_no_match_serves_the_requests_own_model(gateway, routed) -> None:  # type: ignore[no-untyped-def]
    primary, backup = routed
    response = await gateway.post("/v1/chat/completions", json={"model": "gpt-4o", "messages": ask(OTHER)})
    assert response.headers["x-switchyard-provider"] == "primary"
    assert response.headers["x-switchyard-route"] == "registry"
    body = (await decide(gateway, OTHER, model="gpt-4o")).json()
    assert body["models"] == ["gpt-4o"] and body["route"] is None


@pytest.mark.parametrize("failure", ["429", "500", "503"])
async def test_first_models_upstream_failure_fails_over_to_the_second(gateway, routed, failure) -> None:  # type: ignore[no-untyped-def]
    primary, backup = routed
    primary.fail_next(failure)
    response = await gateway.post("/v1/chat/completions", json={"model": "gpt-4o-mini", "messages": ask(CODE)})
    assert response.status_code == 200
    assert response.headers["x-switchyard-provider"] == "backup"
    assert response.json()["choices"][0]["message"]["content"] == "Hello from the backup"


async def test_request_preferences_override_the_config_and_are_never_forwarded(gateway, routed) -> None:  # type: ignore[no-untyped-def]
    primary, backup = routed
    override = [{"name": "coding", "description": "generating new code snippets or programs",
                 "models": ["backup/gpt-4o-mini"]},
                {"name": "chat", "description": "casual conversation", "models": ["primary/gpt-4o"]}]
    body = {"model": "gpt-4o", "messages": ask(CODE), "routing_preferences": override}
    response = await gateway.post("/v1/chat/completions", json=body)
    assert response.headers["x-switchyard-provider"] == "backup"
    assert "routing_preferences" not in backup.requests[-1].body
    assert primary.requests == []
    decision = (await decide(gateway, CODE, body={"routing_preferences": override})).json()
    assert decision["route"] == "coding" and decision["models"] == ["gpt-4o-mini"]


@pytest.mark.parametrize(("override", "param"), [
    ([{"name": "a", "description": "d", "models": ["backup/gpt-4o-mini"]},
      {"name": "b", "description": "d", "models": []}], "routing_preferences[1].models"),
    ([{"name": "a", "description": "d", "models": [""]}], "routing_preferences[0].models[0]"),
    ([{"name": "a", "models": ["backup/gpt-4o-mini"]}], "routing_preferences[0].description"),
    ([{"name": "a", "description": "d", "models": ["nowhere/x"]}], "routing_preferences[0].models[0]"),
    ("code", "routing_preferences"),
])
async def test_invalid_request_preferences_are_refused_naming_the_field(gateway, routed, override, param) -> None:  # type: ignore[no-untyped-def]
    primary, _ = routed
    body = {"model": "gpt-4o", "messages": ask(CODE), "routing_preferences": override}
    response = await gateway.post("/v1/chat/completions", json=body)
    assert response.status_code == 400
    assert response.json()["error"]["param"] == param
    assert primary.requests == []


async def test_decision_endpoint_shapes_and_trace(gateway, routed) -> None:  # type: ignore[no-untyped-def]
    primary, backup = routed
    response = await decide(gateway, CODE, headers={"traceparent": INCOMING})
    body = response.json()
    assert body == {"models": ["gpt-4o", "gpt-4o-mini"], "route": "code generation",
                    "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736"}
    assert response.headers["traceparent"].startswith("00-4bf92f3577b34da6a3ce929d0e0e4736-")
    assert response.headers["x-trace-id"] == body["trace_id"]
    assert (await decide(gateway, CHAT)).json()["route"] == "general questions"
    fresh = (await decide(gateway, OTHER)).json()
    assert fresh["route"] is None and len(fresh["trace_id"]) == 32
    assert primary.requests == [] and backup.requests == []  # no model was called


async def test_decision_endpoint_answers_404_for_an_unknown_model(gateway, routed) -> None:  # type: ignore[no-untyped-def]
    response = await decide(gateway, OTHER, model="no-such-model")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "model_not_found"


SECOND_ROUTE = """
  - name: general questions
    description: casual conversation, greetings and simple everyday questions
    models: [backup/gpt-4o-mini]
"""


async def _prefer(prefer: str) -> None:
    await sync_to_async(load)(f"""
version: v0.4.0
model_providers: [{{model: primary/gpt-4o}}, {{model: backup/gpt-4o-mini}}, {{model: local/tiny}}]
routing_preferences:
  - name: code generation
    description: generating new code snippets, functions or programs in a programming language
    models: [primary/gpt-4o, backup/gpt-4o-mini]
    prefer: {prefer}
{SECOND_ROUTE}""")


async def test_prefer_none_keeps_declared_order(gateway, routed) -> None:  # type: ignore[no-untyped-def]
    await _prefer("none")
    assert (await decide(gateway, CODE)).json()["models"] == ["gpt-4o", "gpt-4o-mini"]


async def test_prefer_cheapest_puts_the_cheaper_model_first(gateway, routed) -> None:  # type: ignore[no-untyped-def]
    await _prefer("cheapest")
    assert (await decide(gateway, CODE)).json()["models"] == ["gpt-4o-mini", "gpt-4o"]


async def test_prefer_fastest_uses_observed_latency(gateway, routed) -> None:  # type: ignore[no-untyped-def]
    await _prefer("fastest")
    primary, backup = routed
    await decide(gateway, CODE)  # tracks the configured models for this config version
    latency.record("backup/gpt-4o-mini", 0.5)
    assert (await decide(gateway, CODE)).json()["models"] == ["gpt-4o-mini", "gpt-4o"]  # gpt-4o: no data, last
    latency.record("primary/gpt-4o", 0.01)
    assert (await decide(gateway, CODE)).json()["models"] == ["gpt-4o", "gpt-4o-mini"]


async def test_successful_attempts_feed_the_latency_average(gateway, routed) -> None:  # type: ignore[no-untyped-def]
    await gateway.post("/v1/chat/completions", json={"model": "gpt-4o-mini", "messages": ask(CODE)})
    assert latency.get("primary/gpt-4o") is not None
    assert latency.get("backup/gpt-4o-mini") is None


async def test_prefer_random_draws_every_order(gateway, routed) -> None:  # type: ignore[no-untyped-def]
    await _prefer("random")
    seen = {tuple((await decide(gateway, CODE)).json()["models"]) for _ in range(30)}
    assert seen == {("gpt-4o", "gpt-4o-mini"), ("gpt-4o-mini", "gpt-4o")}


async def test_prefer_balanced_weighs_cost_and_latency(gateway, routed, settings) -> None:  # type: ignore[no-untyped-def]
    await _prefer("balanced")
    await decide(gateway, CODE)
    latency.record("primary/gpt-4o", 0.1)
    latency.record("backup/gpt-4o-mini", 1.0)
    settings.ROUTER_COST_WEIGHT, settings.ROUTER_LATENCY_WEIGHT = 1.0, 0.0
    assert (await decide(gateway, CODE)).json()["models"] == ["gpt-4o-mini", "gpt-4o"]
    settings.ROUTER_COST_WEIGHT, settings.ROUTER_LATENCY_WEIGHT = 0.0, 1.0
    assert (await decide(gateway, CODE)).json()["models"] == ["gpt-4o", "gpt-4o-mini"]


def _local_model(url: str) -> None:
    local = Provider.objects.create(name="local", type="local", base_url=url)
    Model.objects.create(name="tiny", provider=local)


async def test_request_over_the_cost_threshold_goes_to_a_local_model_first(gateway, routed, settings) -> None:  # type: ignore[no-untyped-def]
    await sync_to_async(_local_model)(routed[0].url)
    await sync_to_async(load)("""
version: v0.4.0
model_providers: [{model: primary/gpt-4o}, {model: local/tiny}]
routing_preferences:
  - name: code generation
    description: generating new code snippets, functions or programs in a programming language
    models: [primary/gpt-4o, local/tiny]
""" + SECOND_ROUTE.replace("backup/gpt-4o-mini", "local/tiny"))
    settings.ROUTER_COST_THRESHOLD = 1000
    assert (await decide(gateway, CODE)).json()["models"] == ["gpt-4o", "tiny"]
    settings.ROUTER_COST_THRESHOLD = 0.001  # 256 completion tokens at $15/M is $0.0038
    assert (await decide(gateway, CODE)).json()["models"] == ["tiny", "gpt-4o"]


async def test_warm_requests_make_no_database_query(gateway, routed, settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    settings.CONFIG_VERSION_CHECK_SECONDS = 60
    await gateway.post("/v1/chat/completions", json={"model": "gpt-4o-mini", "messages": ask(CODE)})
    executed: list[str] = []
    original = CursorWrapper.execute

    def counting(self, sql, params=None):  # type: ignore[no-untyped-def]
        executed.append(sql)
        return original(self, sql, params)

    monkeypatch.setattr(CursorWrapper, "execute", counting)
    for text in (CODE, CHAT, OTHER):
        assert (await gateway.post("/v1/chat/completions", json={"model": "gpt-4o-mini", "messages": ask(text)},
                                   headers={"x-model-affinity": "s1"})).status_code == 200
        assert (await decide(gateway, text)).status_code == 200
    assert executed == []


async def test_metrics_count_decisions_by_route_without_client_names(gateway, routed) -> None:  # type: ignore[no-untyped-def]
    before = (await gateway.get("/metrics")).text
    override = [{"name": "made-up-by-a-client", "description": "generating new code snippets or programs",
                 "models": ["backup/gpt-4o-mini"]}]
    await gateway.post("/v1/chat/completions", json={"model": "gpt-4o-mini", "messages": ask(CODE)})
    await gateway.post("/v1/chat/completions", json={"model": "gpt-4o", "messages": ask(OTHER)})
    await gateway.post("/v1/chat/completions",
                       json={"model": "gpt-4o", "messages": ask(CODE), "routing_preferences": override})
    after = (await gateway.get("/metrics")).text
    name = "switchyard_intent_decisions_total"
    for route in ("code generation", "(none)", "(request)"):
        assert sample(after, name, classifier="lexical", route=route) == sample(before, name, classifier="lexical",
                                                                                  route=route) + 1, route
    assert "made-up-by-a-client" not in after  # client input never becomes a label
    seconds = "switchyard_intent_classify_seconds_count"
    assert sample(after, seconds, classifier="lexical") == sample(before, seconds, classifier="lexical") + 3


async def test_access_log_names_the_route_and_the_matched_preference(gateway, routed, caplog) -> None:  # type: ignore[no-untyped-def]
    import logging

    access = logging.getLogger("switchyard.access")
    access.addHandler(caplog.handler)  # the access logger does not propagate to the root
    try:
        with caplog.at_level(logging.INFO, logger="switchyard.access"):
            await gateway.post("/v1/chat/completions", json={"model": "gpt-4o-mini", "messages": ask(CODE)})
            await gateway.post("/v1/chat/completions", json={"model": "gpt-4o", "messages": ask(OTHER)})
    finally:
        access.removeHandler(caplog.handler)
    lines = [record.getMessage() for record in caplog.records if record.name == "switchyard.access"]
    assert 'route=intent preference="code generation"' in lines[-2]
    assert "route=registry preference=null" in lines[-1]


async def test_slow_classifications_run_side_by_side_on_intent_threads(settings) -> None:  # type: ignore[no-untyped-def]
    """Two requests classify at once (INTENT_THREADS=2): neither waits for the other's encode."""
    import asyncio
    import threading

    from gateway.dataplane.intent.base import LocalClassifier, Match, Prepared, Route
    from gateway.dataplane.intent.routing import engine

    both_inside = threading.Barrier(2, timeout=10)

    class Slow(LocalClassifier):
        name = "slow"

        def _build(self, routes: tuple[Route, ...]) -> Prepared:
            return Prepared(routes)

        def classify(self, prepared: Prepared, messages: list) -> Match:  # type: ignore[type-arg]
            both_inside.wait()  # breaks (BrokenBarrierError) unless the other call is running too
            return Match(prepared.routes[0].name, 1.0)

    settings.INTENT_THREADS = 2
    engine.reset()
    engine._classifier = Slow()
    routes = (Route("a", "anything"),)
    try:
        matches = await asyncio.gather(engine.match(routes, ask("x")), engine.match(routes, ask("y")))
    finally:
        engine.reset()
    assert [m.route for m in matches] == ["a", "a"]
