"""What the agent server asks of a backend, and the errors a backend raises (OpenAI's shape)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from typing import Any

from gateway.dataplane.errors import GatewayError, ModelNotFound
from gateway.dataplane.validation import ChatRequest

READY, LOADING, FAILED = "ready", "loading", "failed"


class ModelUnavailable(GatewayError):
    """The model is still loading, or failed to load: try again later (or elsewhere)."""

    status = 503
    type = "server_error"
    code = "model_not_ready"


class Overloaded(GatewayError):
    """Every generation slot and queue place for this model is taken."""

    status = 503
    type = "server_error"
    code = "queue_full"


class Backend(ABC):
    """Serves the agent's models; every method that can fail raises a GatewayError."""

    def __init__(self, names: list[str]) -> None:
        self.names = names
        self.state: dict[str, str] = dict.fromkeys(names, LOADING)
        self.errors: dict[str, str] = {}

    async def start(self) -> None:  # noqa: B027 - optional hook
        """Begin loading; the server answers (503 for a loading model) while this runs."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release pooled connections and worker threads."""

    def ready_models(self) -> list[str]:
        return [name for name in self.names if self.state[name] == READY]

    def check(self, model: str) -> None:
        """Raise unless `model` can take a request now."""
        state = self.state.get(model)
        if state is None:
            raise ModelNotFound(f"The model '{model}' is not served by this agent", param="model")
        if state == LOADING:
            raise ModelUnavailable(
                f"The model '{model}' is still loading", headers={"retry-after": "5"}
            )
        if state == FAILED:
            raise ModelUnavailable(
                f"The model '{model}' failed to load: {self.errors.get(model, '')}"
            )

    @abstractmethod
    async def complete(self, chat: ChatRequest) -> dict[str, Any]:
        """A `chat.completion` answer."""

    @abstractmethod
    async def open_stream(self, chat: ChatRequest) -> AsyncIterator[bytes]:
        """Admit the request (raising before any byte), then SSE chunks ending in [DONE]."""
