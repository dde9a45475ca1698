"""The route admin form: the same checks as the API, on the fields they name; an invalid save changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from governance.models import Route, RouteNode
from providers.models import Provider

pytestmark = pytest.mark.django_db
ADD = "admin:governance_route_add"


def post(registry, **fields: Any) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    data: dict[str, Any] = {"name": "r", "slug": "", "mode": "auto", "is_active": "on", "provider_mode": "all",
                            "provider": "", "selected_models": [], "nodes-TOTAL_FORMS": "0",
                            "nodes-INITIAL_FORMS": "0", "nodes-MIN_NUM_FORMS": "0",
                            "nodes-MAX_NUM_FORMS": "1000", "_save": "Save"}
    return {**data, **fields}


def node(i: int, provider: Provider, models: list[str], **fields: str) -> dict[str, Any]:
    return {f"nodes-{i}-provider": str(provider.pk), f"nodes-{i}-models": models,
            f"nodes-{i}-priority": fields.get("priority", str(i)),
            f"nodes-{i}-strategy": fields.get("strategy", "round-robin"), f"nodes-{i}-id": "",
            f"nodes-{i}-route": ""}


def test_add_form_offers_provider_choices_and_tagged_model_boxes(admin_client, registry) -> None:  # type: ignore[no-untyped-def]
    html = admin_client.get(reverse(ADD)).content.decode()
    assert "Use all enabled providers" in html and f"Use only {registry.claude.name}" in html
    assert f'data-own="{registry.backup.pk}"' in html and 'value="backup-gpt"' in html
    assert "Model strategy" in html and "governance/route_form.js" in html


def test_auto_route_saved_through_the_form(admin_client, registry) -> None:  # type: ignore[no-untyped-def]
    response = admin_client.post(reverse(ADD), post(registry, selected_models=["gpt-4o", "claude-3-5-haiku"]))
    assert response.status_code == 302, response.content.decode()[:3000]
    route = Route.objects.get()
    assert route.config == {"providerMode": "all", "selectedModels": ["gpt-4o", "claude-3-5-haiku"],
                            "modelStrategy": "cycle"}


def test_specific_route_saved_with_its_one_node(admin_client, registry) -> None:  # type: ignore[no-untyped-def]
    data = post(registry, mode="specific", provider=str(registry.primary.pk), selected_models=["gpt-4o-mini"])
    assert admin_client.post(reverse(ADD), data).status_code == 302
    [saved] = RouteNode.objects.all()
    assert (saved.provider, saved.models) == (registry.primary, ["gpt-4o-mini"])


def test_multi_route_saved_with_its_node_cards(admin_client, registry) -> None:  # type: ignore[no-untyped-def]
    data = post(registry, mode="multi", **{"nodes-TOTAL_FORMS": "2"},
                **node(0, registry.primary, ["gpt-4o", "gpt-4o-mini"]),
                **node(1, registry.claude, ["claude-3-5-haiku"], strategy="failover"))
    response = admin_client.post(reverse(ADD), data)
    assert response.status_code == 302, response.content.decode()[-3000:]
    assert [(n.provider.name, n.strategy) for n in RouteNode.objects.all()] == [
        ("primary", "round-robin"), ("claude", "failover")]
    route = Route.objects.get()
    change = admin_client.get(reverse("admin:governance_route_change", args=[route.pk]))
    assert change.status_code == 200


@pytest.mark.parametrize("fields, message", [
    ({"selected_models": []}, "Tick at least one model."),
    ({"provider_mode": "provider_{claude}", "selected_models": ["gpt-4o"]},
     "&#x27;gpt-4o&#x27; is not offered by provider &#x27;claude&#x27;."),
    ({"mode": "multi"}, "A multi route needs at least one provider node."),
    ({"mode": "specific", "selected_models": ["gpt-4o"]}, "Choose the provider of this route."),
])
def test_invalid_saves_show_the_message_and_change_nothing(admin_client, registry, fields, message) -> None:  # type: ignore[no-untyped-def]
    fields = {k: v.format(claude=registry.claude.pk) if isinstance(v, str) else v for k, v in fields.items()}
    response = admin_client.post(reverse(ADD), post(registry, **fields))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Route.objects.exists()


def test_multi_node_card_with_a_model_its_provider_lacks_is_refused(admin_client, registry) -> None:  # type: ignore[no-untyped-def]
    data = post(registry, mode="multi", **{"nodes-TOTAL_FORMS": "1"}, **node(0, registry.claude, ["gpt-4o"]))
    html = admin_client.post(reverse(ADD), data).content.decode()
    assert "&#x27;gpt-4o&#x27; is not offered by provider &#x27;claude&#x27;." in html
    assert not Route.objects.exists()


def test_add_button_is_disabled_with_a_hint_without_providers(admin_client) -> None:  # type: ignore[no-untyped-def]
    html = admin_client.get(reverse("admin:governance_route_changelist")).content.decode()
    assert "route-add-disabled" in html and "add a provider" in html


def test_provider_changelist_shows_health_and_model_count(admin_client, registry) -> None:  # type: ignore[no-untyped-def]
    from gateway.dataplane.health import health

    health.failure("backup")
    html = admin_client.get(reverse("admin:providers_provider_changelist")).content.decode()
    assert "healthy" in html and "degraded" in html and "sk-b" not in html
    assert admin_client.get(reverse("admin:providers_provider_changelist") + "?health=degraded").status_code == 200


def test_profile_simulate_and_rule_try_pages_run_the_resolver(admin_client, registry) -> None:  # type: ignore[no-untyped-def]
    from governance.models import RoutingProfile, RoutingRule

    profile = RoutingProfile.objects.create(id="light", name="Light", virtual_provider="light", targets=[
        {"provider": "primary", "model": "gpt-4o-mini", "virtual_model": "fast", "priority": 1, "weight": 1}])
    url = reverse("admin:governance_routingprofile_simulate", args=[profile.pk])
    assert "light/fast" in admin_client.get(url).content.decode()
    html = admin_client.post(url, {"model": "light/fast"}).content.decode()
    assert "Primary: <strong>primary/gpt-4o-mini</strong>" in html
    rule = RoutingRule.objects.create(name="tier", cel_expression='headers["x-tier"] == "gold"', targets=[
        {"provider": "claude", "model": "claude-3-5-haiku", "weight": 1.0}])
    url = reverse("admin:governance_routingrule_try", args=[rule.pk])
    body = '{"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}'
    html = admin_client.post(url, {"body": body, "headers": '{"x-tier": "gold"}'}).content.decode()
    assert "This rule matches." in html and "claude/claude-3-5-haiku" in html
    changelist = admin_client.post(reverse("admin:governance_routingrule_changelist"),
                                   {"action": "try_rule", "_selected_action": [rule.pk]})
    assert changelist.status_code == 302 and changelist["Location"] == url
