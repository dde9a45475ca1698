"""Build the agent's app from its config and serve it with uvicorn (uvloop, httptools)."""

from __future__ import annotations

import uvicorn

from agents.worker.app import AgentApp
from agents.worker.backend import Backend
from agents.worker.config import AgentConfig
from agents.worker.link import GatewayLink


def make_backend(config: AgentConfig) -> Backend:
    if config.backend == "proxy":
        from agents.worker.proxy import ProxyBackend

        return ProxyBackend(config)
    from agents.worker.weights import WeightsBackend  # the only path that loads torch

    return WeightsBackend(config)


def make_app(config: AgentConfig) -> AgentApp:
    backend = make_backend(config)
    link = None
    if config.gateway:
        link = GatewayLink(
            gateway=config.gateway,
            registration_token=config.registration_token,
            name=config.name,
            endpoint=config.advertise_url,
            models=backend.ready_models,
            retry_max_seconds=config.retry_max_seconds,
        )
    return AgentApp(name=config.name, backend=backend, link=link)


def serve(config: AgentConfig, *, log_level: str = "info") -> None:
    uvicorn.run(
        make_app(config),
        host=config.host,
        port=config.port,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        access_log=False,
        log_config=None,
        log_level=log_level,
        timeout_graceful_shutdown=5,
    )
