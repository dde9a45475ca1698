"""Agent writes: register, heartbeat, expire and delete, each in one transaction.

An agent's models are registry rows (source `agent`) on the agent's own Provider,
whose base URL is the endpoint the agent registered; expiring the agent sets that
provider inactive, which takes its models out of the data plane's snapshot.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.db.models.functions import Lower
from django.utils import timezone

from agents.errors import AgentConflict, AgentUnauthorized, RegistrationDisabled
from agents.models import Agent
from agents.validation import parse_heartbeat, parse_registration
from governance import config_version
from governance.keys import hash_key
from providers.catalog import KIND_API, PROVIDER_TYPES
from providers.models import Model, Provider

log = logging.getLogger(__name__)

TOKEN_PREFIX = "sy-agent-"
PROVIDER_TYPE = "local"
# Rows of these provider types are served through LOCAL_AGENT_URL, i.e. by "the"
# local agent (the demo registry's local_mistral row is one): a registering agent
# takes them over. Any other provider's model is a conflict.
CLAIMABLE_TYPES = frozenset(
    t.type for t in PROVIDER_TYPES.values() if t.base_url_setting == "LOCAL_AGENT_URL"
)


@dataclass(frozen=True, slots=True)
class Registration:
    agent: Agent
    token: str  # shown to the agent once; only its digest is stored
    created: bool


def provider_name_for(agent_name: str) -> str:
    """`agent-<name>`; names too long for a provider keep a digest suffix so they stay distinct."""
    name = f"agent-{agent_name}"
    if len(name) <= 63:
        return name
    digest = hashlib.sha256(agent_name.lower().encode()).hexdigest()[:8]
    return f"agent-{agent_name[:47]}-{digest}"


def _same_secret(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def _is_stale(agent: Agent, now: datetime) -> bool:
    """Expired, or silent for longer than the timeout (the sweep may not have run yet)."""
    cutoff = now - timedelta(seconds=settings.AGENT_HEARTBEAT_TIMEOUT)
    return not agent.is_alive or agent.last_heartbeat < cutoff


def _check_models_free(names: list[str], provider: Provider | None) -> None:
    """409 on `models` when another agent or a non-local provider serves one of `names`."""
    rows = Model.objects.annotate(lname=Lower("name")).filter(lname__in=[n.lower() for n in names])
    if provider is not None:
        rows = rows.exclude(provider=provider)
    taken = []
    for row in rows.select_related("provider__agent"):
        owner = getattr(row.provider, "agent", None)
        if owner is not None:
            taken.append(f"'{row.name}' (agent '{owner.name}')")
        elif row.provider.type not in CLAIMABLE_TYPES:
            taken.append(f"'{row.name}' (provider '{row.provider.name}')")
    if taken:
        raise AgentConflict(f"Models already served elsewhere: {', '.join(taken)}.", param="models")


def _sync_models(provider: Provider, names: list[str]) -> None:
    """Upsert the agent's model rows and delete the ones it no longer lists (its own rows only)."""
    wanted = {name.lower(): name for name in names}
    existing = {
        row.lname: row
        for row in Model.objects.annotate(lname=Lower("name")).filter(lname__in=list(wanted))
    }
    Model.objects.bulk_create([
        Model(name=name, provider=provider, source=Model.Source.AGENT, kind=KIND_API,
              capabilities=["text"])
        for lname, name in wanted.items() if lname not in existing
    ])
    changed = []
    for lname, row in existing.items():
        if (row.name, row.provider_id, row.source) != (wanted[lname], provider.pk, Model.Source.AGENT):
            row.name, row.provider, row.source = wanted[lname], provider, Model.Source.AGENT
            row.kind, row.updated_at = KIND_API, timezone.now()
            changed.append(row)
    Model.objects.bulk_update(changed, ["name", "provider", "source", "kind", "updated_at"])
    Model.objects.filter(provider=provider, source=Model.Source.AGENT).annotate(
        lname=Lower("name")
    ).exclude(lname__in=list(wanted)).delete()
    transaction.on_commit(config_version.bump)  # bulk writes send no signals


def _issue_token(agent: Agent) -> str:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    agent.token_hash = hash_key(token)
    return token


def _registration_allowed(secret: str | None) -> None:
    expected = settings.AGENT_REGISTRATION_TOKEN
    if not expected:
        raise RegistrationDisabled(
            "Agent registration is disabled: set AGENT_REGISTRATION_TOKEN on the gateway."
        )
    if not secret or not _same_secret(secret, expected):
        raise AgentUnauthorized("Registration needs 'Authorization: Bearer <AGENT_REGISTRATION_TOKEN>'.")


def _check_takeover(agent: Agent, agent_token: str | None, now: datetime) -> None:
    """A live agent's name may be re-registered only by that agent (its current token)."""
    if _is_stale(agent, now):
        return
    if agent_token and hmac.compare_digest(hash_key(agent_token), agent.token_hash):
        return
    raise AgentConflict(
        f"Agent '{agent.name}' is registered and alive: re-register with its current token in "
        "X-Agent-Token, or wait until it expires (AGENT_HEARTBEAT_TIMEOUT).", param="name",
    )


