"""Scheduled registry upkeep: refresh OpenAI's model list (the code behind `manage.py refresh_openai`)."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

from providers.services import RegistryError, models_refresh_openai

log = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def refresh_openai_models() -> str:
    """Mirror OpenAI's /v1/models; quietly skipped without EXTERNAL_OPENAI_KEY; idempotent."""
    if not settings.EXTERNAL_OPENAI_KEY:
        return "skipped: EXTERNAL_OPENAI_KEY is empty"
    try:
        result = models_refresh_openai()
    except RegistryError as exc:  # the next run tries again; nothing was changed
        log.warning("OpenAI model refresh failed: %s", exc)
        return f"failed: {exc}"
    log.info("OpenAI model refresh: %s", result)
    return f"{result.created} created, {result.updated} updated, {result.disabled} disabled"
