"""Parse /register and /heartbeat bodies; each error names the field it is about."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from agents.errors import AgentInvalid
from agents.models import MAX_MODELS, MODEL_NAME_PATTERN, NAME_PATTERN
from agents.network import EndpointRefused, check_endpoint

_NAME = re.compile(NAME_PATTERN)
_MODEL = re.compile(MODEL_NAME_PATTERN)


@dataclass(frozen=True, slots=True)
class RegistrationInput:
    name: str
    endpoint: str
    models: list[str]


@dataclass(frozen=True, slots=True)
class HeartbeatInput:
    name: str
    models: list[str] | None  # None: keep the registered list


def _object(payload: Any) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise AgentInvalid("The body must be a JSON object.")
    return payload


def parse_name(value: Any) -> str:
    if value is None:
        raise AgentInvalid("'name' is required.", param="name")
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise AgentInvalid("'name' must be 1-63 letters, digits, '.', '_' or '-'.", param="name")
    return value


def parse_models(value: Any) -> list[str]:
    if value is None:
        raise AgentInvalid("'models' is required: a list of the model names this agent serves.",
                           param="models")
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_MODELS:
        raise AgentInvalid(f"'models' must be a list of 1 to {MAX_MODELS} model names.", param="models")
    seen: set[str] = set()
    for name in value:
        if not isinstance(name, str) or not _MODEL.fullmatch(name):
            raise AgentInvalid(
                f"Model name {str(name)[:80]!r} is invalid: use 1-200 letters, digits or '._:/-'.",
                param="models",
            )
        if name.lower() in seen:
            raise AgentInvalid(f"Model '{name}' is listed twice.", param="models")
        seen.add(name.lower())
    return list(value)


def parse_registration(payload: Any) -> RegistrationInput:
    data = _object(payload)
    name = parse_name(data.get("name"))
    try:
        endpoint = check_endpoint(data.get("endpoint"))  # type: ignore[arg-type]
    except EndpointRefused as exc:
        raise AgentInvalid(str(exc), param="endpoint") from None
    return RegistrationInput(name, endpoint, parse_models(data.get("models")))


def parse_heartbeat(payload: Any) -> HeartbeatInput:
    data = _object(payload)
    models = parse_models(data["models"]) if data.get("models") is not None else None
    return HeartbeatInput(parse_name(data.get("name")), models)
