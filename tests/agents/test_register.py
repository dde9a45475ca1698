"""POST /register: the registry rows it writes, and every rule that refuses it with nothing changed."""

from __future__ import annotations

import socket

import pytest
from django.test import Client

from agents.models import Agent
from governance.keys import hash_key
from governance.models import ConfigVersion
from providers.models import Model, Provider
from providers.services import model_add
from tests.agents.protocol import ENDPOINT, MODEL, SECRET, body, error, register

pytestmark = pytest.mark.django_db


def state() -> tuple[list[tuple[str, str, str]], list[tuple[str, str, bool]], list[tuple[str, str]]]:
    """Everything registration may write, to show that a refusal wrote nothing."""
    agents = list(Agent.objects.values_list("name", "token_hash", "status"))
    providers = list(Provider.objects.order_by("name").values_list("name", "base_url", "active"))
    models = list(Model.objects.order_by("name").values_list("name", "provider__name"))
    return agents, providers, models


def test_registers_agent_with_its_provider_and_models():
    response = register()
    assert response.status_code == 201
    answer = response.json()
    assert answer["name"] == "local-agent" and answer["models"] == [MODEL]
    assert answer["heartbeat_interval"] == 15
    agent = Agent.objects.select_related("provider").get()
    assert agent.token_hash == hash_key(answer["token"]) and answer["token"] not in agent.token_hash
    assert (agent.status, agent.endpoint, agent.models) == ("alive", ENDPOINT, [MODEL])
    provider = agent.provider
    assert (provider.name, provider.type, provider.kind) == ("agent-local-agent", "local", "api")
    assert (provider.base_url, provider.active) == (ENDPOINT, True)
    row = Model.objects.get()
    assert (row.name, row.provider, row.source, row.kind) == (MODEL, provider, "agent", "api")


