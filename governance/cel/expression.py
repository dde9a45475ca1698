"""A compiled rule: its variables, pre-filter demands and program, and its evaluation."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from celpy import celtypes
from celpy.evaluation import CELEvalError, base_functions

from governance.cel.variables import Check, Guard

# The package's logger name, which operators and tests filter on.
log = logging.getLogger("governance.cel")
_MAX_LOGGED_KINDS = 8


@dataclass(frozen=True)
class CompiledExpression:
    source: str
    variables: frozenset[str]  # the top-level variables the expression reads
    guards: tuple[Guard, ...] = field(default=(), repr=False, compare=False)
    checks: tuple[Check, ...] = field(default=(), repr=False, compare=False)
    program: Callable[[Any], Any] | None = field(default=None, repr=False, compare=False)
    _logged: set[str] = field(default_factory=set, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.program is None:  # built from a source alone: compile it the normal way
            from governance.cel.compiler import compile_expression  # the compiler builds these

            compiled = compile_expression(self.source)
            for name in ("guards", "checks", "program"):
                object.__setattr__(self, name, getattr(compiled, name))

    def evaluate(self, activation: Mapping[str, Any]) -> bool:
        """True only when the expression evaluates to true; any error is logged and is False."""
        try:
            value = self.program(Scope(activation))  # type: ignore[misc]
        except Exception as exc:  # noqa: BLE001 - a broken rule must never break a request
            value = exc
        if isinstance(value, celtypes.BoolType):
            return bool(value)
        self._report(value)
        return False

    def _report(self, value: Any) -> None:
        """Warn once per kind of failure (a missing header or param is a plain no-match)."""
        if isinstance(value, CELEvalError):
            if len(value.args) > 1 and value.args[1] is KeyError:
                return
            kind = str(value.args[0]).split(":")[0] if value.args else "error"
        elif isinstance(value, Exception):
            kind = type(value).__name__
        else:
            kind = f"non-boolean result ({type(value).__name__})"
        if kind not in self._logged and len(self._logged) < _MAX_LOGGED_KINDS:
            self._logged.add(kind)
            log.warning("routing rule %r does not match: %s: %.200s", self.source, kind, value)


class Scope:
    """The activation transpiled CEL reads: `activation.<name>`, nested for macro variables."""

    __slots__ = ("_parent", "_values")

    def __init__(self, values: Mapping[str, Any], parent: Scope | None = None) -> None:
        self._values = values
        self._parent = parent

    def __getattr__(self, name: str) -> Any:
        scope: Scope | None = self
        while scope is not None:
            if name in scope._values:
                return scope._values[name]
            scope = scope._parent
        if name in base_functions:  # a type name used as a value: `type(x) == string`
            return base_functions[name]
        raise KeyError(name)

    def resolve_variable(self, name: str) -> Any:
        return self.__getattr__(name)

    def nested_activation(self, annotations: Any = None, vars: Any = None) -> Scope:
        return Scope(vars or {}, self)
