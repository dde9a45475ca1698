"""Expiry: the sweep behind the beat task, the management command and the in-process loop."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from agents.models import Agent
from agents.services import agents_expire_stale
from agents.tasks import expire_agents, expire_agents_periodically
from governance.models import ConfigVersion
from providers.models import Provider
from tests.agents.protocol import body, heartbeat, register

pytestmark = pytest.mark.django_db


def silence(name: str, seconds: float) -> None:
    Agent.objects.filter(name=name).update(last_heartbeat=timezone.now() - timedelta(seconds=seconds))


def statuses() -> dict[str, tuple[str, bool]]:
    return {a.name: (a.status, a.provider.active) for a in Agent.objects.select_related("provider")}


@pytest.fixture
def two_agents() -> dict[str, str]:
    tokens = {
        "local-agent": register().json()["token"],
        "fresh": register(body(name="fresh", models=["local-fresh"])).json()["token"],
    }
    silence("local-agent", 61)
    silence("fresh", 59)
    return tokens


def test_sweep_expires_only_agents_silent_past_the_timeout(two_agents):
    assert agents_expire_stale() == ["local-agent"]
    assert statuses() == {"local-agent": ("expired", False), "fresh": ("alive", True)}


def test_sweep_is_idempotent(two_agents):
    agents_expire_stale()
    assert agents_expire_stale() == []
    assert statuses()["local-agent"] == ("expired", False)


def test_sweep_bumps_the_config_version(two_agents, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        agents_expire_stale()
    first = ConfigVersion.objects.get(pk=1).version
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        agents_expire_stale()
    assert callbacks == [] and ConfigVersion.objects.get(pk=1).version == first


def test_timeout_follows_the_setting(two_agents, settings):
    settings.AGENT_HEARTBEAT_TIMEOUT = 30
    assert sorted(agents_expire_stale()) == ["fresh", "local-agent"]


def test_heartbeat_after_expiry_revives(two_agents):
    agents_expire_stale()
    assert heartbeat(two_agents["local-agent"]).status_code == 200
    assert statuses()["local-agent"] == ("alive", True)
    assert agents_expire_stale() == []


def test_celery_task_runs_eagerly_without_a_broker(two_agents, settings):
    assert settings.CELERY_TASK_ALWAYS_EAGER
    expire_agents.delay()
    assert statuses()["local-agent"] == ("expired", False)


def test_management_command_runs_the_sweep(two_agents):
    out = StringIO()
    call_command("expire_agents", stdout=out)
    assert "Expired 1 agent(s) silent for over 60 s: local-agent." in out.getvalue()
    out = StringIO()
    call_command("expire_agents", stdout=out)
    assert "No agent has been silent" in out.getvalue()


@pytest.mark.django_db(transaction=True)
async def test_in_process_loop_expires_on_its_period(settings):
    from asgiref.sync import sync_to_async

    await sync_to_async(register)()
    await sync_to_async(silence)("local-agent", 61)
    settings.AGENT_EXPIRY_SECONDS = 0.05
    loop = asyncio.create_task(expire_agents_periodically())
    try:
        for _ in range(100):
            await asyncio.sleep(0.05)
            if (await Agent.objects.aget()).status == "expired":
                break
    finally:
        loop.cancel()
    agent = await Agent.objects.select_related("provider").aget()
    assert (agent.status, agent.provider.active) == ("expired", False)
    assert not await Provider.objects.filter(active=True).aexists()
