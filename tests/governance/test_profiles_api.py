"""Routing profiles API: validation, CRUD, export/import, simulate, and profiles serving real traffic."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from django.db import IntegrityError
from rest_framework.test import APIClient

from governance.config_version import read_version
from governance.models import RoutingProfile
from providers.models import Provider
from tests.governance.conftest import staff_client

pytestmark = pytest.mark.django_db

URL = "/api/governance/routing-profiles"


def target(provider: str = "primary", **fields: Any) -> dict[str, Any]:
    return {"provider": provider, **fields}


def profile(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": "light", "name": "Light", "virtual_provider": "light",
        "targets": [target("primary", model="gpt-4o-mini", virtual_model="light", priority=1)],
    }
    return {**body, **fields}


def stored() -> list[dict[str, Any]]:
    return list(RoutingProfile.objects.order_by("id").values())


@pytest.fixture
def providers() -> list[Provider]:
    """Three real providers that profile targets can name."""
    return [
        Provider.objects.create(name=name, type="openai", base_url=f"http://127.0.0.1:9/{name}")
        for name in ("primary", "backup", "third")
    ]


@pytest.fixture
def existing(api: APIClient) -> dict[str, Any]:
    """One stored profile, so validation tests can check that a rejected request changes nothing."""
    body = profile(id="heavy", name="Heavy profile", virtual_provider="heavy")
    assert api.post(URL, body, format="json").status_code == 201
    return body


def errors_at(response: Any, *path: str | int) -> Any:
    assert response.status_code == 400, response.content
    node = response.json()
    for key in path:
        node = node[key]
    assert node, response.json()
    return node


# --- validation: each rule answers 400, names the field and changes nothing ---------------------

INVALID_PROFILES: dict[str, tuple[dict[str, Any], tuple[str | int, ...]]] = {
    "missing_id": ({"id": None}, ("id",)),
    "id_with_spaces": ({"id": "my profile"}, ("id",)),
    "id_over_100_chars": ({"id": "x" * 101}, ("id",)),
    "id_reserved_by_a_path": ({"id": "export"}, ("id",)),
    "id_taken": ({"id": "heavy"}, ("id",)),
    "missing_name": ({"name": None}, ("name",)),
    "name_taken_case_insensitively": ({"name": "HEAVY PROFILE"}, ("name",)),
    "missing_virtual_provider": ({"virtual_provider": None}, ("virtual_provider",)),
    "virtual_provider_with_slash": ({"virtual_provider": "li/ght"}, ("virtual_provider",)),
    "virtual_provider_wildcard": ({"virtual_provider": "*"}, ("virtual_provider",)),
    "virtual_provider_is_a_provider_type": ({"virtual_provider": "OpenAI"}, ("virtual_provider",)),
    "virtual_provider_is_a_provider_row": ({"virtual_provider": "PRIMARY"}, ("virtual_provider",)),
    "virtual_provider_taken_case_insensitively": ({"virtual_provider": "Heavy"}, ("virtual_provider",)),
    "unknown_strategy": ({"strategy": "round_robin"}, ("strategy",)),
    "missing_targets": ({"targets": None}, ("targets",)),
    "no_targets": ({"targets": []}, ("targets",)),
    "target_without_provider": ({"targets": [{"model": "gpt-4o"}]}, ("targets", "0", "provider")),
    "virtual_model_without_model": (
        {"targets": [target(virtual_model="light")]}, ("targets", "0", "model")),
    "alias_repeated_case_insensitively": (
        {"targets": [target(model="a", virtual_model="light"), target("backup", model="b", virtual_model="LIGHT")]},
        ("targets", "1", "virtual_model")),
    "wildcard_mixed_with_named_alias": (
        {"targets": [target(model="a", virtual_model="light"), target("backup", model="b", virtual_model="*")]},
        ("targets", "1", "virtual_model")),
    "negative_weight": ({"targets": [target(weight=-1)]}, ("targets", "0", "weight")),
    "weight_not_a_number": ({"targets": [target(weight="1")]}, ("targets", "0", "weight")),
    "priority_not_an_integer": ({"targets": [target(priority=1.5)]}, ("targets", "0", "priority")),
    "unknown_capability": ({"targets": [target(capabilities=["audio"])]}, ("targets", "0", "capabilities")),
    "unknown_request_type": (
        {"targets": [target(request_types=["embeddings"])]}, ("targets", "0", "request_types")),
    "misspelt_target_field": ({"targets": [target(modle="gpt-4o")]}, ("targets", "0", "modle")),
}


@pytest.mark.parametrize("case", INVALID_PROFILES, ids=list(INVALID_PROFILES))
def test_create_rejects_an_invalid_profile_naming_the_field(api, existing, providers, case) -> None:  # type: ignore[no-untyped-def]
    changes, path = INVALID_PROFILES[case]
    body = {k: v for k, v in profile(**changes).items() if v is not None}
    before, version = stored(), read_version()
    errors_at(api.post(URL, body, format="json"), *path)
    assert stored() == before
    assert read_version() == version


def test_update_rejects_a_body_id_other_than_the_path_id(api, existing) -> None:  # type: ignore[no-untyped-def]
    before = stored()
    errors_at(api.put(f"{URL}/heavy", {**existing, "id": "other"}, format="json"), "id")
    assert stored() == before


def test_update_rejects_a_name_another_profile_has(api, existing) -> None:  # type: ignore[no-untyped-def]
    api.post(URL, profile(), format="json")
    before = stored()
    errors_at(api.put(f"{URL}/light", profile(name="heavy PROFILE"), format="json"), "name")
    assert stored() == before


# --- CRUD ----------------------------------------------------------------------------------------

def test_create_answers_201_with_the_stored_profile_defaults_filled_in(api) -> None:  # type: ignore[no-untyped-def]
    response = api.post(URL, profile(), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["message"]
    assert body["profile"]["strategy"] == "ordered_failover"
    assert body["profile"]["enabled"] is True
    assert body["profile"]["targets"] == [{
        "provider": "primary", "model": "gpt-4o-mini", "virtual_model": "light", "priority": 1,
        "weight": 1.0, "capabilities": [], "request_types": [], "enabled": True,
    }]
    assert {"created_at", "updated_at"} <= set(body["profile"])
    assert RoutingProfile.objects.get(pk="light").targets == body["profile"]["targets"]


def test_capabilities_are_lower_cased_and_deduplicated(api) -> None:  # type: ignore[no-untyped-def]
    body = profile(targets=[target(capabilities=["Vision", "text", "vision"], request_types=["CHAT"])])
    stored_target = api.post(URL, body, format="json").json()["profile"]["targets"][0]
    assert stored_target["capabilities"] == ["vision", "text"]
    assert stored_target["request_types"] == ["chat"]


def test_list_returns_profiles_and_count(api, existing) -> None:  # type: ignore[no-untyped-def]
    api.post(URL, profile(), format="json")
    body = api.get(URL).json()
    assert body["count"] == 2
    assert [p["id"] for p in body["profiles"]] == ["heavy", "light"]


def test_list_filters_by_virtual_provider_case_insensitively(api, existing) -> None:  # type: ignore[no-untyped-def]
    api.post(URL, profile(), format="json")
    body = api.get(URL, {"virtual_provider": "LIGHT"}).json()
    assert body["count"] == 1
    assert body["profiles"][0]["id"] == "light"


def test_paths_work_with_and_without_a_trailing_slash(api, existing) -> None:  # type: ignore[no-untyped-def]
    assert api.get(f"{URL}/").json()["count"] == 1
    assert api.get(f"{URL}/heavy/").json()["profile"]["id"] == "heavy"
    assert "plugin" in api.get(f"{URL}/export/").json()


def test_get_returns_one_profile(api, existing) -> None:  # type: ignore[no-untyped-def]
    response = api.get(f"{URL}/heavy")
    assert response.status_code == 200
    assert response.json()["profile"]["virtual_provider"] == "heavy"


def test_get_unknown_profile_is_404_with_detail(api) -> None:  # type: ignore[no-untyped-def]
    response = api.get(f"{URL}/nope")
    assert response.status_code == 404
    assert "detail" in response.json()


def test_put_replaces_the_whole_profile(api) -> None:  # type: ignore[no-untyped-def]
    api.post(URL, profile(description="old", strategy="weighted"), format="json")
    body = profile(name="Light v2", targets=[target("backup")])
    del body["id"]
    response = api.put(f"{URL}/light", body, format="json")
    assert response.status_code == 200, response.content
    row = RoutingProfile.objects.get(pk="light")
    assert (row.name, row.description, row.strategy) == ("Light v2", "", "ordered_failover")
    assert [t["provider"] for t in row.targets] == ["backup"]
    assert response.json()["profile"]["name"] == "Light v2"


def test_put_keeps_its_own_name_and_virtual_provider(api) -> None:  # type: ignore[no-untyped-def]
    api.post(URL, profile(), format="json")
    assert api.put(f"{URL}/light", profile(enabled=False), format="json").status_code == 200
    assert RoutingProfile.objects.get(pk="light").enabled is False


def test_put_unknown_profile_is_404(api) -> None:  # type: ignore[no-untyped-def]
    assert api.put(f"{URL}/nope", profile(id="nope"), format="json").status_code == 404


def test_delete_removes_the_profile(api, existing) -> None:  # type: ignore[no-untyped-def]
    response = api.delete(f"{URL}/heavy")
    assert response.status_code == 200
    assert response.json()["message"]
    assert not RoutingProfile.objects.exists()
    assert api.delete(f"{URL}/heavy").status_code == 404


def test_anonymous_caller_is_401(existing) -> None:  # type: ignore[no-untyped-def]
    assert APIClient().get(URL).status_code == 401


def test_non_staff_user_is_403(existing) -> None:  # type: ignore[no-untyped-def]
    client = staff_client(staff=False)
    assert client.get(URL).status_code == 403
    assert client.post(f"{URL}/import", {"routing_profiles": []}, format="json").status_code == 403
    assert RoutingProfile.objects.count() == 1


# --- export / import -----------------------------------------------------------------------------

def test_export_wraps_the_set_as_a_plugin_config(api, existing) -> None:  # type: ignore[no-untyped-def]
    plugin = api.get(f"{URL}/export").json()["plugin"]
    assert (plugin["name"], plugin["enabled"]) == ("governance", True)
    [exported] = plugin["config"]["routing_profiles"]
    assert exported["id"] == "heavy"
    assert exported["targets"][0]["weight"] == 1.0


@pytest.mark.parametrize("wrap", [
    lambda profiles: {"routing_profiles": profiles},
    lambda profiles: {"plugin": {"name": "governance", "config": {"routing_profiles": profiles}}},
], ids=["routing_profiles", "plugin"])
def test_import_replaces_the_whole_set(api, existing, wrap, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    version = read_version()
    new = [profile(), profile(id="fast", name="Fast", virtual_provider="fast")]
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"{URL}/import", wrap(new), format="json")
    assert response.status_code == 200, response.content
    assert response.json()["count"] == 2
    assert [p["id"] for p in response.json()["profiles"]] == ["light", "fast"]
    assert sorted(RoutingProfile.objects.values_list("id", flat=True)) == ["fast", "light"]
    assert read_version() > version


def test_import_with_one_invalid_profile_changes_nothing(api, existing) -> None:  # type: ignore[no-untyped-def]
    before, version = stored(), read_version()
    body = {"routing_profiles": [profile(), profile(id="bad", name="", virtual_provider="bad")]}
    errors = errors_at(api.post(f"{URL}/import", body, format="json"), "routing_profiles")
    assert list(errors) == ["1"]
    assert "name" in errors["1"]
    assert stored() == before
    assert read_version() == version


def test_import_failing_in_the_database_keeps_the_previous_set(api, existing, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    def clash(*args: Any, **kwargs: Any) -> None:  # a concurrent writer won the race
        raise IntegrityError('duplicate key value violates unique constraint "profile_name_ci_unique"')

    monkeypatch.setattr(RoutingProfile.objects, "bulk_create", clash)
    before = stored()
    errors_at(api.post(f"{URL}/import", {"routing_profiles": [profile()]}, format="json"), "name")
    assert stored() == before


def test_import_of_an_empty_set_removes_every_profile(api, existing) -> None:  # type: ignore[no-untyped-def]
    response = api.post(f"{URL}/import", {"routing_profiles": []}, format="json")
    assert response.json()["count"] == 0
    assert not RoutingProfile.objects.exists()


@pytest.mark.parametrize("field", ["id", "name", "virtual_provider"])
def test_import_rejects_duplicates_within_the_set(api, existing, field) -> None:  # type: ignore[no-untyped-def]
    first = profile()
    second = {**profile(id="other", name="Other", virtual_provider="other"), field: first[field].upper()}
    if field == "id":
        second["id"] = first["id"]  # ids are compared exactly, as the primary key does
    before = stored()
    errors_at(api.post(f"{URL}/import", {"routing_profiles": [first, second]}, format="json"),
              "routing_profiles", "1", field)
    assert stored() == before


def test_import_without_profiles_names_routing_profiles(api, existing) -> None:  # type: ignore[no-untyped-def]
    errors_at(api.post(f"{URL}/import", {"plugin": {"config": {}}}, format="json"), "routing_profiles")
    assert RoutingProfile.objects.count() == 1


def test_export_then_import_reproduces_the_set(api, existing) -> None:  # type: ignore[no-untyped-def]
    weighted = profile(strategy="weighted", description="two", targets=[
        target("primary", model="a", virtual_model="light", weight=3, capabilities=["text", "vision"]),
        target("backup", model="b", priority=2, enabled=False, request_types=["chat"]),
    ])
    api.post(URL, weighted, format="json")
    exported = api.get(f"{URL}/export").json()
    api.delete(f"{URL}/light")
    assert api.post(f"{URL}/import", exported, format="json").status_code == 200
    assert api.get(f"{URL}/export").json() == exported


# --- simulate ------------------------------------------------------------------------------------

def simulate(api: APIClient, model: str = "light/light", **fields: Any) -> Any:
    return api.post(f"{URL}/simulate", {"model": model, **fields}, format="json")


def create(api: APIClient, *targets: dict[str, Any], **fields: Any) -> None:
    response = api.post(URL, profile(targets=list(targets), **fields), format="json")
    assert response.status_code == 201, response.content


def test_simulate_orders_failover_by_priority(api, providers) -> None:  # type: ignore[no-untyped-def]
    create(api, target("third", model="c", priority=3), target("primary", model="a", priority=1),
           target("backup", model="b", priority=2))
    body = simulate(api).json()
    assert body["profile"] == {"id": "light", "name": "Light", "virtual_provider": "light",
                               "strategy": "ordered_failover"}
    assert body["primary"] == {"provider": "primary", "model": "a"}
    assert body["fallbacks"] == [{"provider": "backup", "model": "b"}, {"provider": "third", "model": "c"}]
    assert all(c["eligible"] and c["reason"] is None for c in body["candidates"])


def test_simulate_weighted_splits_primaries_by_weight(api, providers) -> None:  # type: ignore[no-untyped-def]
    create(api, target("primary", model="a", weight=3), target("backup", model="b", weight=1), strategy="weighted")
    # 600 draws: the share's standard deviation is 0.018, so 0.07 is 4 sigma (a false failure
    # about once in 16,000 runs) and still tells 3:1 from 1:1 or 1:0.
    picks = Counter(simulate(api).json()["primary"]["provider"] for _ in range(600))
    assert abs(picks["primary"] / 600 - 0.75) <= 0.07, picks
    assert set(picks) == {"primary", "backup"}


def test_simulate_drops_targets_lacking_a_requested_capability(api, providers) -> None:  # type: ignore[no-untyped-def]
    create(api, target("primary", model="a", capabilities=["text"]),
           target("backup", model="b", priority=1, capabilities=["text", "vision"]))
    body = simulate(api, capabilities=["vision"]).json()
    by_provider = {c["provider"]: c for c in body["candidates"]}
    assert by_provider["primary"]["eligible"] is False
    assert "vision" in by_provider["primary"]["reason"]
    assert by_provider["backup"]["eligible"] is True
    assert body["primary"] == {"provider": "backup", "model": "b"}
    assert body["fallbacks"] == []


def test_simulate_text_request_keeps_text_only_targets(api, providers) -> None:  # type: ignore[no-untyped-def]
    create(api, target("primary", model="a", capabilities=["text"]))
    assert simulate(api).json()["primary"] == {"provider": "primary", "model": "a"}


def test_simulate_matches_the_alias_and_targets_without_one(api, providers) -> None:  # type: ignore[no-untyped-def]
    create(api, target("primary", model="a", virtual_model="light"),
           target("backup", model="b", virtual_model="heavy"), target("third", priority=1))
    body = simulate(api, "light/LIGHT").json()
    assert [(c["provider"], c["model"]) for c in body["candidates"]] == [("primary", "a"), ("third", "LIGHT")]
    assert body["fallbacks"] == [{"provider": "third", "model": "LIGHT"}]


def test_simulate_wildcard_target_serves_any_alias(api, providers) -> None:  # type: ignore[no-untyped-def]
    create(api, target("primary", model="a", virtual_model="*"))
    assert simulate(api, "light/anything").json()["primary"] == {"provider": "primary", "model": "a"}


def test_simulate_shows_a_disabled_target_as_ineligible(api, providers) -> None:  # type: ignore[no-untyped-def]
    create(api, target("primary", model="a", enabled=False), target("backup", model="b", priority=1))
    body = simulate(api).json()
    assert body["candidates"][0] == {"provider": "primary", "model": "a", "priority": 0, "weight": 1.0,
                                     "eligible": False, "reason": "disabled"}
    assert body["primary"] == {"provider": "backup", "model": "b"}


def test_simulate_reports_a_target_on_an_unknown_provider(api, providers) -> None:  # type: ignore[no-untyped-def]
    create(api, target("ghost", model="a"))
    body = simulate(api).json()
    assert body["candidates"][0]["eligible"] is False
    assert body["candidates"][0]["reason"] == "unknown or inactive provider"
    assert body["primary"] is None


@pytest.mark.parametrize("model", ["nope/light", "light", "light/"])
def test_simulate_unknown_profile_names_model(api, providers, model) -> None:  # type: ignore[no-untyped-def]
    create(api, target("primary", model="a"))
    errors_at(simulate(api, model), "model")


def test_simulate_skips_disabled_profiles(api, providers) -> None:  # type: ignore[no-untyped-def]
    create(api, target("primary", model="a"), enabled=False)
    errors_at(simulate(api), "model")


# --- end to end: a profile made through the API serves /v1/chat/completions ---------------------

HI = [{"role": "user", "content": "hi"}]


def light_profile(fake_openai, fake_openai_backup, **fields: Any) -> None:  # type: ignore[no-untyped-def]
    Provider.objects.create(name="first", type="openai", base_url=fake_openai.url, api_key="sk-1")
    Provider.objects.create(name="second", type="openai", base_url=fake_openai_backup.url, api_key="sk-2")
    client = staff_client()
    # A named alias belongs to one target; the second serves any alias of the profile.
    targets = [target("first", model="gpt-4o", virtual_model="light", priority=1, weight=0.8),
               target("second", model="gpt-4o", priority=2, weight=0.2)]
    response = client.post(URL, profile(targets=targets, **fields), format="json")
    assert response.status_code == 201, response.content


@pytest.fixture
def failover_profile(fake_openai, fake_openai_backup) -> None:  # type: ignore[no-untyped-def]
    light_profile(fake_openai, fake_openai_backup)


@pytest.fixture
def weighted_profile(fake_openai, fake_openai_backup) -> None:  # type: ignore[no-untyped-def]
    light_profile(fake_openai, fake_openai_backup, strategy="weighted")


async def ask(gateway) -> Any:  # type: ignore[no-untyped-def]
    response = await gateway.post("/v1/chat/completions", json={"model": "light/light", "messages": HI})
    assert response.status_code == 200, response.text
    return response


@pytest.mark.django_db(transaction=True)
async def test_profile_alias_is_served_by_its_first_target(gateway, failover_profile, fake_openai) -> None:  # type: ignore[no-untyped-def]
    response = await ask(gateway)
    assert response.headers["x-switchyard-provider"] == "first"
    assert fake_openai.requests[-1].body["model"] == "gpt-4o"


@pytest.mark.django_db(transaction=True)
async def test_profile_alias_fails_over_to_its_second_target(gateway, failover_profile, fake_openai) -> None:  # type: ignore[no-untyped-def]
    fake_openai.fail_next("500")
    response = await ask(gateway)
    assert response.headers["x-switchyard-provider"] == "second"


@pytest.mark.django_db(transaction=True)
async def test_weighted_profile_splits_traffic_by_weight(gateway, weighted_profile, settings) -> None:  # type: ignore[no-untyped-def]
    settings.RATE_LIMIT_REQUESTS = 10_000
    served = Counter([(await ask(gateway)).headers["x-switchyard-provider"] for _ in range(200)])
    # 0.8 of 200 has a standard deviation of about 2.8 points: 12 points is over 4 of them.
    assert abs(served["first"] / 200 - 0.8) <= 0.12, served
