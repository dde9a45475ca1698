"""Routing-rule reads: one rule, a filtered list, a simulation through the data plane's resolver."""

from __future__ import annotations

from typing import Any

import orjson
from asgiref.sync import async_to_sync
from django.db.models import QuerySet
from rest_framework.exceptions import ValidationError

from gateway.dataplane.errors import InvalidRequest, ModelNotFound, ModelUnavailable
from gateway.dataplane.resolver import ANONYMOUS, Resolution, order, resolve
from gateway.dataplane.validation import ChatRequest, parse_chat_request
from governance.cel import Caller
from governance.config_version import read_version
from governance.keys import hash_key
from governance.models import RoutingRule
from governance.snapshot import Snapshot, compile_snapshot


def rule_get(*, rule_id: str) -> RoutingRule | None:
    return RoutingRule.objects.filter(pk=rule_id).first()


def rule_list(*, filters: dict[str, Any]) -> QuerySet[RoutingRule]:
    """Rules in evaluation order; `filters` are validated lookups (scope, scope_id, enabled)."""
    return RoutingRule.objects.filter(**filters)


def rule_simulate(
    *,
    body: dict[str, Any],
    headers: dict[str, str],
    virtual_key: str | None = None,
    virtual_key_id: str | None = None,
) -> dict[str, Any]:
    """Which rule `body` would match and the candidate chain, from a freshly compiled snapshot.

    A bad body or key raises ValidationError naming the field; a request no model serves is an
    answer with `error` set (the data plane's 404), not a failure.
    """
    snapshot = compile_snapshot(read_version())
    chat = _simulated_request(body)
    caller = _simulated_caller(snapshot, virtual_key, virtual_key_id)
    lowered = {name.lower(): value for name, value in headers.items()}
    try:
        resolution = async_to_sync(resolve)(snapshot, chat, caller, lowered, simulate=True)
    except (ModelNotFound, ModelUnavailable) as exc:
        return {**_outcome(Resolution(), chat), "error": exc.message}
    return _outcome(resolution, chat)


def _simulated_request(body: dict[str, Any]) -> ChatRequest:
    try:
        return parse_chat_request(orjson.dumps(body))
    except InvalidRequest as exc:
        field = f"request.{exc.param}" if exc.param else "request"
        raise ValidationError({field: [exc.message]}) from None


def _simulated_caller(
    snapshot: Snapshot, virtual_key: str | None, virtual_key_id: str | None
) -> Caller:
    if virtual_key is not None:
        digest = hash_key(virtual_key)
        caller = snapshot.keys.get(digest)
        if caller is None:
            why = "is revoked" if digest in snapshot.revoked_keys else "matches no virtual key"
            raise ValidationError({"virtual_key": [f"This key {why}."]})
        return caller
    if virtual_key_id is not None:
        caller = next((c for c in snapshot.keys.values() if c.key_id == virtual_key_id), None)
        if caller is None:
            message = f"No active virtual key has id '{virtual_key_id}'."
            raise ValidationError({"virtual_key_id": [message]})
        return caller
    return ANONYMOUS


def _outcome(resolution: Resolution, chat: ChatRequest) -> dict[str, Any]:
    """The outcome in the order the data plane would try it (open circuits last)."""
    if resolution.placeholder:
        candidates = [{"provider": "placeholder", "model": chat.model}]
    else:
        chain = order(resolution.candidates)
        candidates = [{"provider": c.provider.name, "model": c.model} for c in chain]
    rule = resolution.rule
    return {
        "matched_rule": None if rule is None else
        {"id": rule.id, "name": rule.name, "scope": rule.scope, "priority": rule.priority},
        "route": resolution.route,
        "candidates": candidates,
        "primary": candidates[0] if candidates else None,
        "fallbacks": candidates[1:],
        "skipped": [{"target": target, "reason": reason} for target, reason in resolution.skipped],
    }
