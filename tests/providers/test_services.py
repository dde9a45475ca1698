"""Registry services: provider names never shadow a virtual provider; batches bump once."""

from __future__ import annotations

import pytest

from governance.config_version import read_version
from governance.models import RoutingProfile
from providers.models import Model, Provider
from providers.services import (
    RegistryError,
    demo_registry_load,
    models_refresh_openai,
    provider_for,
)

pytestmark = pytest.mark.django_db


def test_provider_for_refuses_a_name_a_routing_profile_serves_as_virtual_provider():
    RoutingProfile.objects.create(id="edge", name="Edge", virtual_provider="openai-example.com")
    with pytest.raises(RegistryError, match=r"name: 'openai-example.com' is the virtual provider"):
        provider_for(type="openai", endpoint="https://example.com", kind="api")
    assert not Provider.objects.exists()


def test_provider_for_creates_a_provider_whose_name_is_free():
    RoutingProfile.objects.create(id="light", name="Light", virtual_provider="light")
    provider = provider_for(type="openai", endpoint="https://example.com", kind="api")
    assert provider.name == "openai-example.com"


def test_refreshing_many_models_bumps_the_config_version_once(
    settings, fake_openai, django_capture_on_commit_callbacks  # type: ignore[no-untyped-def]
):
    settings.OPENAI_BASE_URL = fake_openai.url
    fake_openai.wire.models = ["gpt-4o", "gpt-4o-mini", "o3", "o4-mini"]
    before = read_version()
    with django_capture_on_commit_callbacks(execute=True):
        models_refresh_openai()
    assert Model.objects.count() == 4
    assert read_version() - before == 1


def test_loading_the_demo_registry_bumps_the_config_version_once(
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
):
    before = read_version()
    with django_capture_on_commit_callbacks(execute=True):
        added = demo_registry_load()
    assert added == Model.objects.count() > 1
    assert read_version() - before == 1
