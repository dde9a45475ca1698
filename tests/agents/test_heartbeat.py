"""POST /heartbeat: the agent's own token, model-list updates, and revival of an expired agent."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from agents.models import Agent
from providers.models import Model, Provider
from providers.services import model_add
from tests.agents.protocol import MODEL, SECRET, body, error, heartbeat, register

pytestmark = pytest.mark.django_db


@pytest.fixture
def token() -> str:
    return register().json()["token"]


def silence(seconds: float) -> None:
    Agent.objects.update(last_heartbeat=timezone.now() - timedelta(seconds=seconds))


def test_heartbeat_answers_alive_and_records_the_time(token):
    silence(30)
    response = heartbeat(token)
    assert response.status_code == 200
    assert response.json() == {"status": "alive", "heartbeat_interval": 15}
    assert timezone.now() - Agent.objects.get().last_heartbeat < timedelta(seconds=5)


def test_heartbeat_interval_follows_the_setting(token, settings):
    settings.AGENT_HEARTBEAT_INTERVAL = 2.5
    assert heartbeat(token).json()["heartbeat_interval"] == 2.5


@pytest.mark.parametrize("bearer", [None, "", "sy-agent-wrong", SECRET])
def test_missing_or_wrong_token_is_401_and_nothing_changes(token, bearer):
    silence(30)
    Agent.objects.update(status="expired")
    Provider.objects.update(active=False)
    before = list(Agent.objects.values_list("last_heartbeat", "status", "token_hash"))
    response = heartbeat(bearer)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert error(response)["type"] == "authentication_error"
    assert list(Agent.objects.values_list("last_heartbeat", "status", "token_hash")) == before
    assert not Provider.objects.get().active


def test_another_agents_token_is_401(token):
    other = register(body(name="other", models=["local-other"])).json()["token"]
    assert heartbeat(other).status_code == 401
    assert heartbeat(other, {"name": "other"}).status_code == 200


def test_unknown_agent_is_401_like_a_wrong_token(token):
    response = heartbeat(token, {"name": "nobody"})
    assert response.status_code == 401
    assert "register" in error(response)["message"]


def test_old_token_stops_working_after_reregistration(token):
    new = register(agent_token=token).json()["token"]
    assert heartbeat(token).status_code == 401
    assert heartbeat(new).status_code == 200


@pytest.mark.parametrize(("payload", "param"), [
    ({}, "name"),
    ({"name": "bad name"}, "name"),
    ({"name": "local-agent", "models": []}, "models"),
    ({"name": "local-agent", "models": ["a", "A"]}, "models"),
])
def test_invalid_heartbeat_body_is_400_naming_the_field(token, payload, param):
    response = heartbeat(token, payload)
    assert response.status_code == 400
    assert error(response)["param"] == param


def test_heartbeat_revives_an_expired_agent_and_its_provider(token):
    Agent.objects.update(status="expired")
    Provider.objects.update(active=False)
    assert heartbeat(token).status_code == 200
    agent = Agent.objects.select_related("provider").get()
    assert (agent.status, agent.provider.active) == ("alive", True)


def test_heartbeat_of_a_live_agent_leaves_an_operators_inactive_provider_alone(token):
    Provider.objects.update(active=False)
    assert heartbeat(token).status_code == 200
    assert not Provider.objects.get().active


def test_heartbeat_with_models_updates_the_registry(token):
    response = heartbeat(token, {"name": "local-agent", "models": ["local-b", MODEL]})
    assert response.status_code == 200
    assert Agent.objects.get().models == ["local-b", MODEL]
    rows = Model.objects.filter(provider__name="agent-local-agent", source="agent")
    assert sorted(rows.values_list("name", flat=True)) == ["local-b", MODEL]
    heartbeat(token, {"name": "local-agent", "models": ["local-b"]})
    assert list(Model.objects.values_list("name", flat=True)) == ["local-b"]


def test_heartbeat_cannot_take_a_cloud_providers_model(token):
    model_add(name="gpt-4o", type="openai", endpoint="", kind="api")
    response = heartbeat(token, {"name": "local-agent", "models": ["gpt-4o"]})
    assert response.status_code == 409
    assert error(response)["param"] == "models"
    assert Agent.objects.get().models == [MODEL]
    assert Model.objects.get(name="gpt-4o").provider.name == "openai"
