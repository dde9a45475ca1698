"""RuleIndex: rules in evaluation order, pre-filtered by the string values they pin."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Generic, TypeVar

from governance.cel.expression import CompiledExpression
from governance.cel.facts import RequestFacts

T = TypeVar("T")


class RuleIndex(Generic[T]):
    """Rules in evaluation order (the caller sorts them); `first_match` returns the first true
    one's payload.

    Pre-filter: a rule whose top-level `&&` pins a string to literals (`model == "gpt-4o"`,
    `team in ["a", "b"]`, `headers["x-tier"] == "premium"`) cannot be true for a request with
    another value. Each such rule is filed under its first guard's (key, value), so a request
    visits only the rules filed under its own values plus the unfiled ones, still in list
    order; a visited rule's other checks run in Python before its CEL does.
    """

    def __init__(
        self, rules: Sequence[tuple[CompiledExpression, T]], *, prefilter: bool = True
    ) -> None:
        self._rules = list(rules)
        self._prefilter = prefilter
        self._unfiled: list[int] = []
        self._filed: dict[str, dict[str, list[int]]] = {}
        for position, (expression, _) in enumerate(self._rules):
            if not (prefilter and expression.guards):
                self._unfiled.append(position)
                continue
            key, values = expression.guards[0]
            table = self._filed.setdefault(key, {})
            for value in values:
                table.setdefault(value, []).append(position)

    def first_match(self, facts: RequestFacts) -> T | None:
        groups = [self._unfiled] if self._unfiled else []
        for key, table in self._filed.items():
            if hit := table.get(facts.lookup(key)):
                groups.append(hit)
        positions = groups[0] if len(groups) == 1 else sorted(p for group in groups for p in group)
        for position in positions:
            expression, payload = self._rules[position]
            checks = expression.checks if self._prefilter else ()
            if not all(test(facts.lookup(key)) for key, test in checks):
                continue
            if expression.evaluate(facts.activation(expression.variables)):
                return payload
        return None
