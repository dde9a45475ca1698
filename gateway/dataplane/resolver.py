"""Turn a request into an ordered candidate chain, from the snapshot alone (no queries).

The one resolver: chat completions, the simulate endpoints and the routing-decision
endpoint all call `resolve` (or `profile_chain` for a profile alone).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from gateway.dataplane.errors import ModelNotFound, ModelUnavailable
from gateway.dataplane.health import health
from gateway.dataplane.intent.routing import intent_choice
from gateway.dataplane.routes import route_resolution
from gateway.dataplane.validation import ChatRequest
from governance.cel import Caller, RequestFacts
from governance.snapshot import ModelEntry, Profile, ProviderEntry, Rule, Snapshot
from providers.catalog import heuristic_type

PLACEHOLDER_MODEL = "dummy"
ANONYMOUS = Caller()
# Capabilities a profile target may declare and a request may need: the spec's text and
# request-detected vision, plus tools (a request that sends tools needs a model that takes them).
PROFILE_CAPABILITIES = frozenset({"text", "vision", "tools"})
Random = Callable[[], float]


@dataclass(frozen=True, slots=True)
class Candidate:
    provider: ProviderEntry
    model: str  # the id sent upstream
    entry: ModelEntry | None = None  # the registry row, when there is one

    @property
    def label(self) -> str:
        """Bounded metric label: the registry name, never raw client input."""
        return self.entry.name if self.entry else "unregistered"


@dataclass(frozen=True, slots=True)
class IntentChoice:
    """What intent routing decided before resolution: the matched route and its ranked models."""

    route: str
    models: tuple[str, ...]


@dataclass(slots=True)
class Resolution:
    candidates: list[Candidate] = field(default_factory=list)
    route: str = ""  # which step decided: placeholder, rule, profile, registry, provider, heuristic
    placeholder: bool = False
    rule: Rule | None = None
    profile: Profile | None = None
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (provider/model, why), for simulate
    intent_route: str | None = None  # the routing-preference route intent routing matched


def _registry(snapshot: Snapshot, entry: ModelEntry) -> Candidate | None:
    provider = snapshot.provider(entry.provider)
    if provider is None or not provider.active:
        return None
    return Candidate(provider, entry.upstream_model, entry)


def _on_provider(snapshot: Snapshot, provider: ProviderEntry, model: str) -> Candidate:
    """`model` on a given provider: its registry row when that provider serves it."""
    entry = snapshot.model(model)
    if entry is not None and entry.provider == provider.name.lower():
        return Candidate(provider, entry.upstream_model, entry)
    return Candidate(provider, model)


def lookup(snapshot: Snapshot, name: str) -> tuple[list[Candidate], str]:
    """One model name → its candidate and the step that found it (registry, provider, heuristic).

    A registry model whose provider is inactive (switched off, or an expired agent) has
    no candidate: it does not fall through to the heuristics, which would send it
    somewhere the registry says it does not live.
    """
    entry = snapshot.model(name)
    if entry is not None:
        candidate = _registry(snapshot, entry)
        return ([candidate] if candidate else []), "registry"
    prefix, slash, rest = name.partition("/")
    if slash and rest and (provider := snapshot.provider(prefix)) and provider.active:
        route = "registry" if (c := _on_provider(snapshot, provider, rest)).entry else "provider"
        return [c], route
    ptype = heuristic_type(name)
    if ptype is not None and (provider := snapshot.provider(ptype.type)) and provider.active:
        model = rest if slash and prefix.lower() in ptype.prefixes else name
        return [Candidate(provider, model)], "heuristic"
    return [], ""


def provider_of(snapshot: Snapshot, name: str) -> str:
    """The provider a model name would reach without rules (the CEL variable `provider`)."""
    prefix, slash, _ = name.partition("/")
    if slash and prefix.lower() in snapshot.profiles:
        return prefix
    chain, _ = lookup(snapshot, name)
    return chain[0].provider.name if chain else ""


def _target(
    snapshot: Snapshot, provider: str, model: str, request: ChatRequest, skipped: list[tuple[str, str]]
) -> list[Candidate]:
    """A `provider/model` target of a rule: a real provider, or a profile alias expanded."""
    if (profile := snapshot.profiles.get(provider.lower())) is not None:
        return profile_chain(snapshot, profile, model, request.capabilities, "chat", skipped=skipped)
    entry = snapshot.provider(provider)
    if entry is None or not entry.active:
        skipped.append((f"{provider}/{model}", "unknown or inactive provider"))
        return []
    return [_on_provider(snapshot, entry, model)]


def _pick_weighted(weights: list[float], rng: Random) -> int:
    total = sum(w for w in weights if w > 0)
    if total <= 0:
        return 0
    point, running = rng() * total, 0.0
    for i, weight in enumerate(weights):
        if weight > 0:
            running += weight
            if point < running:
                return i
    return max(i for i, w in enumerate(weights) if w > 0)


def profile_chain(
    snapshot: Snapshot,
    profile: Profile,
    virtual_model: str,
    capabilities: frozenset[str],
    request_type: str,
    *,
    skipped: list[tuple[str, str]] | None = None,
    rng: Random = random.random,
) -> list[Candidate]:
    """Eligible targets of a profile, ordered by its strategy (`weighted` splits traffic by weight)."""
    skipped = skipped if skipped is not None else []
    needed = capabilities & PROFILE_CAPABILITIES
    eligible = []
    for target in profile.targets:
        label = f"{target.provider}/{target.model or virtual_model}"
        alias = target.virtual_model
        if alias not in ("", "*") and alias.lower() != virtual_model.lower():
            continue  # another alias of this profile
        if not target.enabled:
            skipped.append((label, "disabled"))
        elif target.request_types and request_type.lower() not in target.request_types:
            skipped.append((label, f"does not serve request type {request_type}"))
        elif target.capabilities and not needed <= target.capabilities:
            skipped.append((label, f"lacks {', '.join(sorted(needed - target.capabilities))}"))
        else:
            eligible.append(target)
    eligible.sort(key=lambda t: (t.priority, -t.weight))
    if profile.strategy == "weighted" and len(eligible) > 1:
        first = eligible.pop(_pick_weighted([t.weight for t in eligible], rng))
        eligible.insert(0, first)
    chain: list[Candidate] = []
    for target in eligible:
        provider = snapshot.provider(target.provider)
        if provider is None or not provider.active:
            skipped.append((f"{target.provider}/{target.model or virtual_model}", "unknown or inactive provider"))
            continue
        candidate = _on_provider(snapshot, provider, target.model or virtual_model)
        if candidate not in chain:
            chain.append(candidate)
    return chain


def _rule_step(
    snapshot: Snapshot, request: ChatRequest, caller: Caller, headers: Mapping[str, str], rng: Random
) -> Resolution | None:
    scopes = [("virtual_key", caller.key_id), ("team", caller.team_id), ("customer", caller.customer_id)]
    indexes = [snapshot.rules.get(key) for key in scopes if key[1]]
    indexes.append(snapshot.rules.get(("global", None)))
    if not any(indexes):
        return None
    facts = RequestFacts(
        body=request.body, model=request.model, provider=provider_of(snapshot, request.model),
        request_type="chat", capabilities=request.capabilities, headers=headers, caller=caller,
    )
    for index in indexes:
        rule = index.first_match(facts) if index is not None else None
        if rule is None:
            continue
        resolution = Resolution(route="rule", rule=rule)
        order = []
        if rule.targets:
            picked = rule.targets[_pick_weighted([t.weight for t in rule.targets], rng)]
            order.append((picked.provider, picked.model or request.model))
        order += [tuple(f.split("/", 1)) for f in rule.fallbacks if "/" in f]  # type: ignore[misc]
        for provider, model in order:
            for candidate in _target(snapshot, provider, model, request, resolution.skipped):
                if candidate not in resolution.candidates:
                    resolution.candidates.append(candidate)
        if resolution.candidates:
            return resolution
    return None


def intent_resolution(snapshot: Snapshot, intent: IntentChoice) -> Resolution | None:
    """The matched intent route's models, in ranked order, each resolved like a model name."""
    resolution = Resolution(route="intent", intent_route=intent.route or None)
    for model in intent.models:
        found, _ = lookup(snapshot, model)
        if not found:
            resolution.skipped.append((model, "not routable"))
        resolution.candidates += [c for c in found if c not in resolution.candidates]
    return resolution if resolution.candidates else None


