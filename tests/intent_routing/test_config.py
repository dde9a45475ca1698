"""Routing config: the YAML's version and declaration rules, at startup and by command; the API and its 400s."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from governance.models import RoutingConfig, RoutingPreference
from tests.governance.conftest import staff_client
from tests.intent_routing.conftest import CONFIG, load
from tests.live import LiveGateway

OLD = CONFIG.replace("version: v0.4.0", "version: v0.3.9")
UNDECLARED = CONFIG.replace("models: [backup/gpt-4o-mini]\n", "models: [backup/gpt-4o-mini, openai/o3]\n")
URL = "/api/governance/routing-preferences"


def _file(tmp_path: Path, text: str) -> str:
    path = tmp_path / "routing.yaml"
    path.write_text(text)
    return str(path)


@pytest.mark.django_db
def test_command_loads_the_file_and_replaces_the_set(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    RoutingPreference.objects.create(name="old", description="d", models=["x"])
    call_command("load_routing_config", _file(tmp_path, CONFIG))
    assert list(RoutingPreference.objects.values_list("name", flat=True)) == ["code generation", "general questions"]
    config = RoutingConfig.objects.get()
    assert config.default_model == "backup/gpt-4o-mini" and config.session_max_entries == 100
    assert config.model_providers[0] == {"model": "primary/gpt-4o", "access_key_env": "OPENAI_API_KEY", "default": False}
    assert "Loaded 2 routing preference(s)" in capsys.readouterr().out


@pytest.mark.django_db
@pytest.mark.parametrize(("text", "named"), [
    (OLD, "version: routing_preferences require version v0.4.0 or above"),
    (UNDECLARED, "routing_preferences[1].models[1]: model 'openai/o3' is not declared in model_providers"),
    (CONFIG.replace("$OPENAI_API_KEY", "sk-live-secret", 1), "model_providers[0].access_key"),
    (CONFIG.replace("session_ttl_seconds: 600", "session_ttl_seconds: 0"), "routing.session_ttl_seconds"),
])
def test_command_refuses_a_bad_file_and_changes_nothing(tmp_path: Path, text: str, named: str) -> None:
    load()
    with pytest.raises(CommandError) as raised:
        call_command("load_routing_config", _file(tmp_path, text))
    assert named in str(raised.value)
    assert "sk-live-secret" not in str(raised.value)
    assert RoutingPreference.objects.count() == 2 and RoutingConfig.objects.get().version == "v0.4.0"


@pytest.mark.parametrize(("text", "named"), [
    (OLD, "routing_preferences require version v0.4.0 or above"),
    (UNDECLARED, "model 'openai/o3' is not declared in model_providers"),
])
def test_startup_fails_with_a_clear_message(tmp_path: Path, text: str, named: str) -> None:
    gateway = LiveGateway(tmp_path, {"ROUTING_CONFIG_FILE": _file(tmp_path, text)})
    with pytest.raises(RuntimeError) as raised:
        gateway.start()
    assert named in str(raised.value)
    gateway.stop()


@pytest.mark.django_db
def test_api_lists_creates_replaces_and_deletes() -> None:
    load()
    api = staff_client()
    listed = api.get(URL).json()
    assert listed["count"] == 2 and listed["preferences"][0]["name"] == "code generation"
    created = api.post(URL, {"name": "math", "description": "solving equations", "models": ["primary/gpt-4o"],
                             "prefer": "cheapest"}, format="json")
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    assert created.json()["position"] == 2
    replaced = api.put(f"{URL}/{pk}", {"name": "maths", "description": "solving equations",
                                       "models": ["backup/gpt-4o-mini"]}, format="json")
    assert replaced.status_code == 200 and replaced.json()["prefer"] == "none"
    assert api.get(f"{URL}/{pk}/").json()["name"] == "maths"
    assert api.delete(f"{URL}/{pk}").status_code == 204
    assert api.get(f"{URL}/{pk}").status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize(("body", "field"), [
    ({"name": "x", "description": "d", "models": ["openai/o3"]}, "models[0]"),
    ({"name": "x", "description": "d", "models": []}, "models"),
    ({"name": "Code Generation", "description": "d", "models": ["primary/gpt-4o"]}, "name"),
    ({"name": "x", "description": "d", "models": ["primary/gpt-4o"], "prefer": "best"}, "prefer"),
])
def test_api_refuses_a_bad_preference_naming_the_field(body: dict, field: str) -> None:
    load()
    response = staff_client().post(URL, body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert RoutingPreference.objects.count() == 2


@pytest.mark.django_db
def test_api_config_shows_variable_names_and_guards_declared_models() -> None:
    load()
    api = staff_client()
    config = api.get(f"{URL}/config").json()
    assert config["model_providers"][0] == {"model": "primary/gpt-4o", "access_key": "$OPENAI_API_KEY", "default": False}
    assert config["routing"] == {"session_ttl_seconds": 600, "session_max_entries": 100}
    dropping = {**config, "model_providers": [{"model": "backup/gpt-4o-mini"}]}
    refused = api.put(f"{URL}/config", dropping, format="json")
    assert refused.status_code == 400 and "primary/gpt-4o" in str(refused.json()["model_providers"])
    secret = {**config, "model_providers": [*config["model_providers"], {"model": "x/y", "access_key": "sk-1"}]}
    assert "model_providers[3].access_key" in api.put(f"{URL}/config", secret, format="json").json()
    old = api.put(f"{URL}/config", {**config, "version": "v0.3.0"}, format="json")
    assert old.status_code == 400 and "version" in old.json()
    changed = api.put(f"{URL}/config", {**config, "routing": {"session_ttl_seconds": 60}}, format="json")
    assert changed.status_code == 200 and changed.json()["routing"]["session_ttl_seconds"] == 60
    assert RoutingConfig.objects.get().model_providers[0]["access_key_env"] == "OPENAI_API_KEY"
