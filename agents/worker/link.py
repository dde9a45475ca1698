"""Registration with the gateway and the heartbeat loop; a gateway that is down never stops it."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import httpx

log = logging.getLogger(__name__)
DEFAULT_INTERVAL = 15.0
TIMEOUT = httpx.Timeout(connect=3.0, read=10.0, write=10.0, pool=3.0)


class Refused(Exception):
    """The gateway answered, but not with success; `status` says how."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"{status}: {detail[:300]}")
        self.status = status


@dataclass(slots=True)
class LinkState:
    registered: bool = False
    token: str = ""
    interval: float = DEFAULT_INTERVAL
    last_heartbeat: float = 0.0  # time.time() of the last accepted heartbeat or registration
    last_error: str = ""
    models: frozenset[str] = frozenset()  # what the gateway was last told


class GatewayLink:
    """Registers `models()` under `name`, heartbeats every interval, re-registers on 401."""

    def __init__(
        self,
        *,
        gateway: str,
        registration_token: str,
        name: str,
        endpoint: str,
        models: Callable[[], list[str]],
        retry_max_seconds: float,
    ) -> None:
        self.base = gateway.rstrip("/")
        self.registration_token = registration_token
        self.name = name
        self.endpoint = endpoint
        self.models = models
        self.retry_max = retry_max_seconds
        self.state = LinkState()
        self.client = httpx.AsyncClient(timeout=TIMEOUT)

    async def run(self) -> None:
        failures = 0
        while True:
            try:
                served = self.models()
                if not served:  # nothing loaded yet: a model the gateway could not use
                    await asyncio.sleep(0.2)
                    continue
                if not self.state.registered or frozenset(served) != self.state.models:
                    await self.register()
                else:
                    await self.heartbeat()
                failures = 0
                await asyncio.sleep(self.state.interval)
            except (httpx.TransportError, Refused) as exc:
                failures += 1
                self.state.last_error = str(exc) or type(exc).__name__
                delay = self._backoff(failures)
                log.warning(
                    "gateway %s: %s; retrying in %.1f s", self.base, self.state.last_error, delay
                )
                await asyncio.sleep(delay)

    def _backoff(self, failures: int) -> float:
        return min(self.retry_max, 0.5 * 2 ** (failures - 1)) * random.uniform(0.8, 1.0)

    async def register(self) -> None:
        body = {"name": self.name, "endpoint": self.endpoint, "models": self.models()}
        # Our current token, if any, proves a re-registration is us and not a takeover of the name.
        extra = {"x-agent-token": self.state.token} if self.state.token else {}
        answer = await self._post("/register", self.registration_token, body, extra)
        self.state.token = str(answer.get("token") or "")
        self._set_interval(answer)
        self.state.registered = True
        self.state.models = frozenset(body["models"])
        self.state.last_heartbeat = time.time()
        log.info(
            "registered with %s as %s (%s), heartbeat every %.0f s",
            self.base,
            self.name,
            ", ".join(body["models"]),
            self.state.interval,
        )

    async def heartbeat(self) -> None:
        try:
            answer = await self._post("/heartbeat", self.state.token, {"name": self.name})
        except Refused as exc:
            if exc.status != 401:
                raise
            # The gateway forgot us (expired, restarted on a fresh database): register again now.
            log.info("heartbeat refused with 401; registering again")
            self.state.registered = False
            await self.register()
            return
        self._set_interval(answer)
        self.state.last_heartbeat = time.time()

    def _set_interval(self, answer: dict[str, object]) -> None:
        interval = answer.get("heartbeat_interval")
        if isinstance(interval, (int, float)) and interval > 0:
            self.state.interval = float(interval)

    async def _post(
        self, path: str, token: str, body: Mapping[str, object], extra: dict[str, str] | None = None
    ) -> dict[str, object]:
        headers = {"authorization": f"Bearer {token}", **(extra or {})}
        response = await self.client.post(self.base + path, json=body, headers=headers)
        if response.status_code >= 300:
            raise Refused(response.status_code, response.text)
        try:
            answer = response.json()
        except ValueError:
            answer = None
        return answer if isinstance(answer, dict) else {}

    async def aclose(self) -> None:
        await self.client.aclose()
