"""Shared fixtures: fake upstreams on loopback, an in-process data-plane client, clean state."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from tests.fakes.server import FakeUpstream


def _serve(factory_path: str) -> Iterator[FakeUpstream]:
    module, _, name = factory_path.rpartition(".")
    fake = getattr(__import__(module, fromlist=[name]), name)()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def _openai_server() -> Iterator[FakeUpstream]:
    yield from _serve("tests.fakes.openai.fake_openai")


@pytest.fixture(scope="session")
def _anthropic_server() -> Iterator[FakeUpstream]:
    yield from _serve("tests.fakes.anthropic.fake_anthropic")


@pytest.fixture(scope="session")
def _gemini_server() -> Iterator[FakeUpstream]:
    yield from _serve("tests.fakes.gemini.fake_gemini")


@pytest.fixture(scope="session")
def _openai_backup_server() -> Iterator[FakeUpstream]:
    yield from _serve("tests.fakes.openai.fake_openai")


@pytest.fixture
def fake_openai(_openai_server: FakeUpstream) -> FakeUpstream:
    _openai_server.reset()
    return _openai_server


@pytest.fixture
def fake_openai_backup(_openai_backup_server: FakeUpstream) -> FakeUpstream:
    _openai_backup_server.reset()
    return _openai_backup_server


@pytest.fixture
def fake_anthropic(_anthropic_server: FakeUpstream) -> FakeUpstream:
    _anthropic_server.reset()
    return _anthropic_server


@pytest.fixture
def fake_gemini(_gemini_server: FakeUpstream) -> FakeUpstream:
    _gemini_server.reset()
    return _gemini_server


@pytest.fixture(scope="session", autouse=True)
def _close_data_plane_connections(django_db_setup):  # type: ignore[no-untyped-def]
    """The data plane reads the DB from asgiref's worker thread; close that connection
    before the test database is dropped (PostgreSQL refuses to drop a database in use)."""
    yield
    import asyncio

    from asgiref.sync import sync_to_async
    from django.db import connections

    asyncio.run(sync_to_async(connections.close_all)())


@pytest.fixture(autouse=True)
def _fresh_dataplane_state(settings) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """Every test starts with closed circuits, a stale snapshot and short upstream timeouts."""
    from gateway.dataplane import ratelimit
    from gateway.dataplane.health import health
    from gateway.dataplane.state import snapshots

    settings.UPSTREAM_READ_TIMEOUT = 1.5
    settings.UPSTREAM_CONNECT_TIMEOUT = 1.0
    settings.EXTERNAL_OPENAI_KEY = ""
    settings.EXTERNAL_ANTHROPIC_KEY = ""
    settings.EXTERNAL_GOOGLE_KEY = ""
    health.reset()
    ratelimit.reset()
    snapshots.invalidate()
    yield
    health.reset()
    snapshots.invalidate()


@pytest.fixture
def openai_upstream(settings, fake_openai):  # type: ignore[no-untyped-def]
    """Point the built-in openai provider at its fake, with a key."""
    settings.OPENAI_BASE_URL = fake_openai.url
    settings.EXTERNAL_OPENAI_KEY = "sk-test-openai"
    return fake_openai


@pytest.fixture
def anthropic_upstream(settings, fake_anthropic):  # type: ignore[no-untyped-def]
    """Point the built-in anthropic provider at its fake, with a key."""
    settings.ANTHROPIC_BASE_URL = fake_anthropic.url
    settings.EXTERNAL_ANTHROPIC_KEY = "sk-test-anthropic"
    return fake_anthropic


@pytest.fixture
def gemini_upstream(settings, fake_gemini):  # type: ignore[no-untyped-def]
    """Point the built-in google provider at its fake, with a key."""
    settings.GOOGLE_BASE_URL = fake_gemini.url
    settings.EXTERNAL_GOOGLE_KEY = "test-google-key"
    return fake_gemini


@pytest.fixture
def upstreams(openai_upstream, anthropic_upstream, gemini_upstream):  # type: ignore[no-untyped-def]
    """All three wire formats pointed at their fakes."""
    return {"openai": openai_upstream, "anthropic": anthropic_upstream, "google": gemini_upstream}


@pytest.fixture
async def gateway() -> AsyncIterator[httpx.AsyncClient]:
    """The full ASGI application, in process (for streaming fidelity use the live server fixture)."""
    from gateway.asgi import application
    from providers.client import aclose_pool

    transport = httpx.ASGITransport(app=application)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        yield client
    await aclose_pool()
