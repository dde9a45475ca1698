"""`POST /register` and `POST /heartbeat`: the agent protocol, answered in the data plane's error shape."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from agents.errors import AgentError, AgentInvalid
from agents.services import agent_heartbeat, agent_register

View = Callable[[HttpRequest, Any], JsonResponse]


def _seconds(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


def _bearer(request: HttpRequest) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return (token.strip() or None) if scheme.lower() == "bearer" else None


def agent_endpoint(view: View) -> Callable[[HttpRequest], JsonResponse]:
    """POST only, a JSON body handed to the view, AgentError rendered as OpenAI-style JSON."""

    @csrf_exempt
    @functools.wraps(view)
    def wrapper(request: HttpRequest) -> JsonResponse:
        try:
            if request.method != "POST":
                raise AgentError(f"Use POST for {request.path}", status=405,
                                 type="invalid_request_error", code="method_not_allowed",
                                 headers={"Allow": "POST"})
            try:
                payload = json.loads(request.body or b"null")
            except ValueError:
                raise AgentInvalid("The body is not valid JSON.") from None
            return view(request, payload)
        except AgentError as error:
            response = JsonResponse(error.body(), status=error.status)
            for header, value in error.headers.items():
                response[header] = value
            return response

    return wrapper


@agent_endpoint
def register(request: HttpRequest, payload: Any) -> JsonResponse:
    registration = agent_register(
        secret=_bearer(request), agent_token=request.headers.get("X-Agent-Token"), payload=payload
    )
    agent = registration.agent
    body = {
        "name": agent.name,
        "token": registration.token,
        "heartbeat_interval": _seconds(settings.AGENT_HEARTBEAT_INTERVAL),
        "models": agent.models,
    }
    return JsonResponse(body, status=201 if registration.created else 200)


@agent_endpoint
def heartbeat(request: HttpRequest, payload: Any) -> JsonResponse:
    agent_heartbeat(token=_bearer(request), payload=payload)
    return JsonResponse(
        {"status": "alive", "heartbeat_interval": _seconds(settings.AGENT_HEARTBEAT_INTERVAL)}
    )
