"""Steps 3-5 of a request, shared by chat and the decision endpoint: a live pin, else the resolver."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from gateway.dataplane.intent.affinity import Pin, affinity_id, pins
from gateway.dataplane.metrics import AFFINITY
from gateway.dataplane.intent.routing import preferences_of, request_routes
from gateway.dataplane.resolver import (
    ANONYMOUS,
    Candidate,
    IntentChoice,
    Resolution,
    intent_resolution,
    order,
    resolve,
)
from gateway.dataplane.validation import ChatRequest
from governance.cel import Caller
from governance.snapshot import Snapshot


@dataclass(slots=True)
class Decision:
    resolution: Resolution
    candidates: list[Candidate] = field(default_factory=list)  # in serving order (open circuits last)
    route: str | None = None  # the matched routing preference
    session: str = ""  # X-Model-Affinity, "" without it
    pinned: bool = False  # served from a pin, without routing

    @property
    def models(self) -> list[str]:
        return ["dummy"] if self.resolution.placeholder else [model_name(c) for c in self.candidates]


def model_name(candidate: Candidate) -> str:
    """A name the gateway resolves back to this candidate: the registry name, else provider/model."""
    return candidate.entry.name if candidate.entry else f"{candidate.provider.name}/{candidate.model}"


async def decide(
    snapshot: Snapshot, request: ChatRequest, caller: Caller = ANONYMOUS,
    headers: Mapping[str, str] | None = None,
) -> Decision:
    """Check the request's preferences and affinity id, serve a live pin, else resolve afresh."""
    headers = headers or {}
    request_routes(request, snapshot)  # a bad override is a 400 even when a rule decides
    session = affinity_id(headers)
    preferences = preferences_of(snapshot)
    if session:
        pin = await pins().get(session, preferences.session_ttl_seconds, preferences.session_max_entries)
        # A pin whose models are no longer routable (provider switched off) is routed afresh.
        if pin is not None and (pinned := intent_resolution(snapshot, IntentChoice(pin.route or "", pin.models))):
            pinned.route = "affinity"
            AFFINITY.labels("pinned").inc()
            return Decision(pinned, order(pinned.candidates), pin.route, session, pinned=True)
        AFFINITY.labels("routed").inc()
    resolution = await resolve(snapshot, request, caller, headers)
    return Decision(resolution, order(resolution.candidates), resolution.intent_route, session)


async def pin(decision: Decision, snapshot: Snapshot, served: Candidate | None = None) -> None:
    """Pin a fresh decision for its session; the candidate that answered goes first."""
    if not decision.session or decision.pinned or decision.resolution.placeholder:
        return
    chain = list(decision.candidates)
    if served is not None and served in chain:
        chain.remove(served)
        chain.insert(0, served)
    preferences = preferences_of(snapshot)
    await pins().put(
        decision.session, Pin(decision.route, tuple(model_name(c) for c in chain)),
        preferences.session_ttl_seconds, preferences.session_max_entries,
    )


def affinity_header(decision: Decision) -> list[tuple[bytes, bytes]]:
    if not decision.session:
        return []
    return [(b"x-switchyard-affinity", b"pinned" if decision.pinned else b"new")]
