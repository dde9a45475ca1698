"""Config version: every save bumps it; data-plane processes compare it to rebuild their snapshot.

The version row in the database is the truth and is bumped after commit. When
REDIS_URL is set it is mirrored to Redis, so the many gateway processes poll
Redis instead of the database.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.db import transaction
from django.db.models import F, Model
from django.db.models.signals import post_delete, post_save

log = logging.getLogger(__name__)


def redis_key() -> str:
    return f"{settings.REDIS_KEY_PREFIX}:config-version"


_listeners: list[Callable[[], None]] = []


def on_local_change(callback: Callable[[], None]) -> None:
    """Call `callback` in this process right after any bump made by this process."""
    _listeners.append(callback)


def bump() -> int:
    """Increment the version now (call after the change has committed)."""
    from governance.models import ConfigVersion

    ConfigVersion.objects.get_or_create(pk=1)
    ConfigVersion.objects.filter(pk=1).update(version=F("version") + 1)
    version = ConfigVersion.objects.values_list("version", flat=True).get(pk=1)
    if settings.REDIS_URL:
        try:
            from gateway.redis import sync_client

            sync_client().set(redis_key(), version)
        except Exception:  # the DB row still moved; pollers fall back to it
            log.exception("could not publish config version %s to Redis", version)
    for callback in _listeners:
        callback()
    return version


def read_version() -> int:
    """The current version, from the database (the source of truth)."""
    from governance.models import ConfigVersion

    return ConfigVersion.objects.values_list("version", flat=True).filter(pk=1).first() or 0


class _Batch:
    changed = False


# The open batch of this thread or task, if any (a context variable: each request's own).
_batch: ContextVar[_Batch | None] = ContextVar("config_version_batch", default=None)


def bump_on_commit() -> None:
    """Bump once the current transaction commits, or once the open batch() ends."""
    open_batch = _batch.get()
    if open_batch is None:
        transaction.on_commit(bump)
    else:
        open_batch.changed = True


@contextmanager
def batch() -> Iterator[None]:
    """Write many rows for one bump: inside, saves and deletes schedule none of their own, and
    the outermost batch schedules exactly one on commit at exit (none when nothing changed).

    Open it inside the transaction.atomic() of the writes, so a rollback drops the bump too.
    """
    if _batch.get() is not None:  # nested: the outer batch bumps
        yield
        return
    current = _Batch()
    token = _batch.set(current)
    try:
        yield
    finally:
        _batch.reset(token)
        if current.changed:
            transaction.on_commit(bump)


def _bump_on_commit(**_: object) -> None:
    bump_on_commit()


def watch(*models: type[Model]) -> None:
    """Bump the version whenever a row of these models is saved or deleted."""
    for model in models:
        uid = f"config-version-{model._meta.label}"
        post_save.connect(_bump_on_commit, sender=model, dispatch_uid=uid + "-save", weak=False)
        post_delete.connect(_bump_on_commit, sender=model, dispatch_uid=uid + "-delete", weak=False)
