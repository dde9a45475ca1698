"""Prometheus metrics. Labels are bounded by config (provider, registry model), never by raw client input."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

REQUESTS = Counter(
    "switchyard_requests_total", "Chat completion requests answered", ["provider", "model", "status"]
)
LATENCY = Histogram(
    "switchyard_request_duration_seconds",
    "Time from request to the last byte of the answer",
    ["provider", "stream"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
)
ATTEMPTS = Counter(
    "switchyard_upstream_attempts_total", "Upstream attempts by outcome", ["provider", "outcome"]
)
FAILOVERS = Counter("switchyard_failovers_total", "Requests served by a candidate other than the first")
TOKENS = Counter("switchyard_tokens_total", "Tokens reported by upstreams", ["provider", "model", "kind"])
# Intent routing. `route` is a configured preference name, "(request)" for a preference the
# request brought itself (its names are client input) or "(none)" when nothing matched.
INTENT_DECISIONS = Counter(
    "switchyard_intent_decisions_total", "Intent classifications by matched route", ["classifier", "route"]
)
INTENT_SECONDS = Histogram(
    "switchyard_intent_classify_seconds", "Time to classify one conversation", ["classifier"],
    buckets=(0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 2.5),
)
AFFINITY = Counter(
    "switchyard_affinity_requests_total", "Requests with X-Model-Affinity: served from a pin or routed afresh",
    ["outcome"],
)
