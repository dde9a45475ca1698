"""Agent protocol errors, rendered in the data plane's OpenAI error shape."""

from __future__ import annotations

from gateway.dataplane.errors import GatewayError


class AgentError(GatewayError):
    """Base of the errors /register and /heartbeat answer with; nothing was changed."""


class AgentInvalid(AgentError):
    status = 400
    type = "invalid_request_error"
    code = "invalid_value"


class AgentUnauthorized(AgentError):
    status = 401
    type = "authentication_error"
    code = "invalid_token"

    def __init__(self, message: str) -> None:
        super().__init__(message, headers={"WWW-Authenticate": "Bearer"})


class AgentConflict(AgentError):
    status = 409
    type = "invalid_request_error"
    code = "conflict"


class RegistrationDisabled(AgentError):
    status = 503
    type = "configuration_error"
    code = "registration_disabled"
