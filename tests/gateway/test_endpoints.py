"""The data plane's other endpoints and headers: /v1/models, /metrics, /healthz, request ids, routing."""

from __future__ import annotations


import pytest

from providers.models import Model, Provider

pytestmark = pytest.mark.django_db(transaction=True)

HI = [{"role": "user", "content": "hi"}]


@pytest.fixture
def registry(openai_upstream):  # type: ignore[no-untyped-def]
    openai = Provider.objects.create(name="openai", type="openai")
    Model.objects.create(name="house-model", provider=openai, upstream_name="gpt-4o-2024-08-06")
    Model.objects.create(name="retired-model", provider=openai, enabled=False)
    return openai_upstream


async def test_models_lists_enabled_registry_models_in_openai_shape(gateway, registry) -> None:  # type: ignore[no-untyped-def]
    body = (await gateway.get("/v1/models")).json()
    assert body["object"] == "list"
    ids = {m["id"] for m in body["data"]}
    assert "house-model" in ids and "retired-model" not in ids
    assert all(m["object"] == "model" for m in body["data"])


async def test_registry_name_is_sent_upstream_as_its_upstream_name(gateway, registry) -> None:  # type: ignore[no-untyped-def]
    response = await gateway.post("/v1/chat/completions", json={"model": "house-model", "messages": HI})
    assert response.status_code == 200
    assert registry.requests[-1].body["model"] == "gpt-4o-2024-08-06"
    assert response.headers["x-switchyard-route"] == "registry"


async def test_provider_slash_model_goes_to_that_provider(gateway, registry) -> None:  # type: ignore[no-untyped-def]
    response = await gateway.post("/v1/chat/completions", json={"model": "openai/gpt-4.1-nano", "messages": HI})
    assert response.status_code == 200
    assert registry.requests[-1].body["model"] == "gpt-4.1-nano"


async def test_disabled_model_is_not_served_from_the_registry(gateway, registry) -> None:  # type: ignore[no-untyped-def]
    response = await gateway.post("/v1/chat/completions", json={"model": "retired-model", "messages": HI})
    assert response.status_code == 404


async def test_model_of_an_inactive_provider_is_503_not_sent_elsewhere(gateway, registry) -> None:  # type: ignore[no-untyped-def]
    await Provider.objects.filter(name="openai").aupdate(active=False)
    from governance.config_version import bump
    from asgiref.sync import sync_to_async

    await sync_to_async(bump)()
    response = await gateway.post("/v1/chat/completions", json={"model": "house-model", "messages": HI})
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "model_unavailable"
    assert registry.requests == []


async def test_registry_change_is_served_without_restart(gateway, registry) -> None:  # type: ignore[no-untyped-def]
    assert (await gateway.post("/v1/chat/completions", json={"model": "new-model", "messages": HI})).status_code == 404
    await Model.objects.acreate(name="new-model", provider=await Provider.objects.aget(name="openai"))
    response = await gateway.post("/v1/chat/completions", json={"model": "new-model", "messages": HI})
    assert response.status_code == 200


async def test_incoming_request_id_is_echoed(gateway) -> None:  # type: ignore[no-untyped-def]
    response = await gateway.post("/v1/chat/completions", headers={"x-request-id": "abc-123"},
                                  json={"model": "dummy", "messages": HI})
    assert response.headers["x-request-id"] == "abc-123"


async def test_request_id_is_generated_when_absent_or_unsafe(gateway) -> None:  # type: ignore[no-untyped-def]
    response = await gateway.post("/v1/chat/completions", headers={"x-request-id": "bad id\twith tab"},
                                  json={"model": "dummy", "messages": HI})
    assert len(response.headers["x-request-id"]) == 32


async def test_metrics_count_requests_by_provider(gateway, registry) -> None:  # type: ignore[no-untyped-def]
    await gateway.post("/v1/chat/completions", json={"model": "house-model", "messages": HI})
    text = (await gateway.get("/metrics")).text
    assert 'switchyard_requests_total{model="house-model",provider="openai",status="200"}' in text
    assert 'switchyard_tokens_total{kind="prompt_tokens",model="house-model",provider="openai"}' in text


async def test_unknown_dataplane_path_is_404_in_openai_shape(gateway) -> None:  # type: ignore[no-untyped-def]
    response = await gateway.get("/v1/nothing-here")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


async def test_wrong_method_is_405(gateway) -> None:  # type: ignore[no-untyped-def]
    response = await gateway.get("/v1/chat/completions")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"


async def test_healthz_reports_config_version(gateway) -> None:  # type: ignore[no-untyped-def]
    body = (await gateway.get("/healthz")).json()
    assert body["status"] == "ok" and isinstance(body["config_version"], int)


async def test_admin_is_served_by_django(gateway) -> None:  # type: ignore[no-untyped-def]
    response = await gateway.get("/admin/login/")
    assert response.status_code == 200
    assert "csrfmiddlewaretoken" in response.text


@pytest.fixture
def virtual_key(settings):  # type: ignore[no-untyped-def]
    from governance.keys import generate_key
    from governance.models import Team, VirtualKey

    secret, prefix, digest = generate_key()
    team = Team.objects.create(name="ml")
    key = VirtualKey.objects.create(name="ci", key_hash=digest, key_prefix=prefix, team=team)
    return key, secret


async def test_unknown_bearer_is_anonymous_when_keys_are_optional(gateway) -> None:  # type: ignore[no-untyped-def]
    response = await gateway.post("/v1/chat/completions", headers={"authorization": "Bearer sk-anything"},
                                  json={"model": "dummy", "messages": HI})
    assert response.status_code == 200


async def test_required_keys_reject_missing_and_unknown_keys(gateway, settings, virtual_key) -> None:  # type: ignore[no-untyped-def]
    settings.VIRTUAL_KEYS_REQUIRED = True
    body = {"model": "dummy", "messages": HI}
    missing = await gateway.post("/v1/chat/completions", json=body)
    unknown = await gateway.post("/v1/chat/completions", headers={"authorization": "Bearer nope"}, json=body)
    valid = await gateway.post("/v1/chat/completions", headers={"authorization": f"Bearer {virtual_key[1]}"}, json=body)
    assert missing.status_code == 401 and missing.json()["error"]["code"] == "invalid_api_key"
    assert unknown.status_code == 401
    assert valid.status_code == 200


async def test_revoked_key_is_refused_even_when_keys_are_optional(gateway, virtual_key) -> None:  # type: ignore[no-untyped-def]
    from governance.models import VirtualKey

    key, secret = virtual_key
    await VirtualKey.objects.filter(pk=key.pk).aupdate(active=False)
    from asgiref.sync import sync_to_async
    from governance.config_version import bump

    await sync_to_async(bump)()
    response = await gateway.post("/v1/chat/completions", headers={"authorization": f"Bearer {secret}"},
                                  json={"model": "dummy", "messages": HI})
    assert response.status_code == 401


async def test_streams_are_metered_even_when_the_client_did_not_ask_for_usage(gateway, registry) -> None:  # type: ignore[no-untyped-def]
    from prometheus_client import REGISTRY

    labels = {"provider": "openai", "model": "house-model", "kind": "completion_tokens"}
    before = REGISTRY.get_sample_value("switchyard_tokens_total", labels) or 0
    response = await gateway.post("/v1/chat/completions", json={"model": "house-model", "messages": HI, "stream": True})
    assert registry.requests[-1].body["stream_options"] == {"include_usage": True}
    assert '"usage"' not in response.text  # the client did not ask for the usage chunk
    assert REGISTRY.get_sample_value("switchyard_tokens_total", labels) == before + 7
