"""Candidate chains: registry fallbacks, failover rules, circuit breaking, and no queries when warm."""

from __future__ import annotations

import pytest
from django.db.backends.utils import CursorWrapper

from providers.models import Model, Provider

pytestmark = pytest.mark.django_db(transaction=True)

HI = [{"role": "user", "content": "hi"}]


@pytest.fixture
def chain(openai_upstream, fake_openai_backup):  # type: ignore[no-untyped-def]
    """`flaky` on the primary fake, falling back to `steady` on the backup fake."""
    fake_openai_backup.reply = "Hello from the backup"
    primary = Provider.objects.create(name="primary", type="openai", base_url=openai_upstream.url)
    backup = Provider.objects.create(name="backup", type="openai", base_url=fake_openai_backup.url, api_key="sk-backup")
    Model.objects.create(name="steady", provider=backup, upstream_name="gpt-4o")
    Model.objects.create(name="flaky", provider=primary, upstream_name="gpt-4o", fallbacks=["steady"])
    return openai_upstream, fake_openai_backup


async def ask(gateway, model: str = "flaky", **extra):  # type: ignore[no-untyped-def]
    return await gateway.post("/v1/chat/completions", json={"model": model, "messages": HI, **extra})


@pytest.mark.parametrize("failure", ["429", "500", "503", "hang", "reset", "malformed"])
async def test_failure_moves_to_the_fallback(gateway, chain, failure) -> None:  # type: ignore[no-untyped-def]
    primary, backup = chain
    primary.fail_next(failure)
    response = await ask(gateway)
    assert response.status_code == 200, response.text
    assert response.json()["choices"][0]["message"]["content"] == "Hello from the backup"
    assert response.headers["x-switchyard-provider"] == "backup"


async def test_client_error_is_relayed_without_trying_the_fallback(gateway, chain) -> None:  # type: ignore[no-untyped-def]
    primary, backup = chain
    primary.fail_next("400")
    response = await ask(gateway)
    assert response.status_code == 400
    assert backup.requests == []


async def test_all_candidates_failing_reports_the_last_error(gateway, chain) -> None:  # type: ignore[no-untyped-def]
    primary, backup = chain
    primary.fail_next("500")
    backup.fail_next("503")
    response = await ask(gateway)
    assert response.status_code == 503
    message = response.json()["error"]["message"]
    assert "primary: fake upstream error 500" in message and "backup: fake upstream error 503" in message


async def test_fallback_uses_its_own_provider_key(gateway, chain) -> None:  # type: ignore[no-untyped-def]
    primary, backup = chain
    primary.fail_next("500")
    await ask(gateway)
    assert primary.requests[-1].headers["Authorization"] == "Bearer sk-test-openai"
    assert backup.requests[-1].headers["Authorization"] == "Bearer sk-backup"


async def test_open_circuit_sends_traffic_to_the_fallback_first(gateway, chain, settings) -> None:  # type: ignore[no-untyped-def]
    settings.CIRCUIT_FAILURE_THRESHOLD = 2
    primary, backup = chain
    primary.fail_next("500", "500")
    await ask(gateway)
    await ask(gateway)
    primary.requests.clear()
    response = await ask(gateway)
    assert response.headers["x-switchyard-provider"] == "backup"
    assert primary.requests == []


async def test_stream_error_event_before_content_fails_over(gateway, chain) -> None:  # type: ignore[no-untyped-def]
    primary, _ = chain
    primary.fail_next("stream_error_first")
    response = await ask(gateway, stream=True)
    assert response.headers["x-switchyard-provider"] == "backup"
    assert "Hello from the backup".split()[0] in response.text
    assert response.text.rstrip().endswith("data: [DONE]")


async def test_stream_error_after_content_ends_with_error_event_then_done(gateway, chain) -> None:  # type: ignore[no-untyped-def]
    primary, backup = chain
    primary.fail_next("stream_error_mid")
    response = await ask(gateway, stream=True)
    events = [e for e in response.text.split("\n\n") if e]
    assert events[-1] == "data: [DONE]"
    assert '"error"' in events[-2]
    assert backup.requests == []


async def test_warm_requests_make_no_database_query(gateway, chain, settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    settings.CONFIG_VERSION_CHECK_SECONDS = 60  # the periodic version poll is not per request
    await ask(gateway)  # warm-up builds the snapshot
    executed: list[str] = []
    original = CursorWrapper.execute

    def counting(self, sql, params=None):  # type: ignore[no-untyped-def]
        executed.append(sql)
        return original(self, sql, params)

    monkeypatch.setattr(CursorWrapper, "execute", counting)
    for stream in (False, True, False, True):
        assert (await ask(gateway, stream=stream)).status_code == 200
    assert executed == []
