"""The process's current snapshot: rebuilt only when the shared config version moves."""

from __future__ import annotations

import asyncio
import logging
from time import monotonic

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections

from governance import config_version
from governance.snapshot import Snapshot, compile_snapshot

log = logging.getLogger(__name__)


def _build(version: int | None) -> Snapshot:
    close_old_connections()
    if version is None:
        version = config_version.read_version()
    return compile_snapshot(version)


async def _shared_version() -> int | None:
    """The version other processes published; None means "ask the database"."""
    if settings.REDIS_URL:
        from gateway.redis import async_client

        try:
            raw = await async_client().get(config_version.redis_key())
        except Exception:
            log.warning("config version: Redis unreachable, reading the database")
            raw = None
        if raw is not None:
            return int(raw)
    return await sync_to_async(config_version.read_version)()


class SnapshotHolder:
    """Serves the snapshot from memory; checks the version at most every few hundred ms."""

    def __init__(self) -> None:
        self._snapshot: Snapshot | None = None
        self._next_check = 0.0
        self._stale = True
        self._locks: dict[int, asyncio.Lock] = {}
        config_version.on_local_change(self.invalidate)

    def invalidate(self) -> None:
        """A save in this process: rebuild on the next request, without waiting for the poll."""
        self._stale = True
        self._next_check = 0.0

    async def get(self) -> Snapshot:
        snapshot = self._snapshot
        if snapshot is not None and monotonic() < self._next_check:
            return snapshot
        return await self._refresh()

    async def _refresh(self) -> Snapshot:
        lock = self._locks.setdefault(id(asyncio.get_running_loop()), asyncio.Lock())
        async with lock:
            snapshot = self._snapshot
            if snapshot is not None and monotonic() < self._next_check:
                return snapshot
            self._next_check = monotonic() + settings.CONFIG_VERSION_CHECK_SECONDS
            version = await _shared_version()
            if snapshot is None or self._stale or version != snapshot.version:
                self._stale = False
                snapshot = await sync_to_async(_build)(version)
                self._snapshot = snapshot
                log.info("config snapshot v%s: %d providers, %d models",
                         snapshot.version, len(snapshot.providers), len(snapshot.models))
            return snapshot


snapshots = SnapshotHolder()
