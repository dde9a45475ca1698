"""Agent expiry: the Celery beat task, and the same sweep as an in-process loop for the embedded default."""

from __future__ import annotations

import asyncio
import logging

from asgiref.sync import sync_to_async
from celery import shared_task
from django.conf import settings

from agents.services import agents_expire_stale

log = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def expire_agents() -> list[str]:
    """Expire agents whose last heartbeat is older than AGENT_HEARTBEAT_TIMEOUT (idempotent)."""
    return agents_expire_stale()


async def expire_agents_periodically() -> None:
    """Without a broker there is no beat: a gateway process runs the sweep itself, on the beat's period.

    Start it as an asyncio task at ASGI startup when CELERY_TASK_ALWAYS_EAGER is on; cancel it at shutdown.
    """
    while True:
        await asyncio.sleep(settings.AGENT_EXPIRY_SECONDS)
        try:
            await sync_to_async(agents_expire_stale)()
        except Exception:  # a locked or missing database must not end the loop
            log.exception("agent expiry sweep failed; retrying in %s s", settings.AGENT_EXPIRY_SECONDS)
