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
