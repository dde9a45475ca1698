"""CEL routing-rule expressions: checked and compiled on save, evaluated fast at request time.

INTERFACE STUB: the implementation lands with the rules engine work. Callers rely on
exactly these names and signatures.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")

# Every variable a rule may use, with what it holds (the README documents them).
VARIABLES: dict[str, str] = {}


class CelError(ValueError):
    """A rule that does not compile: a syntax error or an unknown variable, with its position."""

    def __init__(self, message: str, *, line: int | None = None, column: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


@dataclass(frozen=True)
class CompiledExpression:
    source: str
    variables: frozenset[str]  # the top-level variables the expression reads

    def evaluate(self, activation: Mapping[str, Any]) -> bool:
        """True only when the expression evaluates to true; any error is logged and is False."""
        raise NotImplementedError


def compile_expression(source: str) -> CompiledExpression:
    """Parse, check every identifier against VARIABLES, and compile; CelError otherwise."""
    raise NotImplementedError


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
        raise NotImplementedError

    def activation(self, names: frozenset[str]) -> Mapping[str, Any]:
        raise NotImplementedError


class RuleIndex(Generic[T]):
    """Rules in evaluation order (the caller sorts them); `first_match` returns the first true one's payload."""

    def __init__(self, rules: Sequence[tuple[CompiledExpression, T]]) -> None:
        raise NotImplementedError

    def first_match(self, facts: RequestFacts) -> T | None:
        raise NotImplementedError