async def resolve(
    snapshot: Snapshot,
    request: ChatRequest,
    caller: Caller = ANONYMOUS,
    headers: Mapping[str, str] | None = None,
    rng: Random = random.random,
    *,
    simulate: bool = False,
) -> Resolution:
    """Rules, intent, a route, a profile alias, then the registry and heuristics; `dummy` → placeholder.

    Async because some steps wait on I/O (the intent classifier, shared round-robin counters).
    `simulate` answers the same question without moving any rotation.
    """
    name = request.model
    headers = headers or {}
    if name == PLACEHOLDER_MODEL:
        return Resolution(route="placeholder", placeholder=True)
    if snapshot.rules and (ruled := _rule_step(snapshot, request, caller, headers, rng)):
        return ruled
    intent = await intent_choice(snapshot, request, headers)
    if intent is not None and (chosen := intent_resolution(snapshot, intent)):
        return chosen
    prefix, slash, rest = name.partition("/")
    if slash and prefix.lower() == "route" and (
        routed := await route_resolution(snapshot, request, rest, headers, simulate=simulate)
    ):
        return routed
    if slash and (profile := snapshot.profiles.get(prefix.lower())) is not None:
        resolution = Resolution(route="profile", profile=profile)
        resolution.candidates = profile_chain(
            snapshot, profile, rest, request.capabilities, "chat", skipped=resolution.skipped, rng=rng
        )
        if not resolution.candidates:
            raise ModelNotFound(
                f"Routing profile '{profile.name}' has no eligible target for '{name}'", param="model"
            )
        return resolution
    chain, route = lookup(snapshot, name)
    entry = snapshot.model(name)
    for fallback in entry.fallbacks if entry else ():
        for candidate in lookup(snapshot, fallback)[0]:
            if candidate not in chain:
                chain.append(candidate)
    if chain:
        return Resolution(chain, route)
    if entry is not None:
        raise ModelUnavailable(
            f"The model '{name}' is served by provider '{entry.provider}', which is not active "
            "(switched off, or an agent that stopped sending heartbeats)", param="model",
        )
    raise ModelNotFound(f"The model '{name}' does not exist or is not routable", param="model")


def order(candidates: list[Candidate]) -> list[Candidate]:
    """Healthy candidates first, in chain order; providers with an open circuit last (never dropped)."""
    if len(candidates) < 2:
        return candidates
    healthy = [c for c in candidates if health.available(c.provider.name)]
    if len(healthy) == len(candidates):
        return candidates
    return healthy + [c for c in candidates if c not in healthy]
