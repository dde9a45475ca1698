"""The governance admin: callers (a key's secret shown once), profiles, rules (CEL checked)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse

from governance.keys import generate_key, hash_key
from governance.models import Customer, RoutingProfile, RoutingRule, Team, VirtualKey

pytestmark = pytest.mark.django_db

TARGETS = '[{"provider": "openai", "model": "gpt-4o", "weight": 1}]'


def url(model: str, view: str, *args: Any) -> str:
    return reverse(f"admin:governance_{model}_{view}", args=args)


def make_key(name: str = "ci", **links: Any) -> tuple[VirtualKey, str]:
    secret, prefix, digest = generate_key()
    return VirtualKey.objects.create(name=name, key_hash=digest, key_prefix=prefix, **links), secret


def errors(response: Any, field: str) -> list[str]:
    return response.context["adminform"].form.errors.get(field, [])


def key_form(**fields: str) -> dict[str, str]:
    return {"name": "ci", "team": "", "customer": "", "active": "on", "_save": "Save", **fields}


def pages_showing(client: Any, key: VirtualKey) -> str:
    """Every admin page that shows an existing key, concatenated (each must answer 200)."""
    pages = [
        url("virtualkey", "changelist"), url("virtualkey", "change", key.pk),
        url("virtualkey", "history", key.pk), url("virtualkey", "delete", key.pk),
        url("virtualkey", "changelist") + "?q=" + key.key_prefix,
    ]
    responses = [client.get(page) for page in pages]
    assert [r.status_code for r in responses] == [200] * len(pages)
    return "".join(r.content.decode() for r in responses)


# --- virtual keys ----------------------------------------------------------------------------

def test_key_add_form_has_no_secret_digest_or_prefix_field(admin_client):
    html = admin_client.get(url("virtualkey", "add")).content.decode()
    assert 'name="name"' in html
    fields = ("key_hash", "key_prefix", "key", "secret")
    assert not any(f'name="{field}"' in html for field in fields)


def test_adding_a_key_shows_its_secret_once_as_a_success_message(admin_client):
    response = admin_client.post(url("virtualkey", "add"), key_form(), follow=True)
    key = VirtualKey.objects.get()
    [shown] = [m.message for m in response.context["messages"] if "New virtual key" in m.message]
    secret = shown.split(": ", 1)[1].split(" ", 1)[0]
    assert hash_key(secret) == key.key_hash and secret.startswith(key.key_prefix)
    assert secret not in admin_client.get(url("virtualkey", "changelist")).content.decode()


def test_a_key_added_in_the_admin_is_logged_without_its_secret(admin_client):
    admin_client.post(url("virtualkey", "add"), key_form())
    key = VirtualKey.objects.get()
    entry = LogEntry.objects.get(object_id=key.pk)
    assert key.key_hash not in entry.object_repr + entry.change_message


def test_no_admin_page_shows_a_keys_secret_or_digest(admin_client):
    key, secret = make_key(team=Team.objects.create(name="ml"))
    admin_client.post(url("virtualkey", "change", key.pk), key_form(name="renamed"))
    html = pages_showing(admin_client, key)
    assert secret not in html and key.key_hash not in html
    assert key.key_prefix in html


def test_key_prefix_and_digest_cannot_be_changed_in_the_admin(admin_client):
    key, _ = make_key()
    post = key_form(name="renamed", key_prefix="sk-sy-XXXXXX", key_hash="0" * 64)
    assert admin_client.post(url("virtualkey", "change", key.pk), post).status_code == 302
    stored = VirtualKey.objects.get()
    assert stored.name == "renamed"
    assert (stored.key_prefix, stored.key_hash) == (key.key_prefix, key.key_hash)


def test_key_names_are_unique_ignoring_case_in_the_admin(admin_client):
    make_key("CI")
    response = admin_client.post(url("virtualkey", "add"), key_form(name="ci"))
    assert "already exists" in " ".join(errors(response, "name"))
    assert VirtualKey.objects.count() == 1


def test_key_cannot_name_a_customer_its_team_does_not_belong_to(admin_client):
    team = Team.objects.create(name="ml", customer=Customer.objects.create(name="acme"))
    globex = Customer.objects.create(name="globex")
    post = key_form(team=team.pk, customer=globex.pk)
    response = admin_client.post(url("virtualkey", "add"), post)
    assert "belongs to another customer" in " ".join(errors(response, "customer"))
    assert not VirtualKey.objects.exists()


def test_revoke_action_deactivates_the_selected_keys_only(admin_client):
    chosen, _ = make_key("a")
    other, _ = make_key("b")
    post = {"action": "revoke_keys", "_selected_action": [chosen.pk]}
    admin_client.post(url("virtualkey", "changelist"), post)
    assert VirtualKey.objects.get(pk=chosen.pk).active is False
    assert VirtualKey.objects.get(pk=other.pk).active is True


def test_rotate_action_shows_the_new_secret_once_and_retires_the_old(admin_client):
    key, old = make_key()
    post = {"action": "rotate_keys", "_selected_action": [key.pk]}
    response = admin_client.post(url("virtualkey", "changelist"), post, follow=True)
    [shown] = [m.message for m in response.context["messages"] if "New secret" in m.message]
    new = shown.split(": ", 1)[1].split(" ", 1)[0]
    stored = VirtualKey.objects.get()
    assert stored.key_hash == hash_key(new) != hash_key(old)
    html = pages_showing(admin_client, stored)
    assert new not in html and stored.key_hash not in html


def test_key_changelist_queries_do_not_grow_with_rows(admin_client, django_assert_max_num_queries):
    customer = Customer.objects.create(name="acme")
    for i in range(2):
        make_key(f"k{i}", team=Team.objects.create(name=f"t{i}"), customer=customer)
    with django_assert_max_num_queries(12) as few:
        admin_client.get(url("virtualkey", "changelist"))
    for i in range(2, 12):
        make_key(f"k{i}", team=Team.objects.create(name=f"t{i}"), customer=customer)
    with django_assert_max_num_queries(len(few.captured_queries)):
        admin_client.get(url("virtualkey", "changelist"))


def test_key_changelist_filters_by_active(admin_client):
    make_key("live")
    revoked, _ = make_key("gone")
    VirtualKey.objects.filter(pk=revoked.pk).update(active=False)
    html = admin_client.get(url("virtualkey", "changelist") + "?active__exact=0").content.decode()
    assert "gone" in html and "live (" not in html


# --- customers and teams ---------------------------------------------------------------------

def test_customer_names_are_unique_ignoring_case_with_the_error_on_name(admin_client):
    Customer.objects.create(name="Acme")
    response = admin_client.post(url("customer", "add"), {"name": "ACME"})
    assert "already exists" in " ".join(errors(response, "name"))
    assert Customer.objects.count() == 1


def test_team_changelist_searches_by_customer_name(admin_client):
    Team.objects.create(name="ml", customer=Customer.objects.create(name="acme"))
    Team.objects.create(name="ops")
    html = admin_client.get(url("team", "changelist") + "?q=acme").content.decode()
    assert ">ml<" in html and ">ops<" not in html


# --- routing profiles and rules --------------------------------------------------------------

def test_profile_changelist_filters_by_strategy(admin_client):
    RoutingProfile.objects.create(id="light", name="Light", virtual_provider="light")
    RoutingProfile.objects.create(
        id="split", name="Split", virtual_provider="split", strategy="weighted")
    page = url("routingprofile", "changelist") + "?strategy__exact=weighted"
    html = admin_client.get(page).content.decode()
    assert "Split" in html and "Light" not in html


def rule_form(**fields: str) -> dict[str, str]:
    data = {"name": "r", "cel_expression": 'model == "gpt-4o"', "targets": TARGETS,
            "fallbacks": "[]", "scope": "global", "scope_id": "", "priority": "0", "query": "{}",
            "enabled": "on"}
    return {**data, **fields}


def test_rule_with_a_valid_expression_is_saved(admin_client):
    response = admin_client.post(url("routingrule", "add"), rule_form())
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert RoutingRule.objects.get().cel_expression == 'model == "gpt-4o"'


@pytest.mark.parametrize(("source", "expected"), [
    ("model ==", "(line 1, column 9)"),
    ("nope == 1", "unknown variable 'nope' (line 1, column 1)"),
    ('model == "a" &&\n  (bogus > 2', "(line 2, column 13)"),
])
def test_bad_rule_expression_shows_the_cel_error_on_its_field(admin_client, source, expected):
    response = admin_client.post(url("routingrule", "add"), rule_form(cel_expression=source))
    assert response.status_code == 200
    assert expected in " ".join(errors(response, "cel_expression"))
    assert not RoutingRule.objects.exists()


def test_rule_changelist_filters_by_scope_and_enabled(admin_client):
    RoutingRule.objects.create(name="on-global", cel_expression="true", targets=[])
    RoutingRule.objects.create(name="off-team", cel_expression="true", targets=[], scope="team",
                               scope_id="t", enabled=False)
    page = url("routingrule", "changelist") + "?scope__exact=team&enabled__exact=0"
    text = admin_client.get(page).content.decode()
    assert "off-team" in text and "on-global" not in text


def test_profile_id_is_chosen_on_add_and_read_only_after(admin_client):
    profile = RoutingProfile.objects.create(id="light", name="Light", virtual_provider="light")
    assert 'name="id"' in admin_client.get(url("routingprofile", "add")).content.decode()
    change = admin_client.get(url("routingprofile", "change", profile.pk)).content.decode()
    assert 'name="id"' not in change


def profile_form(**fields: str) -> dict[str, str]:
    targets = ('[{"provider": "openai", "model": "gpt-4o-mini", "virtual_model": "light"}, '
               '{"provider": "openai", "model": "gpt-4o", "virtual_model": "heavy"}]')
    data = {"id": "light", "name": "Light", "description": "", "virtual_provider": "light",
            "strategy": "ordered_failover", "enabled": "on", "targets": targets}
    return {**data, **fields}


def test_valid_profile_is_saved_with_the_apis_defaults(admin_client):
    response = admin_client.post(url("routingprofile", "add"), profile_form())
    assert response.status_code == 302, response.context["adminform"].form.errors
    first = RoutingProfile.objects.get().targets[0]
    assert (first["priority"], first["weight"], first["enabled"]) == (0, 1.0, True)


def test_profile_with_aliases_repeated_in_another_case_is_refused_on_targets(admin_client):
    targets = ('[{"provider": "openai", "model": "a", "virtual_model": "light"}, '
               '{"provider": "openai", "model": "b", "virtual_model": "LIGHT"}]')
    response = admin_client.post(url("routingprofile", "add"), profile_form(targets=targets))
    assert response.status_code == 200
    assert errors(response, "targets") == [
        "[1].virtual_model: Alias 'LIGHT' is already used by target 0."]
    assert "Alias &#x27;LIGHT&#x27; is already used by target 0." in response.content.decode()
    assert not RoutingProfile.objects.exists()


def test_profile_named_after_a_real_provider_is_refused_on_virtual_provider(admin_client):
    response = admin_client.post(url("routingprofile", "add"), profile_form(virtual_provider="OpenAI"))
    assert "names a real provider" in " ".join(errors(response, "virtual_provider"))
    assert not RoutingProfile.objects.exists()


def test_rule_whose_weights_do_not_sum_to_1_is_refused_on_targets(admin_client):
    targets = ('[{"provider": "openai", "model": "gpt-4o", "weight": 0.5}, '
               '{"provider": "anthropic", "model": "claude", "weight": 0.4}]')
    response = admin_client.post(url("routingrule", "add"), rule_form(targets=targets))
    assert response.status_code == 200
    assert errors(response, "targets") == ["Target weights must sum to 1; they sum to 0.9."]
    assert "Target weights must sum to 1; they sum to 0.9." in response.content.decode()
    assert not RoutingRule.objects.exists()


def test_rule_scoped_to_a_missing_team_is_refused_on_scope_id(admin_client):
    response = admin_client.post(url("routingrule", "add"), rule_form(scope="team", scope_id="nope"))
    assert errors(response, "scope_id") == ["Team 'nope' not found."]
    assert not RoutingRule.objects.exists()


def test_rule_target_naming_no_provider_is_refused_naming_its_index(admin_client):
    targets = '[{"provider": "nowhere", "weight": 1}]'
    response = admin_client.post(url("routingrule", "add"), rule_form(targets=targets))
    assert "[0].provider: Unknown provider 'nowhere'" in " ".join(errors(response, "targets"))
    assert not RoutingRule.objects.exists()


def test_profile_change_keeps_its_id_and_is_validated_against_the_others(admin_client):
    admin_client.post(url("routingprofile", "add"), profile_form())
    admin_client.post(url("routingprofile", "add"), profile_form(id="heavy", name="Heavy",
                                                                 virtual_provider="heavy"))
    change = url("routingprofile", "change", "light")
    taken = admin_client.post(change, profile_form(name="HEAVY"))
    assert "already exists" in " ".join(errors(taken, "name"))
    assert admin_client.post(change, profile_form(name="Lighter")).status_code == 302
    assert RoutingProfile.objects.get(pk="light").name == "Lighter"
