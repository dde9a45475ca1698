"""Rotations really rotate: cycle over models, round-robin over providers and node models, never a provider lacking the model."""

from __future__ import annotations

import uuid

import pytest
import redis

from providers.models import Model, Provider
from tests.routes.conftest import amake_route, ask, served

pytestmark = pytest.mark.django_db(transaction=True)


async def test_cycle_rotates_through_the_selected_models(gateway, registry) -> None:  # type: ignore[no-untyped-def]
    await amake_route({"name": "cycle", "mode": "specific", "config": {
        "selectedModels": ["gpt-4o", "gpt-4o-mini"], "modelStrategy": "cycle"},
        "nodes": [{"apiId": registry.primary.pk, "models": ["gpt-4o", "gpt-4o-mini"]}]})
    models = [m for _, m in await served(gateway, "route/cycle", times=4)]
    assert models == ["gpt-4o", "gpt-4o-mini", "gpt-4o", "gpt-4o-mini"]


async def test_single_keeps_one_model(gateway, registry) -> None:  # type: ignore[no-untyped-def]
    await amake_route({"name": "single", "mode": "auto", "config": {
        "providerMode": f"provider_{registry.primary.pk}", "selectedModels": ["gpt-4o-mini"]}})
    assert {m for _, m in await served(gateway, "route/single", times=3)} == {"gpt-4o-mini"}


async def test_auto_all_never_picks_a_provider_lacking_the_model(gateway, registry) -> None:  # type: ignore[no-untyped-def]
    await amake_route({"name": "mini", "mode": "auto", "config": {
        "providerMode": "all", "selectedModels": ["gpt-4o-mini"]}})
    assert {p for p, _ in await served(gateway, "route/mini", times=6)} == {"primary"}
    assert registry.fakes["backup"].requests == [] and registry.fakes["claude"].requests == []


async def test_auto_all_cycle_rotates_models_and_providers_serving_each(gateway, registry) -> None:  # type: ignore[no-untyped-def]
    await amake_route({"name": "mix", "mode": "auto", "config": {
        "providerMode": "all", "selectedModels": ["gpt-4o", "claude-3-5-haiku"]}})
    answers = await served(gateway, "route/mix", times=4)
    assert answers == [("backup", "gpt-4o"), ("claude", "claude-3-5-haiku"),
                       ("primary", "gpt-4o"), ("claude", "claude-3-5-haiku")]


async def test_auto_all_fails_over_to_the_next_provider_serving_the_model(gateway, registry) -> None:  # type: ignore[no-untyped-def]
    await amake_route({"name": "all", "mode": "auto", "config": {"selectedModels": ["gpt-4o"]}})
    registry.fakes["backup"].fail_next("500")
    response = await ask(gateway, "route/all")
    assert response.status_code == 200 and response.headers["x-switchyard-provider"] == "primary"


def multi(registry, strategy: str) -> dict:  # type: ignore[no-untyped-def, type-arg]
    return {"name": f"multi-{strategy}", "mode": "multi", "config": {}, "nodes": [
        {"apiId": registry.primary.pk, "models": ["gpt-4o", "gpt-4o-mini"], "strategy": strategy, "priority": 0},
        {"apiId": registry.claude.pk, "models": ["claude-3-5-haiku"], "strategy": "failover", "priority": 1},
    ]}


async def test_multi_round_robin_node_rotates_its_models(gateway, registry) -> None:  # type: ignore[no-untyped-def]
    await amake_route(multi(registry, "round-robin"))
    assert [m for _, m in await served(gateway, "route/multi-round-robin", times=3)] == [
        "gpt-4o", "gpt-4o-mini", "gpt-4o"]


async def test_multi_failover_node_keeps_its_order_then_the_next_priority(gateway, registry) -> None:  # type: ignore[no-untyped-def]
    await amake_route(multi(registry, "failover"))
    assert [m for _, m in await served(gateway, "route/multi-failover", times=3)] == ["gpt-4o"] * 3
    registry.fakes["primary"].fail_next("500", "500")
    assert await served(gateway, "route/multi-failover") == [("claude", "claude-3-5-haiku")]


async def test_route_answers_to_its_slug_and_name_ignoring_case(gateway, registry) -> None:  # type: ignore[no-untyped-def]
    await amake_route({"name": "Team Route", "slug": "team", "mode": "auto",
                       "config": {"selectedModels": ["claude-3-5-haiku"]}})
    assert await served(gateway, "route/TEAM") == [("claude", "claude-3-5-haiku")]
    assert await served(gateway, "route/team route") == [("claude", "claude-3-5-haiku")]


async def test_inactive_route_and_unknown_route_answer_404(gateway, registry) -> None:  # type: ignore[no-untyped-def]
    await amake_route({"name": "off", "mode": "auto", "isActive": False,
                       "config": {"selectedModels": ["gpt-4o"]}})
    off = await ask(gateway, "route/off")
    assert off.status_code == 404 and "disabled" in off.json()["error"]["message"]
    assert (await ask(gateway, "route/nope")).json()["error"]["code"] == "model_not_found"


async def test_rotation_is_kept_in_redis_when_configured(gateway, registry, settings) -> None:  # type: ignore[no-untyped-def]
    settings.REDIS_URL = "redis://127.0.0.1:6379/15"
    settings.REDIS_KEY_PREFIX = f"test-{uuid.uuid4().hex}"
    route = await amake_route({"name": "shared", "mode": "auto", "config": {"selectedModels": ["gpt-4o"]}})
    assert [p for p, _ in await served(gateway, "route/shared", times=3)] == ["backup", "primary", "backup"]
    client = redis.Redis.from_url(settings.REDIS_URL)
    key = f"{settings.REDIS_KEY_PREFIX}:route-rotation:{route.pk}"
    try:
        assert int(client.get(key)) == 3
    finally:
        client.delete(key)


def test_simulating_a_rule_does_not_move_a_route_rotation(api) -> None:  # type: ignore[no-untyped-def]
    from gateway.dataplane.routes import rotation

    rotation.reset()
    provider = Provider.objects.create(name="sim-p", type="openai", base_url="http://127.0.0.1:9")
    Model.objects.create(name="sim-a", provider=provider)
    Model.objects.create(name="sim-b", provider=provider)
    created = api.post("/api/governance/routes", {
        "name": "sim", "mode": "auto", "isActive": True,
        "config": {"providerMode": "all", "selectedModels": ["sim-a", "sim-b"], "modelStrategy": "cycle"},
        "nodes": []}, format="json")
    assert created.status_code == 201, created.json()
    body = {"request": {"model": "route/sim", "messages": [{"role": "user", "content": "hi"}]}}
    primaries = [api.post("/api/governance/routing-rules/simulate", body, format="json").json()["primary"]
                 for _ in range(3)]
    assert primaries[0] == primaries[1] == primaries[2]