def test_registration_bumps_the_config_version_once_committed(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        register()
    assert ConfigVersion.objects.get(pk=1).version >= 1


def test_endpoint_trailing_slash_is_dropped():
    register(body(endpoint=ENDPOINT + "/"))
    assert Agent.objects.get().provider.base_url == ENDPOINT


def test_reregistering_with_current_token_rotates_it_and_syncs_models():
    first = register().json()["token"]
    payload = body(endpoint="http://127.0.0.1:5001", models=["local-a", "local-b"])
    response = register(payload, agent_token=first)
    assert response.status_code == 200
    second = response.json()["token"]
    agent = Agent.objects.select_related("provider").get()
    assert second != first and agent.token_hash == hash_key(second)
    assert agent.provider.base_url == "http://127.0.0.1:5001"
    assert sorted(Model.objects.values_list("name", flat=True)) == ["local-a", "local-b"]
    assert Provider.objects.count() == 1


def test_reregistering_keeps_other_sources_and_an_operators_disabled_model():
    token = register().json()["token"]
    Model.objects.filter(name=MODEL).update(enabled=False)
    model_add(name="gpt-4o", type="openai", endpoint="", kind="api")
    assert register(body(models=[MODEL, "local-new"]), agent_token=token).status_code == 200
    assert not Model.objects.get(name=MODEL).enabled
    assert Model.objects.get(name="local-new").source == "agent"
    assert Model.objects.filter(name="gpt-4o", source="manual").exists()


def test_live_name_without_agent_token_is_409_and_unchanged():
    register()
    before = state()
    response = register(body(endpoint="http://127.0.0.1:6000"))
    assert response.status_code == 409
    assert error(response)["param"] == "name"
    assert "X-Agent-Token" in error(response)["message"]
    assert state() == before


def test_live_name_with_wrong_agent_token_is_409_and_unchanged():
    register()
    before = state()
    assert register(body(endpoint="http://127.0.0.1:6000"), agent_token="sy-agent-wrong").status_code == 409
    assert state() == before


def test_name_is_unique_ignoring_case():
    register()
    assert register(body(name="LOCAL-AGENT")).status_code == 409
    assert Agent.objects.count() == 1


def test_expired_agents_name_can_be_taken_over():
    register()
    Agent.objects.update(status="expired")
    Provider.objects.update(active=False)
    response = register(body(endpoint="http://127.0.0.1:6000"))
    assert response.status_code == 200
    agent = Agent.objects.select_related("provider").get()
    assert (agent.status, agent.provider.active, agent.provider.base_url) == (
        "alive", True, "http://127.0.0.1:6000")


def test_silent_past_the_timeout_counts_as_expired_before_the_sweep(settings):
    register()
    settings.AGENT_HEARTBEAT_TIMEOUT = 0.0
    assert register().status_code == 200


@pytest.mark.parametrize("bearer", [None, "wrong-secret", ""])
def test_missing_or_wrong_registration_secret_is_401_and_unchanged(bearer):
    response = register(bearer=bearer)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert error(response)["type"] == "authentication_error"
    assert state() == ([], [], [])


def test_agent_token_is_not_a_registration_secret():
    token = register().json()["token"]
    assert register(body(name="other"), bearer=token).status_code == 401


def test_registration_is_refused_with_503_when_no_secret_is_configured(settings):
    settings.AGENT_REGISTRATION_TOKEN = ""
    response = register()
    assert response.status_code == 503
    assert "AGENT_REGISTRATION_TOKEN" in error(response)["message"]
    assert not Agent.objects.exists()


@pytest.mark.parametrize(("payload", "param"), [
    (body(name=""), "name"),
    (body(name="a" * 64), "name"),
    (body(name="bad name"), "name"),
    (body(name="agent/1"), "name"),
    (body(name=7), "name"),
    ({"endpoint": ENDPOINT, "models": [MODEL]}, "name"),
    (body(endpoint="ftp://127.0.0.1:5000"), "endpoint"),
    (body(endpoint="127.0.0.1:5000"), "endpoint"),
    (body(endpoint="http://user:pw@127.0.0.1:5000"), "endpoint"),
    (body(endpoint="http://127.0.0.1:5000/?x=1"), "endpoint"),
    (body(endpoint="http://127.0.0.1:5000/#frag"), "endpoint"),
    (body(endpoint="http://127.0.0.1:99999"), "endpoint"),
    (body(endpoint=None), "endpoint"),
    (body(models=[]), "models"),
    (body(models="local-x"), "models"),
    (body(models=[f"m{i}" for i in range(101)]), "models"),
    (body(models=["local-x", "LOCAL-X"]), "models"),
    (body(models=["bad name"]), "models"),
    (body(models=["x" * 201]), "models"),
    (body(models=[3]), "models"),
    ({"name": "local-agent", "endpoint": ENDPOINT}, "models"),
])
def test_invalid_field_is_400_naming_it(payload, param):
    response = register(payload)
    assert response.status_code == 400, response.content
    assert error(response)["param"] == param
    assert state() == ([], [], [])


@pytest.mark.parametrize("raw", ["not json", "[1, 2]", "null"])
def test_body_that_is_not_a_json_object_is_400(raw):
    response = Client().post("/register", raw, content_type="application/json",
                             HTTP_AUTHORIZATION=f"Bearer {SECRET}")
    assert response.status_code == 400
    assert error(response)["type"] == "invalid_request_error"


def test_get_is_405():
    response = Client().get("/register")
    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"


def test_a_hundred_models_with_hub_style_names_are_accepted():
    names = [f"org/model-{i}:q4_K.M" for i in range(100)]
    assert register(body(models=names)).status_code == 201
    assert Model.objects.filter(source="agent").count() == 100


# --- endpoints: allowed networks, link-local and metadata ----------------------------------

@pytest.mark.parametrize("endpoint", [
    "http://169.254.169.254",
    "http://169.254.10.1:5000",
    "http://[fe80::1]:5000",
    "http://[fd00:ec2::254]",
    "http://[::ffff:169.254.169.254]",
    "http://metadata.google.internal",
    "http://METADATA.google.internal.:80",
])
def test_link_local_and_metadata_endpoints_are_refused(endpoint, settings):
    settings.AGENT_ALLOWED_NETWORKS = ["0.0.0.0/0", "::/0"]  # even when everything else is allowed
    response = register(body(endpoint=endpoint))
    assert response.status_code == 400
    assert error(response)["param"] == "endpoint"
    assert not Agent.objects.exists()


def test_public_address_outside_the_allowed_networks_is_refused():
    response = register(body(endpoint="http://8.8.8.8:5000"))
    assert response.status_code == 400
    assert "AGENT_ALLOWED_NETWORKS" in error(response)["message"]


def test_allowed_networks_setting_admits_an_address(settings):
    settings.AGENT_ALLOWED_NETWORKS = ["203.0.113.0/24"]
    assert register(body(endpoint="https://203.0.113.7")).status_code == 201
    assert register(body(name="other", endpoint="http://127.0.0.1:5000")).status_code == 400


@pytest.mark.parametrize("endpoint", ["http://localhost:5000", "http://10.1.2.3:8000/v1",
                                      "http://192.168.1.20", "http://[::1]:5000"])
def test_loopback_and_private_endpoints_are_allowed(endpoint):
    assert register(body(endpoint=endpoint)).status_code == 201


def _resolves_to(*addresses: str):  # type: ignore[no-untyped-def]
    def getaddrinfo(host, port, *args, **kwargs):  # type: ignore[no-untyped-def]
        family = lambda a: socket.AF_INET6 if ":" in a else socket.AF_INET  # noqa: E731
        return [(family(a), socket.SOCK_STREAM, 6, "", (a, port)) for a in addresses]
    return getaddrinfo


def test_hostname_resolving_to_a_refused_address_is_refused(monkeypatch):
    monkeypatch.setattr("agents.network.socket.getaddrinfo", _resolves_to("10.0.0.5", "169.254.169.254"))
    response = register(body(endpoint="http://agent.internal.example:5000"))
    assert response.status_code == 400
    assert "169.254.169.254" in error(response)["message"]


def test_hostname_resolving_to_private_addresses_is_allowed(monkeypatch):
    monkeypatch.setattr("agents.network.socket.getaddrinfo", _resolves_to("10.0.0.5", "fd12::5"))
    assert register(body(endpoint="http://agent.internal.example:5000")).status_code == 201
    assert Agent.objects.get().endpoint == "http://agent.internal.example:5000"


def test_unresolvable_hostname_is_400():
    response = register(body(endpoint="http://no-such-host.invalid:5000"))
    assert response.status_code == 400
    assert "could not be resolved" in error(response)["message"]


def test_unauthenticated_caller_triggers_no_dns_lookup(monkeypatch):
    def fail(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("resolved a host for an unauthenticated caller")
    monkeypatch.setattr("agents.network.socket.getaddrinfo", fail)
    assert register(body(endpoint="http://agent.example:5000"), bearer="wrong").status_code == 401


# --- models: who owns a name -----------------------------------------------------------------

def test_model_served_by_a_cloud_provider_is_409_naming_models():
    model_add(name="gpt-4o", type="openai", endpoint="", kind="api")
    before = state()
    response = register(body(models=[MODEL, "GPT-4O"]))
    assert response.status_code == 409
    assert error(response)["param"] == "models"
    assert "gpt-4o" in error(response)["message"] and "openai" in error(response)["message"]
    assert state() == before


def test_model_of_another_agent_is_409():
    register()
    response = register(body(name="second", endpoint="http://127.0.0.1:5001"))
    assert response.status_code == 409
    assert error(response)["param"] == "models"
    assert "local-agent" in error(response)["message"]
    assert Agent.objects.count() == 1 and Provider.objects.count() == 1


def test_model_of_an_expired_agent_is_still_409():
    register()
    Agent.objects.update(status="expired")
    assert register(body(name="second", endpoint="http://127.0.0.1:5001")).status_code == 409


def test_local_agent_url_model_is_taken_over_by_the_agent():
    """The demo registry's local_mistral row (served via LOCAL_AGENT_URL) becomes the agent's."""
    model_add(name=MODEL, type="local", endpoint="", kind="api", context_window=32768)
    assert register().status_code == 201
    row = Model.objects.select_related("provider").get(name=MODEL)
    assert (row.provider.name, row.source, row.context_window) == ("agent-local-agent", "agent", 32768)


def test_provider_name_taken_by_a_non_agent_provider_is_409():
    Provider.objects.create(name="Agent-Local-Agent", type="openai")
    response = register()
    assert response.status_code == 409
    assert error(response)["param"] == "name"


def test_longest_name_gets_a_valid_distinct_provider_name():
    first, second = "a" * 63, "a" * 62 + "b"
    assert register(body(name=first, models=["m1"])).status_code == 201
    assert register(body(name=second, models=["m2"])).status_code == 201
    names = sorted(Provider.objects.values_list("name", flat=True))
    assert len(set(names)) == 2 and all(len(n) <= 63 for n in names)
    for provider in Provider.objects.all():
        provider.full_clean()
