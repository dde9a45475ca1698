"""Agents under /api/governance/agents and in the admin: status shown, tokens never."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from agents.models import Agent
from providers.models import Model, Provider
from tests.agents.protocol import ENDPOINT, MODEL, body, register

pytestmark = pytest.mark.django_db


@pytest.fixture
def token() -> str:
    return register().json()["token"]


@pytest.fixture
def staff() -> Client:
    client = Client()
    client.force_login(get_user_model().objects.create_user("ops", is_staff=True))
    return client


def assert_no_secret(text: str, token: str) -> None:
    assert token not in text
    assert Agent.objects.get(name="local-agent").token_hash not in text


def test_list_shows_agents_without_their_token(staff, token):
    register(body(name="other", models=["local-other"]))
    response = staff.get("/api/governance/agents")
    assert response.status_code == 200
    data = response.json()
    assert data["count"] == 2
    first = data["agents"][0]
    assert set(first) == {"name", "endpoint", "status", "last_heartbeat", "registered_at", "models",
                          "provider"}
    assert (first["name"], first["endpoint"], first["status"], first["models"], first["provider"]) == (
        "local-agent", ENDPOINT, "alive", [MODEL], "agent-local-agent")
    assert_no_secret(response.content.decode(), token)


def test_list_filters_by_status(staff, token):
    Agent.objects.update(status="expired")
    assert staff.get("/api/governance/agents?status=expired").json()["count"] == 1
    assert staff.get("/api/governance/agents/?status=alive").json()["count"] == 0
    response = staff.get("/api/governance/agents?status=dead")
    assert response.status_code == 400 and "status" in response.json()


def test_detail_by_name_in_any_case(staff, token):
    response = staff.get("/api/governance/agents/LOCAL-AGENT")
    assert response.status_code == 200
    assert response.json()["agent"]["name"] == "local-agent"
    assert_no_secret(response.content.decode(), token)
    assert staff.get("/api/governance/agents/nobody").status_code == 404


def test_anonymous_and_non_staff_are_refused(token):
    assert Client().get("/api/governance/agents").status_code == 401
    client = Client()
    client.force_login(get_user_model().objects.create_user("dev"))
    assert client.get("/api/governance/agents/local-agent").status_code == 403


def test_api_is_read_only(staff, token):
    assert staff.post("/api/governance/agents", body(), content_type="application/json").status_code == 405
    assert staff.delete("/api/governance/agents/local-agent").status_code == 405


def test_schema_documents_the_agents_routes():
    paths = Client().get("/api/schema/", {"format": "json"}).json()["paths"]
    assert {"/api/governance/agents", "/api/governance/agents/{name}"} <= set(paths)


# --- admin ---------------------------------------------------------------------------------

def test_admin_changelist_shows_status_models_and_provider_but_no_token(admin_client, token):
    html = admin_client.get(reverse("admin:agents_agent_changelist")).content.decode()
    for text in ("local-agent", "alive", MODEL, "agent-local-agent"):
        assert text in html
    assert_no_secret(html, token)
    detail = admin_client.get(reverse("admin:agents_agent_change", args=[Agent.objects.get().pk]))
    assert detail.status_code == 200
    assert_no_secret(detail.content.decode(), token)


def test_admin_filters_by_status(admin_client, token):
    Agent.objects.update(status="expired")
    url = reverse("admin:agents_agent_changelist")
    assert "local-agent" in admin_client.get(url, {"status__exact": "expired"}).content.decode()
    assert "local-agent" not in admin_client.get(url, {"status__exact": "alive"}).content.decode()


def test_admin_cannot_add_agents(admin_client):
    assert admin_client.get(reverse("admin:agents_agent_add")).status_code == 403


def test_admin_expire_now_action(admin_client, token):
    url = reverse("admin:agents_agent_changelist")
    data = {"action": "expire_now", "_selected_action": [Agent.objects.get().pk]}
    response = admin_client.post(url, data, follow=True)
    assert "Expired 1 agent(s): local-agent." in response.content.decode()
    agent = Agent.objects.select_related("provider").get()
    assert (agent.status, agent.provider.active) == ("expired", False)


def test_admin_delete_removes_agent_provider_and_models(admin_client, token):
    url = reverse("admin:agents_agent_changelist")
    data = {"action": "delete_selected", "_selected_action": [Agent.objects.get().pk], "post": "yes"}
    admin_client.post(url, data)
    assert not Agent.objects.exists()
    assert not Provider.objects.exists() and not Model.objects.exists()
    assert register().status_code == 201  # the name is free again
