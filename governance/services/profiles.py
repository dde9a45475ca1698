"""Control-plane writes for routing profiles: create, replace, delete, and import a whole set."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.db import IntegrityError, transaction
from rest_framework.exceptions import ValidationError

from governance import config_version
from governance.models import RoutingProfile

# Fields a client sets; `id` is set on create only (it is the primary key).
WRITABLE = ("name", "description", "virtual_provider", "strategy", "enabled", "targets")


@contextmanager
def _unique_fields() -> Iterator[None]:
    """A concurrent write won the race past validation: answer 400 naming the field, not 500."""
    try:
        yield
    except IntegrityError as exc:
        constraint = str(exc)  # names the unique index on SQLite and PostgreSQL alike
        field = "id"
        if "profile_name_ci" in constraint:
            field = "name"
        elif "profile_vprovider_ci" in constraint:
            field = "virtual_provider"
        message = f"A routing profile with this {field} already exists."
        raise ValidationError({field: [message]}) from exc


def profile_create(*, data: dict[str, Any]) -> RoutingProfile:
    """Save a validated profile; the post_save signal bumps the config version on commit."""
    with _unique_fields(), transaction.atomic():
        return RoutingProfile.objects.create(id=data["id"], **{f: data[f] for f in WRITABLE})


def profile_update(*, profile: RoutingProfile, data: dict[str, Any]) -> RoutingProfile:
    """Replace every writable field of `profile` (PUT semantics)."""
    for name in WRITABLE:
        setattr(profile, name, data[name])
    with _unique_fields(), transaction.atomic():
        profile.save()
    return profile


def profile_delete(*, profile: RoutingProfile) -> None:
    profile.delete()


def profiles_import(*, profiles: Sequence[dict[str, Any]]) -> list[RoutingProfile]:
    """Replace the whole set in one transaction: a failure leaves the previous set untouched."""
    rows = [RoutingProfile(id=p["id"], **{f: p[f] for f in WRITABLE}) for p in profiles]
    with _unique_fields(), transaction.atomic(), config_version.batch():
        RoutingProfile.objects.all().delete()
        created = RoutingProfile.objects.bulk_create(rows)
        # bulk_create sends no post_save signal, so the batch is told here.
        config_version.bump_on_commit()
    return created
