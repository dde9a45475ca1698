"""Turn a requested model into an ordered candidate chain, from the snapshot alone (no queries)."""

from __future__ import annotations

from dataclasses import dataclass, field

from gateway.dataplane.errors import ModelNotFound
from gateway.dataplane.health import health
from gateway.dataplane.validation import ChatRequest
from governance.snapshot import ModelEntry, ProviderEntry, Snapshot
from providers.catalog import heuristic_type

PLACEHOLDER_MODEL = "dummy"


@dataclass(frozen=True, slots=True)
class Candidate:
    provider: ProviderEntry
    model: str  # the id sent upstream
    entry: ModelEntry | None = None  # the registry row, when there is one

    @property
    def label(self) -> str:
        """Bounded metric label: the registry name, never raw client input."""
        return self.entry.name if self.entry else "unregistered"


@dataclass(slots=True)
class Resolution:
    candidates: list[Candidate] = field(default_factory=list)
    route: str = ""  # which step decided: placeholder, registry, provider, heuristic
    placeholder: bool = False


def _registry(snapshot: Snapshot, entry: ModelEntry) -> Candidate | None:
    provider = snapshot.provider(entry.provider)
    if provider is None or not provider.active:
        return None
    return Candidate(provider, entry.upstream_model, entry)


def _lookup(snapshot: Snapshot, name: str) -> tuple[list[Candidate], str]:
    """One model name → its candidate and the step that found it (registry, provider, heuristic)."""
    entry = snapshot.model(name)
    if entry is not None and (candidate := _registry(snapshot, entry)):
        return [candidate], "registry"
    prefix, slash, rest = name.partition("/")
    if slash and rest and (provider := snapshot.provider(prefix)) and provider.active:
        entry = snapshot.model(rest)
        if entry is not None and entry.provider == provider.name.lower():
            return [Candidate(provider, entry.upstream_model, entry)], "registry"
        return [Candidate(provider, rest)], "provider"
    ptype = heuristic_type(name)
    if ptype is not None and (provider := snapshot.provider(ptype.type)) and provider.active:
        model = rest if slash and prefix.lower() in ptype.prefixes else name
        return [Candidate(provider, model)], "heuristic"
    return [], ""


def resolve(snapshot: Snapshot, request: ChatRequest) -> Resolution:
    """Registry (exact name, then `provider/model`), then prefix heuristics, `dummy` → placeholder.

    A registry model's `fallbacks` follow it in the chain, each resolved the same way.
    """
    name = request.model
    if name == PLACEHOLDER_MODEL:
        return Resolution(route="placeholder", placeholder=True)
    chain, route = _lookup(snapshot, name)
    if not chain:
        raise ModelNotFound(f"The model '{name}' does not exist or is not routable", param="model")
    entry = chain[0].entry
    for fallback in entry.fallbacks if entry else ():
        for candidate in _lookup(snapshot, fallback)[0]:
            if candidate not in chain:
                chain.append(candidate)
    return Resolution(chain, route)


def order(candidates: list[Candidate]) -> list[Candidate]:
    """Healthy candidates first, in chain order; providers with an open circuit last (never dropped)."""
    if len(candidates) < 2:
        return candidates
    healthy = [c for c in candidates if health.available(c.provider.name)]
    if len(healthy) == len(candidates):
        return candidates
    return healthy + [c for c in candidates if c not in healthy]
