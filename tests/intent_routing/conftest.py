"""Intent-routing fixtures: two providers on fake upstreams, a loaded config, the lexical classifier."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from gateway.dataplane.intent.affinity import memory_pins
from gateway.dataplane.intent.ranking import latency
from gateway.dataplane.intent.routing import engine
from governance.services.preferences import parse_routing_config, routing_config_apply
from providers.models import Model, Provider

CODE = "write a python function that sorts a list of numbers"
CHAT = "hi there! just a simple question: what is the capital of France?"
OTHER = "qwzx plorb vanta"  # matches no route

CONFIG = """
version: v0.4.0
model_providers:
  - model: primary/gpt-4o
    access_key: $OPENAI_API_KEY
  - model: backup/gpt-4o-mini
    access_key: $OPENAI_API_KEY
    default: true
  - model: local/tiny
routing_preferences:
  - name: code generation
    description: generating new code snippets, functions or programs in a programming language
    models: [primary/gpt-4o, backup/gpt-4o-mini]
  - name: general questions
    description: casual conversation, greetings and simple everyday questions
    models: [backup/gpt-4o-mini]
routing:
  session_ttl_seconds: 600
  session_max_entries: 100
"""


def ask(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


def load(text: str = CONFIG) -> None:
    routing_config_apply(config=parse_routing_config(text))


@pytest.fixture(autouse=True)
def _fresh_intent_state(settings) -> Iterator[None]:  # type: ignore[no-untyped-def]
    settings.INTENT_CLASSIFIER = "lexical"
    settings.REDIS_URL = ""
    engine.reset()
    latency.reset()
    memory_pins.clear()
    yield
    engine.reset()
    latency.reset()
    memory_pins.clear()


@pytest.fixture
def routed(openai_upstream, fake_openai_backup, settings):  # type: ignore[no-untyped-def]
    """`primary/gpt-4o` on the openai fake, `backup/gpt-4o-mini` on the backup fake, with prices; config loaded."""
    fake_openai_backup.reply = "Hello from the backup"
    primary = Provider.objects.create(name="primary", type="openai", base_url=openai_upstream.url)
    backup = Provider.objects.create(
        name="backup", type="openai", base_url=fake_openai_backup.url, api_key="sk-backup"
    )
    Model.objects.create(name="gpt-4o", provider=primary, input_price=5, output_price=15)
    Model.objects.create(name="gpt-4o-mini", provider=backup, input_price=0.15, output_price=0.6)
    load()
    return openai_upstream, fake_openai_backup


def sample(text: str, name: str, **labels: str) -> float:
    """One sample's value from /metrics text, 0 when absent."""
    wanted = name + "{" + ",".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"
    return next((float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(wanted + " ")), 0.0)
