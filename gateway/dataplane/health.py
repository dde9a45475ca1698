"""Per-provider circuit breaker fed by every attempt's outcome (bounded: one entry per configured provider)."""

from __future__ import annotations

from time import monotonic

from django.conf import settings


class Health:
    def __init__(self) -> None:
        self._failures: dict[str, int] = {}
        self._open_until: dict[str, float] = {}

    def available(self, provider: str) -> bool:
        until = self._open_until.get(provider)
        return until is None or monotonic() >= until  # past the window: half-open, try again

    def success(self, provider: str) -> None:
        if self._failures.get(provider):
            self._failures[provider] = 0
            self._open_until.pop(provider, None)

    def failure(self, provider: str) -> None:
        count = self._failures.get(provider, 0) + 1
        self._failures[provider] = count
        if count >= settings.CIRCUIT_FAILURE_THRESHOLD:
            self._open_until[provider] = monotonic() + settings.CIRCUIT_OPEN_SECONDS

    def state(self, provider: str) -> str:
        return "healthy" if self.available(provider) and not self._failures.get(provider) else (
            "degraded" if self.available(provider) else "open"
        )

    def reset(self) -> None:
        self._failures.clear()
        self._open_until.clear()


health = Health()
