"""Route fixtures: three providers on fake upstreams (two serve gpt-4o), routes made as the API makes them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from asgiref.sync import sync_to_async

from governance.api.route_serializers import RouteInputSerializer
from governance.models import Route
from governance.services.routes import route_create
from providers.models import Model, Provider
from tests.fakes.server import FakeUpstream
from tests.governance.conftest import staff_client

HI = [{"role": "user", "content": "hi"}]


@dataclass
class Registry:
    primary: Provider  # openai wire: gpt-4o, gpt-4o-mini
    backup: Provider  # openai wire: backup-gpt (upstream gpt-4o)
    claude: Provider  # anthropic wire: claude-3-5-haiku
    fakes: dict[str, FakeUpstream]


@pytest.fixture(autouse=True)
def _fresh_rotation() -> Iterator[None]:
    from gateway.dataplane.routes import rotation

    rotation.reset()
    yield
    rotation.reset()


@pytest.fixture
def registry(fake_openai, fake_openai_backup, fake_anthropic) -> Registry:  # type: ignore[no-untyped-def]
    primary = Provider.objects.create(name="primary", type="openai", base_url=fake_openai.url, api_key="sk-p")
    backup = Provider.objects.create(
        name="backup", type="openai", base_url=fake_openai_backup.url, api_key="sk-b"
    )
    claude = Provider.objects.create(
        name="claude", type="anthropic", base_url=fake_anthropic.url, api_key="sk-a"
    )
    Model.objects.create(name="gpt-4o", provider=primary)
    Model.objects.create(name="gpt-4o-mini", provider=primary)
    Model.objects.create(name="backup-gpt", provider=backup, upstream_name="gpt-4o")
    Model.objects.create(name="claude-3-5-haiku", provider=claude)
    fake_openai.reply, fake_openai_backup.reply, fake_anthropic.reply = "primary", "backup", "claude"
    fakes = {"primary": fake_openai, "backup": fake_openai_backup, "claude": fake_anthropic}
    return Registry(primary, backup, claude, fakes)


def make_route(payload: dict[str, Any]) -> Route:
    """A route saved exactly as POST /api/governance/routes saves it."""
    serializer = RouteInputSerializer(data=payload)
    serializer.is_valid(raise_exception=True)
    return route_create(clean=serializer.validated_data["clean"])


amake_route = sync_to_async(make_route)


async def ask(gateway, model: str, headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return await gateway.post(
        "/v1/chat/completions", json={"model": model, "messages": HI}, headers=headers or {}
    )


async def served(gateway, model: str, times: int = 1, **kwargs: Any) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """(provider, upstream model) of each of `times` requests, in order."""
    answers = []
    for _ in range(times):
        response = await ask(gateway, model, **kwargs)
        assert response.status_code == 200, response.text
        answers.append((response.headers["x-switchyard-provider"], response.headers["x-switchyard-model"]))
    return answers


@pytest.fixture
def api(db: None):  # type: ignore[no-untyped-def]
    return staff_client()
