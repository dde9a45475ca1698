"""Agent protocol helpers: register and heartbeat through Django, and the error shape."""

from __future__ import annotations

from typing import Any

from django.test import Client

SECRET = "reg-secret-5b1e"
MODEL = "local_mistral-7b-instruct-q4"
ENDPOINT = "http://127.0.0.1:5000"


def body(**fields: Any) -> dict[str, Any]:
    return {"name": "local-agent", "endpoint": ENDPOINT, "models": [MODEL], **fields}


def post(path: str, payload: Any, bearer: str | None = None, agent_token: str | None = None) -> Any:
    extra = {}
    if bearer is not None:
        extra["HTTP_AUTHORIZATION"] = f"Bearer {bearer}"
    if agent_token is not None:
        extra["HTTP_X_AGENT_TOKEN"] = agent_token
    return Client().post(path, payload, content_type="application/json", **extra)


def register(payload: Any = None, bearer: str | None = SECRET, agent_token: str | None = None) -> Any:
    return post("/register", body() if payload is None else payload, bearer, agent_token)


def heartbeat(token: str | None, payload: Any = None) -> Any:
    return post("/heartbeat", {"name": "local-agent"} if payload is None else payload, token)


def error(response: Any) -> dict[str, Any]:
    """The OpenAI-shaped error of a response (all four keys present)."""
    err = response.json()["error"]
    assert set(err) == {"message", "type", "param", "code"}
    return err
