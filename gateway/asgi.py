"""ASGI entry point: the lean data plane for /v1/*, /routing/*, /metrics; Django for the rest.

Django's handler with the default middleware costs ~2 ms and a thread hop per
request (measured, see docs/architecture.md); the data plane skips all of it.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gateway.settings")

from channels.routing import ProtocolTypeRouter  # noqa: E402
from django.core.asgi import get_asgi_application  # noqa: E402

django_app = get_asgi_application()

from gateway.dataplane.app import dataplane, handles  # noqa: E402
from gateway.dataplane.http import Receive, Scope, Send  # noqa: E402

log = logging.getLogger(__name__)


async def http(scope: Scope, receive: Receive, send: Send) -> None:
    if handles(scope["path"]):
        await dataplane(scope, receive, send)
    else:
        await django_app(scope, receive, send)


async def lifespan(scope: Scope, receive: Receive, send: Send) -> None:
    """Warm the snapshot at startup; close pooled upstream connections at shutdown."""
    from django.conf import settings

    from agents.tasks import expire_agents_periodically
    from gateway.dataplane.intent.startup import load_routing_config, warm
    from gateway.dataplane.state import snapshots
    from providers.client import aclose_pool

    sweeper: asyncio.Task[None] | None = None
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            if problem := await load_routing_config():
                await send({"type": "lifespan.startup.failed", "message": problem})
                return
            try:
                await warm(await snapshots.get())
            except Exception:  # e.g. migrations not run yet: requests will say so
                log.exception("could not load the config snapshot at startup")
            # Everything imported so far lives for the whole process: keep it out of
            # the collector's full passes (28-46 ms each under load, bench/README.md).
            gc.collect()
            gc.freeze()
            if settings.CELERY_TASK_ALWAYS_EAGER:  # no broker, so no beat: expire agents here
                sweeper = asyncio.ensure_future(expire_agents_periodically())
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            if sweeper is not None:
                sweeper.cancel()
            await aclose_pool()
            if settings.REDIS_URL:
                from gateway.redis import aclose

                await aclose()
            await send({"type": "lifespan.shutdown.complete"})
            return


application = ProtocolTypeRouter({"http": http, "lifespan": lifespan})
