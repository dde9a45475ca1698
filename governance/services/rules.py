"""Control-plane writes for routing rules (input already validated by the API's serializer)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction

from governance.models import RoutingRule

# Every column the API writes; a PUT replaces them all, so an omitted optional field resets.
_DEFAULTS: dict[str, Any] = {
    "description": "",
    "enabled": True,
    "fallbacks": [],
    "scope_id": None,
    "query": {},
}
_FIELDS = ("name", "description", "enabled", "cel_expression", "targets", "fallbacks",
           "scope", "scope_id", "priority", "query")


def _columns(data: Mapping[str, Any]) -> dict[str, Any]:
    columns = {name: data.get(name, _DEFAULTS.get(name)) for name in _FIELDS}
    if columns["scope"] == RoutingRule.Scope.GLOBAL:
        columns["scope_id"] = None
    return columns


@transaction.atomic
def rule_create(*, data: Mapping[str, Any]) -> RoutingRule:
    """A new rule; the config version bumps on commit, so data planes see it on their next request."""
    return RoutingRule.objects.create(**_columns(data))


@transaction.atomic
def rule_update(*, rule: RoutingRule, data: Mapping[str, Any]) -> RoutingRule:
    """Replace every writable column of `rule` (PUT semantics)."""
    for name, value in _columns(data).items():
        setattr(rule, name, value)
    rule.save()
    return rule


@transaction.atomic
def rule_delete(*, rule: RoutingRule) -> None:
    rule.delete()
