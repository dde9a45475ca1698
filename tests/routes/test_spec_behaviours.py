"""The route-configuration spec's test list, one behaviour per test, through the real data plane."""

from __future__ import annotations

import pytest

from gateway.dataplane.health import health
from governance.models import RouteNode
from tests.routes.conftest import amake_route, ask, served

pytestmark = pytest.mark.django_db(transaction=True)


def open_circuit(name: str) -> None:
    from django.conf import settings

    for _ in range(settings.CIRCUIT_FAILURE_THRESHOLD):
        health.failure(name)


def test_create_auto_route_with_config_models(api, registry) -> None:  # type: ignore[no-untyped-def]
    payload = {"name": "Auto Route", "mode": "auto", "isActive": True, "config": {
        "providerMode": "all", "selectedModels": ["gpt-4o", "claude-3-5-haiku"], "modelStrategy": "cycle",
    }, "nodes": []}
    response = api.post("/api/governance/routes", payload, format="json")
    assert response.status_code == 201, response.json()
    route = response.json()["route"]
    assert route["config"] == payload["config"]
    assert (route["name"], route["slug"], route["mode"], route["isActive"], route["nodes"]) == (
        "Auto Route", "auto-route", "auto", True, [])
    assert not RouteNode.objects.exists()
    assert api.get(f"/api/governance/routes/{route['id']}").json()["route"] == route


async def test_select_auto_with_config_all_providers(gateway, registry) -> None:  # type: ignore[no-untyped-def]
    await amake_route({"name": "all", "mode": "auto", "config": {
        "providerMode": "all", "selectedModels": ["gpt-4o"], "modelStrategy": "single"}})
    answers = await served(gateway, "route/all", times=4)
    assert answers == [("backup", "gpt-4o"), ("primary", "gpt-4o")] * 2


async def test_select_auto_with_config_specific_provider(gateway, registry) -> None:  # type: ignore[no-untyped-def]
    await amake_route({"name": "only-backup", "mode": "auto", "config": {
        "providerMode": f"provider_{registry.backup.pk}", "selectedModels": ["backup-gpt"]}})
    assert await served(gateway, "route/only-backup", times=3) == [("backup", "gpt-4o")] * 3
    assert registry.fakes["primary"].requests == []


def test_create_specific_route_with_config_models(api, registry) -> None:  # type: ignore[no-untyped-def]
    payload = {"name": "Specific Route", "mode": "specific", "isActive": True,
               "config": {"selectedModels": ["gpt-4o"], "modelStrategy": "single"},
               "nodes": [{"apiId": registry.primary.pk, "models": ["gpt-4o"], "strategy": "round-robin",
                          "priority": 0}]}
    response = api.post("/api/governance/routes", payload, format="json")
    assert response.status_code == 201, response.json()
    route = response.json()["route"]
    assert route["config"] == payload["config"]
    [node] = route["nodes"]
    assert {k: node[k] for k in ("apiId", "models", "strategy", "priority")} == payload["nodes"][0]
    assert node["apiName"] == "primary"


async def test_select_specific_with_config_models(gateway, registry) -> None:  # type: ignore[no-untyped-def]
    await amake_route({"name": "specific", "mode": "specific", "config": {"selectedModels": ["gpt-4o-mini"]},
                       "nodes": [{"apiId": registry.primary.pk, "models": ["gpt-4o", "gpt-4o-mini"]}]})
    assert await served(gateway, "route/specific", times=2) == [("primary", "gpt-4o-mini")] * 2


async def test_auto_config_route_with_unhealthy_provider(gateway, registry) -> None:  # type: ignore[no-untyped-def]
    await amake_route({"name": "all", "mode": "auto", "config": {
        "providerMode": "all", "selectedModels": ["gpt-4o"]}})
    open_circuit("backup")
    assert await served(gateway, "route/all", times=3) == [("primary", "gpt-4o")] * 3
    assert registry.fakes["backup"].requests == []


async def test_auto_config_route_with_specific_provider_unhealthy_raises_error(gateway, registry) -> None:  # type: ignore[no-untyped-def]
    await amake_route({"name": "only-primary", "mode": "auto", "config": {
        "providerMode": f"provider_{registry.primary.pk}", "selectedModels": ["gpt-4o"]}})
    open_circuit("primary")
    response = await ask(gateway, "route/only-primary")
    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "model_unavailable" and error["param"] == "model"
    assert "only provider 'primary'" in error["message"] and "circuit open" in error["message"]
    assert registry.fakes["primary"].requests == []


async def test_model_hint_overrides_config_models(gateway, registry) -> None:  # type: ignore[no-untyped-def]
    await amake_route({"name": "hinted", "mode": "auto", "config": {
        "providerMode": "all", "selectedModels": ["gpt-4o-mini", "claude-3-5-haiku"]}})
    hint = {"x-switchyard-model-hint": "claude-3-5-haiku"}
    assert await served(gateway, "route/hinted", times=3, headers=hint) == [("claude", "claude-3-5-haiku")] * 3
    # a hint the route does not offer changes nothing: the cycle goes on
    other = {"x-switchyard-model-hint": "gpt-4o"}
    assert [m for _, m in await served(gateway, "route/hinted", times=2, headers=other)] == [
        "claude-3-5-haiku", "gpt-4o-mini"]


async def test_empty_config_models_falls_back_to_nodes(gateway, registry) -> None:  # type: ignore[no-untyped-def]
    route = await amake_route({"name": "legacy", "mode": "auto", "config": {}, "nodes": [
        {"apiId": registry.claude.pk, "models": ["claude-3-5-haiku"], "priority": 0}]})
    assert route.config == {}
    assert await served(gateway, "route/legacy") == [("claude", "claude-3-5-haiku")]
