"""Callers in the governance API: customers, teams, virtual keys (secret shown once, rotation)."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import sync_to_async
from rest_framework.test import APIClient

from governance.keys import hash_key
from governance.models import Customer, Team, VirtualKey
from tests.governance.conftest import staff_client

pytestmark = pytest.mark.django_db

BASE = "/api/governance"
HI = [{"role": "user", "content": "hi"}]


def created(api: APIClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = api.post(f"{BASE}/{path}", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def rejected(response: Any, field: str) -> dict[str, Any]:
    assert response.status_code == 400, response.json()
    assert field in response.json(), response.json()
    return response.json()


def all_responses_text(api: APIClient, key_id: str) -> str:
    """Every way the API shows an existing key, concatenated."""
    return "".join([
        api.get(f"{BASE}/virtual-keys").content.decode(),
        api.get(f"{BASE}/virtual-keys/{key_id}").content.decode(),
        api.put(f"{BASE}/virtual-keys/{key_id}", {"name": "new"}, format="json").content.decode(),
    ])


# --- customers and teams ---------------------------------------------------------------------

def test_customer_create_answers_201_with_message_and_customer(api):
    body = created(api, "customers", {"name": "Acme"})
    assert body["message"] == "Customer 'Acme' created."
    assert body["customer"]["name"] == "Acme"
    assert Customer.objects.get(pk=body["customer"]["id"]).name == "Acme"


def test_list_wraps_rows_in_the_plural_key_with_a_count(api):
    created(api, "customers", {"name": "b"})
    created(api, "customers", {"name": "a"})
    body = api.get(f"{BASE}/customers").json()
    assert body["count"] == 2
    assert [c["name"] for c in body["customers"]] == ["a", "b"]


@pytest.mark.parametrize("slash", ["", "/"])
def test_every_route_answers_with_and_without_a_trailing_slash(api, slash):
    customer = created(api, f"customers{slash}", {"name": "acme"})["customer"]
    item = f"{BASE}/customers/{customer['id']}{slash}"
    assert api.get(f"{BASE}/customers{slash}").json()["count"] == 1
    assert api.get(item).json() == {"customer": customer}
    assert api.put(item, {"name": "acme2"}, format="json").status_code == 200
    assert api.delete(item).json() == {"message": "Customer 'acme2' deleted."}
    assert not Customer.objects.exists()


MODELS = {"customers": Customer, "teams": Team, "virtual-keys": VirtualKey}


@pytest.mark.parametrize("path", list(MODELS))
def test_names_are_unique_ignoring_case(api, path):
    created(api, path, {"name": "Acme"})
    body = rejected(api.post(f"{BASE}/{path}", {"name": "ACME"}, format="json"), "name")
    assert "already exists" in body["name"][0]
    assert MODELS[path].objects.count() == 1


@pytest.mark.parametrize(("path", "field", "label"), [
    ("teams", "customer_id", "customer"),
    ("virtual-keys", "team_id", "team"),
    ("virtual-keys", "customer_id", "customer"),
])
def test_unknown_reference_is_refused_naming_its_field(api, path, field, label):
    body = rejected(api.post(f"{BASE}/{path}", {"name": "x", field: "nope"}, format="json"), field)
    assert body[field] == [f"Unknown {label} 'nope'."]
    assert not MODELS[path].objects.exists()


def test_renaming_to_a_taken_name_is_refused_and_changes_nothing(api):
    created(api, "customers", {"name": "acme"})
    other = created(api, "customers", {"name": "globex"})["customer"]
    rejected(api.put(f"{BASE}/customers/{other['id']}", {"name": "Acme"}, format="json"), "name")
    assert Customer.objects.get(pk=other["id"]).name == "globex"


def test_a_name_taken_by_a_concurrent_request_still_answers_400_on_name(api, monkeypatch):
    created(api, "customers", {"name": "acme"})
    monkeypatch.setattr("governance.api.callers.caller_name_conflict", lambda **_: None)
    rejected(api.post(f"{BASE}/customers", {"name": "ACME"}, format="json"), "name")
    assert Customer.objects.count() == 1


def test_a_row_may_change_the_case_of_its_own_name(api):
    customer = created(api, "customers", {"name": "acme"})["customer"]
    response = api.put(f"{BASE}/customers/{customer['id']}", {"name": "ACME"}, format="json")
    assert response.json()["customer"]["name"] == "ACME"


def test_blank_name_is_refused(api):
    rejected(api.post(f"{BASE}/teams", {"name": "  "}, format="json"), "name")
    assert not Team.objects.exists()


def test_team_links_to_its_customer(api):
    customer = created(api, "customers", {"name": "acme"})["customer"]
    team = created(api, "teams", {"name": "ml", "customer_id": customer["id"]})["team"]
    assert (team["customer_id"], team["customer_name"]) == (customer["id"], "acme")


def test_update_keeps_omitted_fields_and_clears_a_link_sent_as_null(api):
    customer = created(api, "customers", {"name": "acme"})["customer"]
    team = created(api, "teams", {"name": "ml", "customer_id": customer["id"]})["team"]
    url = f"{BASE}/teams/{team['id']}"
    renamed = api.put(url, {"name": "ml-2"}, format="json").json()["team"]
    assert renamed["customer_id"] == customer["id"]
    assert api.put(url, {"customer_id": None}, format="json").json()["team"]["customer_id"] is None
    assert Team.objects.get(pk=team["id"]).name == "ml-2"


def test_update_with_unknown_reference_changes_nothing(api):
    team = created(api, "teams", {"name": "ml"})["team"]
    body = {"name": "renamed", "customer_id": "nope"}
    rejected(api.put(f"{BASE}/teams/{team['id']}", body, format="json"), "customer_id")
    assert Team.objects.get(pk=team["id"]).name == "ml"


def test_deleting_a_customer_keeps_its_teams_unassigned(api):
    customer = created(api, "customers", {"name": "acme"})["customer"]
    team = created(api, "teams", {"name": "ml", "customer_id": customer["id"]})["team"]
    api.delete(f"{BASE}/customers/{customer['id']}")
    assert Team.objects.get(pk=team["id"]).customer_id is None


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_unknown_id_is_404(api, method):
    assert getattr(api, method)(f"{BASE}/teams/nope", {}, format="json").status_code == 404


# --- virtual keys ----------------------------------------------------------------------------

def test_virtual_key_create_shows_the_secret_once_and_stores_only_its_digest(api):
    body = created(api, "virtual-keys", {"name": "ci"})
    secret, shown = body["key"], body["virtual_key"]
    stored = VirtualKey.objects.get(pk=shown["id"])
    assert stored.key_hash == hash_key(secret)
    assert secret.startswith(shown["key_prefix"]) and shown["active"] is True
    assert set(shown) == {
        "id", "name", "key_prefix", "team_id", "customer_id", "active", "created_at"}
    assert "Store the key now" in body["message"]


def test_no_other_response_shows_the_secret_or_its_digest(api):
    body = created(api, "virtual-keys", {"name": "ci"})
    text = all_responses_text(api, body["virtual_key"]["id"])
    assert body["key"] not in text
    assert hash_key(body["key"]) not in text
    assert body["virtual_key"]["key_prefix"] in text


def test_virtual_key_cannot_name_a_customer_its_team_does_not_belong_to(api):
    acme = created(api, "customers", {"name": "acme"})["customer"]
    globex = created(api, "customers", {"name": "globex"})["customer"]
    team = created(api, "teams", {"name": "ml", "customer_id": acme["id"]})["team"]
    body = {"name": "ci", "team_id": team["id"], "customer_id": globex["id"]}
    rejected(api.post(f"{BASE}/virtual-keys", body, format="json"), "customer_id")
    assert not VirtualKey.objects.exists()


def test_put_can_deactivate_a_key_and_keeps_its_links(api):
    team = created(api, "teams", {"name": "ml"})["team"]
    key = created(api, "virtual-keys", {"name": "ci", "team_id": team["id"]})["virtual_key"]
    shown = api.put(f"{BASE}/virtual-keys/{key['id']}", {"active": False}, format="json").json()
    assert shown["virtual_key"]["active"] is False
    assert shown["virtual_key"]["team_id"] == team["id"]
    assert "key" not in shown


def test_a_field_sent_for_the_secret_or_digest_is_ignored(api):
    key = created(api, "virtual-keys", {"name": "ci"})["virtual_key"]
    digest = VirtualKey.objects.get(pk=key["id"]).key_hash
    forged = {"key_hash": "0" * 64, "key_prefix": "x"}
    api.put(f"{BASE}/virtual-keys/{key['id']}", forged, format="json")
    stored = VirtualKey.objects.get(pk=key["id"])
    assert (stored.key_hash, stored.key_prefix) == (digest, key["key_prefix"])


def test_rotate_shows_a_new_secret_once_and_replaces_the_digest(api):
    first = created(api, "virtual-keys", {"name": "ci"})
    key_id = first["virtual_key"]["id"]
    response = api.post(f"{BASE}/virtual-keys/{key_id}/rotate")
    assert response.status_code == 200
    body = response.json()
    assert body["key"] != first["key"]
    assert VirtualKey.objects.get(pk=key_id).key_hash == hash_key(body["key"])
    assert body["key"] not in all_responses_text(api, key_id)


def test_rotating_an_unknown_key_is_404(api):
    assert api.post(f"{BASE}/virtual-keys/nope/rotate/").status_code == 404


def test_delete_answers_with_a_message_and_removes_the_key(api):
    key = created(api, "virtual-keys", {"name": "ci"})["virtual_key"]
    response = api.delete(f"{BASE}/virtual-keys/{key['id']}/")
    assert response.json() == {"message": "Virtual key 'ci' deleted."}
    assert not VirtualKey.objects.exists()


@pytest.mark.django_db(transaction=True)
async def test_after_rotation_the_data_plane_refuses_the_old_secret(gateway, settings):
    settings.VIRTUAL_KEYS_REQUIRED = True
    api = await sync_to_async(staff_client)()
    body = {"model": "dummy", "messages": HI}

    def chat(secret: str) -> Any:
        headers = {"authorization": f"Bearer {secret}"}
        return gateway.post("/v1/chat/completions", headers=headers, json=body)

    first = (await sync_to_async(created)(api, "virtual-keys", {"name": "ci"}))
    assert (await chat(first["key"])).status_code == 200
    rotate = sync_to_async(api.post)
    second = (await rotate(f"{BASE}/virtual-keys/{first['virtual_key']['id']}/rotate")).json()
    assert (await chat(first["key"])).status_code == 401
    assert (await chat(second["key"])).status_code == 200
