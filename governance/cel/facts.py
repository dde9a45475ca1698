"""Request facts: the caller and the values rules see for one request, converted to CEL lazily."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from celpy import celtypes

from governance.cel.variables import SECRET_HEADERS


@dataclass(frozen=True)
class Caller:
    """Who is calling, from the virtual key (all None for an anonymous caller)."""

    key_id: str | None = None
    key_name: str | None = None
    team_id: str | None = None
    team_name: str | None = None
    customer_id: str | None = None
    customer_name: str | None = None


class RequestFacts:
    """The values rules see for one request, converted to CEL lazily and only as needed."""

    def __init__(
        self,
        *,
        body: Mapping[str, Any],
        model: str,
        provider: str,
        request_type: str,
        capabilities: frozenset[str],
        headers: Mapping[str, str],
        caller: Caller,
    ) -> None:
        self._body = body
        self._raw_headers = headers
        self._plain: dict[str, Any] = {  # plain Python values; the others are added on first use
            "model": model,
            "provider": provider,
            "request_type": request_type,
            "capabilities": capabilities,
            "virtual_key": caller.key_name or "",
            "team": caller.team_name or "",
            "customer": caller.customer_name or "",
            "virtual_key_id": caller.key_id or "",
            "virtual_key_name": caller.key_name or "",
            "team_id": caller.team_id or "",
            "team_name": caller.team_name or "",
            "customer_id": caller.customer_id or "",
            "customer_name": caller.customer_name or "",
        }
        self._cel: dict[str, Any] = {}

    def activation(self, names: frozenset[str]) -> Mapping[str, Any]:
        """CEL values for at least `names`; each is converted once per request."""
        values = self._cel
        for name in names:
            if name not in values:
                values[name] = _to_cel(self._cel_shaped(name))
        return values

    def lookup(self, key: str) -> Any:
        """A variable's plain Python value, or "headers:<name>"'s (None when absent)."""
        if key.startswith("headers:"):
            return self.headers.get(key[8:])
        if key not in self._plain:
            self._plain[key] = self._compute(key)
        return self._plain[key]

    @property
    def headers(self) -> dict[str, str]:
        """Lower-cased names to string values, credentials left out."""
        return self.lookup("headers")

    def _compute(self, name: str) -> Any:
        if name == "headers":
            return {key.lower(): value for key, value in self._raw_headers.items()
                    if isinstance(key, str) and isinstance(value, str)
                    and key.lower() not in SECRET_HEADERS}
        if name == "messages":
            messages = self._body.get("messages")
            listed = messages if isinstance(messages, list) else []
            return [m for m in listed if isinstance(m, Mapping)]
        if name == "message_count":
            return len(self.lookup("messages"))
        if name == "estimated_tokens":
            return _estimate_tokens(self.lookup("messages"))
        if name == "tool_count":
            tools = self._body.get("tools")
            return len(tools) if isinstance(tools, list) else 0
        if name == "params":
            skip = ("model", "messages", "tools", "functions")
            return {key: value for key, value in self._body.items() if key not in skip}
        raise KeyError(name)

    def _cel_shaped(self, name: str) -> Any:
        value = self.lookup(name)
        if name == "messages":
            return [{"role": m.get("role"), "content": m.get("content")} for m in value]
        return sorted(value) if name == "capabilities" else value


def _estimate_tokens(messages: list[Mapping[str, Any]]) -> int:
    """ceil(characters of text content / 4) + 4 per message; images and tools do not count."""
    chars = 0
    for message in messages:
        content = message.get("content")
        if isinstance(content, str):
            chars += len(content)
        elif isinstance(content, list):
            chars += sum(len(part["text"]) for part in content
                         if isinstance(part, dict) and isinstance(part.get("text"), str))
    return -(-chars // 4) + 4 * len(messages)


_INT64 = range(-(2**63), 2**63)


def _to_cel(value: Any) -> Any:
    """JSON-shaped Python to CEL, several times faster than celpy's json_to_cel (whose IntType
    and MapType constructors re-check every value); an int beyond int64 becomes a double."""
    if isinstance(value, str):
        return celtypes.StringType(value)
    if isinstance(value, dict):
        converted = celtypes.MapType()
        dict.update(converted, {_to_cel(k): _to_cel(v) for k, v in value.items()})
        return converted
    if isinstance(value, bool):
        return celtypes.BoolType(value)
    if isinstance(value, int):
        if value in _INT64:
            return int.__new__(celtypes.IntType, value)
        return celtypes.DoubleType(value)
    if isinstance(value, float):
        return celtypes.DoubleType(value)
    if isinstance(value, (list, tuple)):
        return celtypes.ListType([_to_cel(item) for item in value])
    if isinstance(value, Mapping):
        return _to_cel(dict(value))
    return None  # null, or nothing a JSON body holds
