"""Process start: load ROUTING_CONFIG_FILE into the database, then warm the classifier on the snapshot."""

from __future__ import annotations

import logging

from asgiref.sync import sync_to_async
from django.conf import settings

from gateway.dataplane.intent.routing import engine
from governance.snapshot import Snapshot

log = logging.getLogger(__name__)


async def load_routing_config() -> str:
    """"" when fine (or no file configured); else the startup error to report, naming the problem."""
    path = settings.ROUTING_CONFIG_FILE
    if not path:
        return ""
    from governance.services.preferences import RoutingConfigError, routing_config_load

    try:
        config, written = await sync_to_async(routing_config_load)(path=path, force=False)
    except RoutingConfigError as exc:
        problem = f"ROUTING_CONFIG_FILE {path} is invalid: {exc}"
        log.error(problem)
        return problem
    log.info("routing config %s: %d preferences (%s)", path, len(config.preferences),
             "loaded" if written else "unchanged since the last load")
    return ""


async def warm(snapshot: Snapshot) -> None:
    """Build the process's classifier and prepare the configured routes before the first request."""
    await engine.warm(snapshot)
