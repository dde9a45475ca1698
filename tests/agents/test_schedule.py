"""The Celery beat schedule and the scheduled OpenAI refresh (the code of `manage.py refresh_openai`)."""

from __future__ import annotations

import importlib

import pytest

from gateway.celery import app
from providers.models import Model
from providers.tasks import refresh_openai_models


def settings_with(monkeypatch, **env: str):  # type: ignore[no-untyped-def]
    """gateway.settings evaluated with these variables (the module is re-read, then restored)."""
    import gateway.settings as module

    for key, value in env.items():
        monkeypatch.setenv(key, value)
    try:
        return {k: v for k, v in vars(importlib.reload(module)).items() if k.isupper()}
    finally:
        for key in env:
            monkeypatch.delenv(key)
        importlib.reload(module)


def test_beat_runs_expiry_every_half_timeout_and_the_refresh_hourly(monkeypatch):
    conf = settings_with(monkeypatch, AGENT_HEARTBEAT_TIMEOUT="60")
    schedule = conf["CELERY_BEAT_SCHEDULE"]
    assert schedule["expire-agents"]["task"] == "agents.tasks.expire_agents"
    assert schedule["expire-agents"]["schedule"] == 30
    assert schedule["refresh-openai-models"]["task"] == "providers.tasks.refresh_openai_models"
    assert schedule["refresh-openai-models"]["schedule"] == 3600


def test_expiry_runs_at_most_every_five_seconds(monkeypatch):
    conf = settings_with(monkeypatch, AGENT_HEARTBEAT_TIMEOUT="2")
    assert conf["CELERY_BEAT_SCHEDULE"]["expire-agents"]["schedule"] == 5


def test_refresh_seconds_zero_disables_the_refresh(monkeypatch):
    conf = settings_with(monkeypatch, OPENAI_REFRESH_SECONDS="0")
    assert "refresh-openai-models" not in conf["CELERY_BEAT_SCHEDULE"]


def test_celery_app_finds_both_tasks():
    app.loader.import_default_modules()
    assert {"agents.tasks.expire_agents", "providers.tasks.refresh_openai_models"} <= set(app.tasks)


@pytest.mark.django_db
def test_refresh_is_skipped_quietly_without_a_key(openai_upstream, settings, fake_openai):
    settings.EXTERNAL_OPENAI_KEY = ""
    assert refresh_openai_models.delay().get().startswith("skipped")
    assert fake_openai.requests == [] and not Model.objects.exists()


@pytest.mark.django_db
def test_refresh_mirrors_openais_models(openai_upstream):
    assert refresh_openai_models.delay().get() == "2 created, 0 updated, 0 disabled"
    assert set(Model.objects.values_list("name", "source")) == {
        ("gpt-4o", "refresh"), ("gpt-4o-mini", "refresh")}


@pytest.mark.django_db
def test_failed_refresh_is_logged_not_raised(openai_upstream, settings, caplog):
    settings.OPENAI_BASE_URL = "http://127.0.0.1:9"  # nothing listens there
    assert refresh_openai_models.delay().get().startswith("failed")
    assert "OpenAI model refresh failed" in caplog.text
