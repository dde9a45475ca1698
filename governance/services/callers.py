"""Control-plane writes for callers: customers, teams, virtual keys (secrets are never stored)."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Model
from rest_framework.authtoken.models import Token

from governance.keys import generate_key
from governance.models import Customer, Team, VirtualKey

# The writes trust their input: the API serializers and the admin forms run the
# checks below first, and the database's unique constraints catch a race.


def caller_name_conflict(*, model: type[Model], name: str, exclude_pk: object = None) -> str | None:
    """Why `name` cannot be used (names are unique ignoring case), or None when it is free."""
    others = model._default_manager.filter(name__iexact=name)
    if exclude_pk is not None:
        others = others.exclude(pk=exclude_pk)
    if others.exists():
        return f"A {model._meta.verbose_name} named '{name}' already exists (names ignore case)."
    return None


def virtual_key_owner_conflict(*, team: Team | None, customer: Customer | None) -> str | None:
    """Why a key cannot belong to both: the data plane bills a key's customer, else its team's."""
    if team and customer and team.customer_id and team.customer_id != customer.pk:
        return f"Team '{team.name}' belongs to another customer."
    return None


@transaction.atomic
def customer_create(*, name: str) -> Customer:
    return Customer.objects.create(name=name)


@transaction.atomic
def customer_update(*, customer: Customer, name: str) -> Customer:
    customer.name = name
    customer.save(update_fields=["name"])
    return customer


@transaction.atomic
def customer_delete(*, customer: Customer) -> None:
    """Teams and keys of the customer stay, unassigned (the foreign keys are SET_NULL)."""
    customer.delete()


@transaction.atomic
def team_create(*, name: str, customer: Customer | None = None) -> Team:
    return Team.objects.create(name=name, customer=customer)


@transaction.atomic
def team_update(*, team: Team, name: str, customer: Customer | None) -> Team:
    team.name = name
    team.customer = customer
    team.save(update_fields=["name", "customer"])
    return team


@transaction.atomic
def team_delete(*, team: Team) -> None:
    """The team's keys stay, without a team (the foreign key is SET_NULL)."""
    team.delete()


def _new_secret(virtual_key: VirtualKey) -> str:
    secret, virtual_key.key_prefix, virtual_key.key_hash = generate_key()
    return secret


@transaction.atomic
def virtual_key_create(
    *, name: str, team: Team | None = None, customer: Customer | None = None, active: bool = True
) -> tuple[VirtualKey, str]:
    """A new key and its secret: the secret exists only in this return value, so show it once."""
    key = VirtualKey(name=name, team=team, customer=customer, active=active)
    secret = _new_secret(key)
    key.save(force_insert=True)
    return key, secret


@transaction.atomic
def virtual_key_update(
    *,
    virtual_key: VirtualKey,
    name: str,
    team: Team | None,
    customer: Customer | None,
    active: bool,
) -> VirtualKey:
    virtual_key.name, virtual_key.team, virtual_key.customer = name, team, customer
    virtual_key.active = active
    virtual_key.save(update_fields=["name", "team", "customer", "active"])
    return virtual_key


@transaction.atomic
def virtual_key_rotate(*, virtual_key: VirtualKey) -> tuple[VirtualKey, str]:
    """A new secret, returned once; the old one stops working when the config version moves."""
    secret = _new_secret(virtual_key)
    virtual_key.save(update_fields=["key_prefix", "key_hash"])
    return virtual_key, secret


@transaction.atomic
def virtual_key_revoke(*, virtual_key: VirtualKey) -> VirtualKey:
    """Deactivate the key; the row stays so its history and prefix remain recognisable."""
    if virtual_key.active:
        virtual_key.active = False
        virtual_key.save(update_fields=["active"])
    return virtual_key


@transaction.atomic
def virtual_key_delete(*, virtual_key: VirtualKey) -> None:
    virtual_key.delete()


class ApiTokenError(ValueError):
    """The token was not issued; nothing was changed."""


@dataclass(frozen=True, slots=True)
class IssuedToken:
    key: str  # the token itself: print it once
    user_created: bool
    replaced: bool


@transaction.atomic
def api_token_create(*, username: str, rotate: bool = False) -> IssuedToken:
    """A governance-API token for a staff user, created (staff, no password) when missing.

    An existing token is replaced only when `rotate` is set: quietly replacing it would cut
    off whatever uses it, and handing it out again would defeat printing it once.
    """
    user, user_created = get_user_model()._default_manager.get_or_create(
        username=username, defaults={"is_staff": True}
    )
    if user_created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    elif not user.is_staff:
        raise ApiTokenError(f"User '{username}' is not staff; the governance API is staff-only.")
    replaced = Token.objects.filter(user=user).delete()[0] > 0 if rotate else False
    if not replaced and Token.objects.filter(user=user).exists():
        raise ApiTokenError(f"User '{username}' already has a token; pass --rotate to replace it.")
    token = Token.objects.create(user=user)
    return IssuedToken(key=token.key, user_created=user_created, replaced=replaced)
