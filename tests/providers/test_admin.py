"""The registry admin: changelists, change forms, the write-only provider key, model actions."""

from __future__ import annotations

import pytest
from django.urls import reverse

from providers.models import Model, Provider

pytestmark = pytest.mark.django_db

SECRET = "sk-stored-secret-9f8e7d"


@pytest.fixture
def provider() -> Provider:
    return Provider.objects.create(name="openai-proxy", type="openai", api_key=SECRET)


@pytest.fixture
def model(provider: Provider) -> Model:
    return Model.objects.create(
        name="gpt-4o", provider=provider, capabilities=["text", "vision"], input_price="2.5"
    )


def change_url(obj: Provider | Model) -> str:
    return reverse(f"admin:providers_{obj._meta.model_name}_change", args=[obj.pk])


def provider_post(provider: Provider, **fields: str) -> dict[str, str]:
    data = {
        "name": provider.name, "type": provider.type, "kind": provider.kind,
        "base_url": provider.base_url, "api_key": "", "active": "on", "_save": "Save",
    }
    return {**data, **fields}


def test_provider_changelist_shows_key_status_but_never_the_key(admin_client, provider):
    html = admin_client.get(reverse("admin:providers_provider_changelist")).content.decode()
    assert "openai-proxy" in html
    assert "stored" in html
    assert SECRET not in html


def test_provider_key_column_names_the_setting_a_key_comes_from(admin_client, settings):
    settings.EXTERNAL_OPENAI_KEY = "sk-from-settings"
    Provider.objects.create(name="openai", type="openai")
    Provider.objects.create(name="anthropic", type="anthropic")
    html = admin_client.get(reverse("admin:providers_provider_changelist")).content.decode()
    assert "from EXTERNAL_OPENAI_KEY" in html
    assert "missing" in html
    assert "sk-from-settings" not in html


def test_provider_base_url_column_names_its_setting_when_empty(admin_client):
    Provider.objects.create(name="openai", type="openai")
    html = admin_client.get(reverse("admin:providers_provider_changelist")).content.decode()
    assert "from OPENAI_BASE_URL" in html


def test_provider_change_form_never_renders_the_key(admin_client, provider):
    response = admin_client.get(change_url(provider))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'type="password"' in html
    assert SECRET not in html


def test_saving_with_a_blank_key_keeps_the_stored_key(admin_client, provider):
    data = provider_post(provider, base_url="https://p.example")
    response = admin_client.post(change_url(provider), data)
    assert response.status_code == 302
    provider.refresh_from_db()
    assert (provider.api_key, provider.base_url) == (SECRET, "https://p.example")


def test_saving_a_new_key_replaces_the_stored_key(admin_client, provider):
    admin_client.post(change_url(provider), provider_post(provider, api_key="sk-new"))
    provider.refresh_from_db()
    assert provider.api_key == "sk-new"


def test_clear_checkbox_removes_the_stored_key(admin_client, provider):
    admin_client.post(change_url(provider), provider_post(provider, clear_api_key="on"))
    provider.refresh_from_db()
    assert provider.api_key == ""


def test_new_key_and_clear_together_are_rejected(admin_client, provider):
    data = provider_post(provider, api_key="sk-new", clear_api_key="on")
    response = admin_client.post(change_url(provider), data)
    assert response.status_code == 200
    assert "not both" in response.content.decode()
    provider.refresh_from_db()
    assert provider.api_key == SECRET


def test_provider_history_never_shows_the_key(admin_client, provider):
    admin_client.post(change_url(provider), provider_post(provider, api_key="sk-replaced-key"))
    url = reverse("admin:providers_provider_history", args=[provider.pk])
    html = admin_client.get(url).content.decode()
    assert "Changed API key." in html
    assert "sk-replaced-key" not in html and SECRET not in html


def test_provider_history_does_not_log_a_kept_key_as_changed(admin_client, provider):
    admin_client.post(change_url(provider), provider_post(provider, base_url="https://p.example"))
    url = reverse("admin:providers_provider_history", args=[provider.pk])
    html = admin_client.get(url).content.decode()
    assert "Changed Base URL." in html
    assert "API key" not in html


def test_model_changelist_lists_models_with_provider_and_prices(admin_client, model):
    html = admin_client.get(reverse("admin:providers_model_changelist")).content.decode()
    assert "gpt-4o" in html and "openai-proxy" in html and "2.5" in html
    assert SECRET not in html


def test_model_change_form_renders_without_the_provider_key(admin_client, model):
    response = admin_client.get(change_url(model))
    assert response.status_code == 200
    assert SECRET not in response.content.decode()


def test_model_changelist_filters_by_capability(admin_client, model, provider):
    Model.objects.create(name="text-only", provider=provider, capabilities=["text"])
    url = reverse("admin:providers_model_changelist")
    html = admin_client.get(url, {"capability": "vision"}).content.decode()
    assert "gpt-4o" in html and "text-only" not in html


def test_model_changelist_filters_by_provider_type(admin_client, model):
    other = Provider.objects.create(name="claude", type="anthropic")
    Model.objects.create(name="claude-x", provider=other)
    url = reverse("admin:providers_model_changelist")
    html = admin_client.get(url, {"provider_type": "anthropic"}).content.decode()
    assert "claude-x" in html and "gpt-4o" not in html


def test_disable_action_disables_selected_models(admin_client, model):
    url = reverse("admin:providers_model_changelist")
    admin_client.post(url, {"action": "disable_models", "_selected_action": [model.pk]})
    model.refresh_from_db()
    assert model.enabled is False


def test_enable_action_enables_selected_models(admin_client, model):
    Model.objects.filter(pk=model.pk).update(enabled=False)
    url = reverse("admin:providers_model_changelist")
    admin_client.post(url, {"action": "enable_models", "_selected_action": [model.pk]})
    model.refresh_from_db()
    assert model.enabled is True


def test_a_provider_cannot_take_a_routing_profiles_virtual_provider_name(admin_client):
    from governance.models import RoutingProfile

    RoutingProfile.objects.create(id="light", name="Light", virtual_provider="Light")
    data = {"name": "light", "type": "openai", "kind": "api", "base_url": "", "api_key": "",
            "active": "on", "_save": "Save"}
    response = admin_client.post(reverse("admin:providers_provider_add"), data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["name"]
    assert "virtual provider of routing profile 'Light'" in " ".join(errors)
    assert not Provider.objects.exists()
