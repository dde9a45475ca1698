"""Routes and nodes API: the spec's payloads verbatim, and every invalid save a 400 naming the field that changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from governance.models import Route, RouteNode
from providers.models import Provider

pytestmark = pytest.mark.django_db

ROUTES = "/api/governance/routes"


def auto(**config: Any) -> dict[str, Any]:
    return {"name": "Auto Route", "mode": "auto", "isActive": True,
            "config": {"providerMode": "all", "selectedModels": ["gpt-4o"], **config}, "nodes": []}


def rejected(api, payload: dict[str, Any], url: str = ROUTES, method: str = "post") -> dict[str, Any]:  # type: ignore[no-untyped-def]
    before = (list(Route.objects.values()), list(RouteNode.objects.values()))
    response = getattr(api, method)(url, payload, format="json")
    assert response.status_code == 400, response.json()
    assert (list(Route.objects.values()), list(RouteNode.objects.values())) == before
    return response.json()


def test_no_model_ticked_is_refused_on_selected_models(api, registry) -> None:  # type: ignore[no-untyped-def]
    body = rejected(api, auto(selectedModels=[]))
    assert body["config"]["selectedModels"] == ["Tick at least one model."]


def test_model_not_offered_by_the_provider_is_refused(api, registry) -> None:  # type: ignore[no-untyped-def]
    body = rejected(api, auto(providerMode=f"provider_{registry.claude.pk}"))
    assert body["config"]["selectedModels"] == ["'gpt-4o' is not offered by provider 'claude'."]
    node = {"apiId": registry.backup.pk, "models": ["gpt-4o-mini"]}
    body = rejected(api, {"name": "m", "mode": "multi", "nodes": [node]})
    assert body["nodes"] == {"0": {"models": ["'gpt-4o-mini' is not offered by provider 'backup'."]}}


def test_multi_route_without_nodes_is_refused(api, registry) -> None:  # type: ignore[no-untyped-def]
    body = rejected(api, {"name": "m", "mode": "multi", "config": {}, "nodes": []})
    assert body["nodes"] == ["A multi route needs at least one provider node."]


def test_provider_that_does_not_exist_is_refused(api, registry) -> None:  # type: ignore[no-untyped-def]
    body = rejected(api, {"name": "m", "mode": "multi", "nodes": [{"apiId": 999, "models": ["gpt-4o"]}]})
    assert body["nodes"] == {"0": {"apiId": ["Provider 999 does not exist."]}}
    body = rejected(api, auto(providerMode="provider_999"))
    assert body["config"]["providerMode"] == ["Provider 999 does not exist."]


@pytest.mark.parametrize("mode", ["everything", "provider_", "provider_x", "openai"])
def test_provider_mode_must_be_all_or_an_existing_provider(api, registry, mode) -> None:  # type: ignore[no-untyped-def]
    body = rejected(api, auto(providerMode=mode))
    assert "providerMode" in body["config"]


def test_model_strategy_must_match_the_count(api, registry) -> None:  # type: ignore[no-untyped-def]
    body = rejected(api, auto(modelStrategy="cycle"))
    assert "1 model is 'single'" in body["config"]["modelStrategy"][0]
    body = rejected(api, auto(selectedModels=["gpt-4o", "claude-3-5-haiku"], modelStrategy="single"))
    assert "modelStrategy" in body["config"]


def test_model_strategy_is_derived_when_left_out(api, registry) -> None:  # type: ignore[no-untyped-def]
    payload = auto(selectedModels=["gpt-4o", "claude-3-5-haiku"])
    del payload["config"]["providerMode"]
    response = api.post(ROUTES, payload, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["route"]["config"] == {
        "providerMode": "all", "selectedModels": ["gpt-4o", "claude-3-5-haiku"], "modelStrategy": "cycle"}


def test_specific_route_needs_exactly_one_node(api, registry) -> None:  # type: ignore[no-untyped-def]
    body = rejected(api, {"name": "s", "mode": "specific", "config": {"selectedModels": ["gpt-4o"]}})
    assert body["nodes"] == ["A specific route needs exactly one provider node (nodes[].apiId)."]


def test_names_and_slugs_are_unique_ignoring_case(api, registry) -> None:  # type: ignore[no-untyped-def]
    assert api.post(ROUTES, auto(), format="json").status_code == 201
    body = rejected(api, {**auto(), "name": "AUTO ROUTE"})
    assert "already exists" in body["name"][0]
    body = rejected(api, {**auto(), "name": "other", "slug": "Auto-Route"})
    assert "already exists" in body["slug"][0]


def test_wrong_types_are_refused_naming_the_field(api, registry) -> None:  # type: ignore[no-untyped-def]
    body = rejected(api, {"name": "x", "mode": "sideways", "isActive": "maybe",
                          "nodes": [{"apiId": "one", "strategy": "random"}]})
    assert {"mode", "isActive", "nodes"} <= set(body)
    assert {"apiId", "strategy"} <= set(body["nodes"]["0"])


def test_put_replaces_the_route_and_a_bad_put_changes_nothing(api, registry) -> None:  # type: ignore[no-untyped-def]
    route = api.post(ROUTES, auto(), format="json").json()["route"]
    url = f"{ROUTES}/{route['id']}"
    rejected(api, {**auto(), "mode": "multi"}, url, "put")
    payload = {"name": "Renamed", "mode": "specific", "isActive": False,
               "config": {"selectedModels": ["gpt-4o", "gpt-4o-mini"], "modelStrategy": "cycle"},
               "nodes": [{"apiId": registry.primary.pk, "models": ["gpt-4o", "gpt-4o-mini"],
                          "strategy": "failover", "priority": 2}]}
    updated = api.put(url, payload, format="json").json()["route"]
    assert (updated["name"], updated["slug"], updated["isActive"]) == ("Renamed", "renamed", False)
    assert updated["nodes"][0]["strategy"] == "failover"
    assert api.get(ROUTES).json()["count"] == 1
    assert api.delete(url).status_code == 200 and not Route.objects.exists()


def test_nodes_endpoints_check_the_whole_route(api, registry) -> None:  # type: ignore[no-untyped-def]
    node = {"apiId": registry.primary.pk, "models": ["gpt-4o"], "strategy": "failover", "priority": 0}
    route = api.post(ROUTES, {"name": "m", "mode": "multi", "nodes": [node]}, format="json").json()["route"]
    nodes_url = f"{ROUTES}/{route['id']}/nodes"
    created = api.post(nodes_url, {"apiId": registry.claude.pk, "models": ["claude-3-5-haiku"],
                                   "priority": 1}, format="json")
    assert created.status_code == 201, created.json()
    node_id = created.json()["node"]["id"]
    assert api.get(nodes_url).json()["count"] == 2
    body = rejected(api, {"apiId": registry.claude.pk, "models": ["gpt-4o"]}, f"{nodes_url}/{node_id}", "put")
    assert body["models"] == ["'gpt-4o' is not offered by provider 'claude'."]
    moved = api.put(f"{nodes_url}/{node_id}", {"apiId": registry.claude.pk, "models": ["claude-3-5-haiku"],
                                              "strategy": "failover", "priority": 5}, format="json")
    assert moved.json()["node"] == {"id": node_id, "apiId": registry.claude.pk, "apiName": "claude",
                                    "models": ["claude-3-5-haiku"], "strategy": "failover", "priority": 5}
    first = route["nodes"][0]["id"]
    assert api.delete(f"{nodes_url}/{first}").status_code == 200
    body = rejected(api, {}, f"{nodes_url}/{node_id}", "delete")
    assert body["nodes"] == ["A multi route needs at least one provider node."]
    assert api.get(f"{nodes_url}/12345").status_code == 404


def test_providers_api_lists_health_and_never_the_key(api, registry) -> None:  # type: ignore[no-untyped-def]
    listed = api.get("/api/governance/providers").json()
    assert listed["count"] == 3
    backup = next(p for p in listed["providers"] if p["name"] == "backup")
    assert backup["health"] == "healthy" and backup["has_key"] is True and backup["models"] == ["backup-gpt"]
    assert "api_key" not in backup and "sk-b" not in str(listed)
    created = api.post("/api/governance/providers", {"name": "extra", "type": "openai",
                                                     "base_url": "http://127.0.0.1:9", "api_key": "sk-new"},
                       format="json")
    assert created.status_code == 201 and created.json()["provider"]["has_key"] is True
    pid = created.json()["provider"]["id"]
    assert Provider.objects.get(pk=pid).api_key == "sk-new"
    kept = api.put(f"/api/governance/providers/{pid}", {"name": "extra", "type": "openai", "active": False},
                   format="json")
    assert kept.json()["provider"]["active"] is False and Provider.objects.get(pk=pid).api_key == "sk-new"
    assert api.post("/api/governance/providers", {"name": "EXTRA", "type": "openai"},
                    format="json").json()["name"]


def test_provider_used_by_a_route_cannot_be_deleted(api, registry) -> None:  # type: ignore[no-untyped-def]
    api.post(ROUTES, {"name": "m", "mode": "multi", "nodes": [
        {"apiId": registry.claude.pk, "models": ["claude-3-5-haiku"]}]}, format="json")
    response = api.delete(f"/api/governance/providers/{registry.claude.pk}")
    assert response.status_code == 409 and "route(s) m" in response.json()["detail"]
    assert Provider.objects.filter(pk=registry.claude.pk).exists()


def test_route_is_a_reserved_name_for_providers_and_virtual_providers(api) -> None:  # type: ignore[no-untyped-def]
    provider = api.post("/api/governance/providers", {"name": "route", "type": "openai"}, format="json")
    profile = api.post("/api/governance/routing-profiles", {
        "id": "r", "name": "R", "virtual_provider": "Route", "targets": [{"provider": "openai"}]}, format="json")
    assert provider.status_code == 400 and "name" in provider.json()
    assert profile.status_code == 400 and "virtual_provider" in profile.json()
