"""The variables a routing rule may read, the sets derived from them, and the compile error."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# Every variable a rule may use, with what it holds (docs/cel-variables.md: types, examples).
VARIABLES: dict[str, str] = {
    "model": "the model as requested (string)",
    "provider": "the provider the model would reach, or an alias's virtual provider (string)",
    "request_type": 'the kind of request: "chat" (string)',
    "messages": "the messages as sent: a list of {role, content} maps",
    "message_count": "number of messages (int)",
    "headers": "request headers: lower-cased names, string values, no credentials (map)",
    "params": "the other top-level body fields as sent, without tools and functions (map)",
    "capabilities": 'what the request needs: "text", "vision", "tools" (list of strings)',
    "estimated_tokens": "rough prompt size: ceil(text characters / 4) + 4 per message (int)",
    "tool_count": "number of tools sent (int)",
    "virtual_key": 'name of the caller\'s virtual key, "" when anonymous (string)',
    "team": 'name of the caller\'s team, "" when none (string)',
    "customer": 'name of the caller\'s customer, "" when none (string)',
    "virtual_key_id": 'id of the caller\'s virtual key, "" when anonymous (string; Bifrost)',
    "virtual_key_name": "same as virtual_key (string; Bifrost)",
    "team_id": 'id of the caller\'s team, "" when none (string; Bifrost)',
    "team_name": "same as team (string; Bifrost)",
    "customer_id": 'id of the caller\'s customer, "" when none (string; Bifrost)',
    "customer_name": "same as customer (string; Bifrost)",
}
SECRET_HEADERS = frozenset({"authorization", "x-api-key", "cookie", "proxy-authorization"})
COUNTS = frozenset({"message_count", "estimated_tokens", "tool_count"})
# The string variables a top-level `==` / `in` may pin for the RuleIndex pre-filter.
STRINGS = frozenset(VARIABLES) - COUNTS - {"messages", "headers", "params", "capabilities"}
MACROS = frozenset({"map", "filter", "all", "exists", "exists_one"})
TYPE_NAMES = frozenset({"bool", "bytes", "double", "int", "list", "map", "string", "type", "uint"})

Guard = tuple[str, frozenset[str]]  # a RequestFacts.lookup key; the strings it must be one of
Check = tuple[str, Callable[[Any], bool]]  # a RequestFacts.lookup key; a test its value must pass


class CelError(ValueError):
    """A rule that does not compile: a syntax error or an unknown variable, with its position."""

    def __init__(self, message: str, *, line: int | None = None, column: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column
