"""What one agent process serves and where it reports: parsed once from the command line."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from pathlib import Path

BACKENDS = ("weights", "proxy")


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """`--model NAME[=SOURCE]`: served name; a directory, hub id or upstream model."""

    name: str
    source: str


@dataclass(frozen=True, slots=True)
class AgentConfig:
    name: str
    host: str
    port: int
    gateway: str  # the gateway's base URL; empty: serve without registering
    registration_token: str
    advertise_url: str
    backend: str
    models: tuple[ModelSpec, ...]
    upstream: str = ""  # proxy backend: the OpenAI-compatible server's base URL
    upstream_api_key: str = ""
    device: str = "cpu"
    cache_dir: Path = field(default_factory=Path)
    default_max_tokens: int = 256
    queue_size: int = 8  # requests waiting per model behind the one generating
    retry_max_seconds: float = 10.0


def parse_model(value: str) -> ModelSpec:
    name, sep, source = value.partition("=")
    name, source = name.strip(), source.strip()
    if not name or (sep and not source):
        raise ValueError(f"--model {value!r}: expected NAME or NAME=SOURCE")
    return ModelSpec(name, source or name)


def advertise_url(host: str, port: int) -> str:
    """The URL the gateway should call: a wildcard bind address becomes the host name."""
    if host in ("0.0.0.0", "::", ""):
        host = socket.gethostname()
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"