def _agent_provider(agent: Agent | None, name: str, endpoint: str) -> Provider:
    """The agent's provider pointed at `endpoint` and active; a new one for a new agent."""
    if agent is None:
        provider_name = provider_name_for(name)
        if Provider.objects.filter(name__iexact=provider_name).exists():
            raise AgentConflict(
                f"A provider named '{provider_name}' exists and does not belong to an agent.",
                param="name",
            )
        provider = Provider(name=provider_name, type=PROVIDER_TYPE, kind=KIND_API)
    else:
        provider = agent.provider
    if provider.pk is None or provider.base_url != endpoint or not provider.active:
        provider.base_url, provider.active = endpoint, True
        provider.save()
    return provider


def agent_register(*, secret: str | None, agent_token: str | None, payload: Any) -> Registration:
    """Register or re-register an agent, rotating its token; AgentError when refused (nothing changed)."""
    _registration_allowed(secret)
    data = parse_registration(payload)
    now = timezone.now()
    try:
        with transaction.atomic():
            agent = (
                Agent.objects.select_for_update().select_related("provider")
                .filter(name__iexact=data.name).first()
            )
            if agent is not None:
                _check_takeover(agent, agent_token, now)
            provider = _agent_provider(agent, data.name, data.endpoint)
            _check_models_free(data.models, provider)
            created = agent is None
            agent = agent or Agent(name=data.name, provider=provider)
            token = _issue_token(agent)
            agent.endpoint, agent.models, agent.status = data.endpoint, data.models, Agent.Status.ALIVE
            agent.last_heartbeat = agent.registered_at = now
            agent.save()
            _sync_models(provider, data.models)
    except IntegrityError:  # a concurrent registration took the name or a model first
        raise AgentConflict(f"Agent '{data.name}' or one of its models was just taken.",
                            param="name") from None
    log.info("agent %s registered at %s serving %d model(s)", agent.name, agent.endpoint,
             len(agent.models))
    return Registration(agent, token, created)


def agent_heartbeat(*, token: str | None, payload: Any) -> Agent:
    """Record a heartbeat (optionally a new model list); revives an expired agent."""
    if not token:
        raise AgentUnauthorized("A heartbeat needs 'Authorization: Bearer <agent token>'.")
    data = parse_heartbeat(payload)
    with transaction.atomic():
        agent = (
            Agent.objects.select_for_update().select_related("provider")
            .filter(name__iexact=data.name).first()
        )
        matches = hmac.compare_digest(hash_key(token), agent.token_hash if agent else "0" * 64)
        if agent is None or not matches:
            raise AgentUnauthorized("Unknown agent or wrong agent token: register again.")
        if data.models is not None and data.models != agent.models:
            _check_models_free(data.models, agent.provider)
            _sync_models(agent.provider, data.models)
            agent.models = data.models
        revived = not agent.is_alive
        agent.status, agent.last_heartbeat = Agent.Status.ALIVE, timezone.now()
        agent.save(update_fields=["status", "last_heartbeat", "models"])
        if revived:
            agent.provider.active = True
            agent.provider.save(update_fields=["active", "updated_at"])
    if revived:
        log.info("agent %s is alive again", agent.name)
    return agent


def _expire(agents: QuerySet[Agent]) -> list[str]:
    """Expire the alive agents of `agents`; each row is re-checked as it is written (a heartbeat may race)."""
    expired = []
    with transaction.atomic():
        for pk, name, provider_id in agents.filter(status=Agent.Status.ALIVE).values_list(
            "pk", "name", "provider_id"
        ):
            if agents.filter(pk=pk, status=Agent.Status.ALIVE).update(status=Agent.Status.EXPIRED):
                Provider.objects.filter(pk=provider_id).update(active=False)
                expired.append(name)
        if expired:
            transaction.on_commit(config_version.bump)  # update() sends no signals
    if expired:
        log.info("expired agent(s) %s: their models are no longer routed", ", ".join(expired))
    return expired


def agents_expire_stale(*, now: datetime | None = None) -> list[str]:
    """Expire alive agents silent for longer than AGENT_HEARTBEAT_TIMEOUT; idempotent."""
    cutoff = (now or timezone.now()) - timedelta(seconds=settings.AGENT_HEARTBEAT_TIMEOUT)
    return _expire(Agent.objects.filter(last_heartbeat__lt=cutoff))


def agents_expire(*, agents: QuerySet[Agent]) -> list[str]:
    """Expire these agents now (an operator's choice); their next heartbeat revives them."""
    return _expire(Agent.objects.filter(pk__in=list(agents.values_list("pk", flat=True))))


@transaction.atomic
def agent_delete(*, agent: Agent) -> None:
    """Delete the agent, its provider and its models; its token stops working."""
    agent.provider.delete()  # cascades to the agent row and the agent's models
