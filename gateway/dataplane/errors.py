"""Data-plane errors, each rendered in OpenAI's error shape."""

from __future__ import annotations

from typing import Any

import orjson


class GatewayError(Exception):
    status = 500
    type = "server_error"
    code: str | None = None

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        status: int | None = None,
        type: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        if type is not None:
            self.type = type
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}

    def json(self) -> bytes:
        return orjson.dumps(self.body())


class InvalidRequest(GatewayError):
    status = 400
    type = "invalid_request_error"
    code = "invalid_value"


class InvalidApiKey(GatewayError):
    status = 401
    type = "invalid_request_error"
    code = "invalid_api_key"


class ModelNotFound(GatewayError):
    status = 404
    type = "invalid_request_error"
    code = "model_not_found"


class ModelUnavailable(GatewayError):
    """The registry knows the model, but nothing that serves it is available now."""

    status = 503
    type = "server_error"
    code = "model_unavailable"


class ProviderNotConfigured(GatewayError):
    """A candidate's provider lacks what it needs (a key, a base URL); the message names the variable."""

    status = 503
    type = "configuration_error"
    code = "provider_not_configured"


class BadGateway(GatewayError):
    status = 502
    type = "upstream_error"
    code = "bad_upstream_response"


class UpstreamTimeout(GatewayError):
    status = 504
    type = "upstream_error"
    code = "upstream_timeout"


class UpstreamUnavailable(GatewayError):
    status = 502
    type = "upstream_error"
    code = "upstream_unreachable"
