"""Pre-filter: what a rule's top-level `&&` demands, testable in plain Python before CEL."""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Iterator
from typing import Any

import lark
from celpy.evaluation import celstr

from governance.cel.variables import COUNTS, STRINGS, Check, Guard

_WRAPPERS = frozenset({"expr", "conditionalor", "conditionaland", "relation", "addition",
                       "multiplication", "unary", "member", "primary", "paren_expr"})
_ORDER = {"relation_lt": operator.lt, "relation_le": operator.le, "relation_gt": operator.gt,
          "relation_ge": operator.ge, "relation_eq": operator.eq, "relation_ne": operator.ne}
_MIRROR = {operator.lt: operator.gt, operator.le: operator.ge, operator.gt: operator.lt,
           operator.ge: operator.le, operator.eq: operator.eq, operator.ne: operator.ne}


def guards_and_checks(tree: lark.Tree) -> tuple[tuple[Guard, ...], tuple[Check, ...]]:
    """What the top-level `&&` operands demand; one false operand makes the rule false.

    Guards: `x == "lit"`, `"lit" == x`, `x in ["a", "b"]`, x a string variable or `headers["h"]`.
    Checks: every guard, plus `n <op> 42` either way round (n a count) and `"lit" in capabilities`.
    """
    guards: list[Guard] = []
    checks: list[Check] = []
    for node in _conjuncts(tree):
        if not (isinstance(node, lark.Tree) and node.data == "relation"):
            continue
        if len(node.children) != 2:  # a lone operand: no comparison
            continue
        op, right = node.children
        left = op.children[0]
        if op.data == "relation_eq":
            for subject, literal in ((_subject(left), _string(right)),
                                     (_subject(right), _string(left))):
                if subject is not None and literal is not None:
                    guards.append((subject, frozenset({literal})))
                    break
        if op.data in _ORDER:
            test = _ORDER[op.data]
            for name, number, compare in ((_count(left), _int(right), test),
                                          (_count(right), _int(left), _MIRROR[test])):
                if name is not None and number is not None:
                    checks.append((name, functools.partial(_flipped, compare, number)))
                    break
        elif op.data == "relation_in":
            if (subject := _subject(left)) is not None and (values := _strings(right)) is not None:
                guards.append((subject, values))
            elif bare_ident(right) == "capabilities" and (wanted := _string(left)) is not None:
                needs = functools.partial(_flipped, operator.contains, wanted)
                checks.append(("capabilities", needs))
    checks[:0] = [(key, values.__contains__) for key, values in guards]
    return tuple(guards), tuple(checks)


def _flipped(test: Callable[[Any, Any], bool], literal: Any, value: Any) -> bool:
    return test(value, literal)


def single(tree: Any) -> Any:
    """Descend through nodes with one child (expr → … → primary, parentheses)."""
    while isinstance(tree, lark.Tree) and tree.data in _WRAPPERS and len(tree.children) == 1:
        tree = tree.children[0]
    return tree


def _conjuncts(tree: Any) -> Iterator[Any]:
    node = single(tree)
    if isinstance(node, lark.Tree) and node.data == "conditionaland" and len(node.children) == 2:
        yield from _conjuncts(node.children[0])
        yield from _conjuncts(node.children[1])
    else:
        yield node


def _token(node: Any, data: str) -> lark.Token | None:
    """The token an `ident` or `literal` node wraps (the grammar gives each exactly one)."""
    if isinstance(node, lark.Tree) and node.data == data and isinstance(node.children[0], lark.Token):
        return node.children[0]
    return None


def bare_ident(tree: Any) -> lark.Token | None:
    return _token(single(tree), "ident")


def _literal(tree: Any, *types: str) -> lark.Token | None:
    token = _token(single(tree), "literal")
    return token if token is not None and token.type in types else None


def _string(tree: Any) -> str | None:
    token = _literal(tree, "STRING_LIT", "MLSTRING_LIT")
    return str(celstr(token)) if token is not None else None


def _strings(tree: Any) -> frozenset[str] | None:
    node = single(tree)
    if not (isinstance(node, lark.Tree) and node.data == "list_lit" and node.children):
        return None
    values = [_string(item) for item in node.children[0].children]
    return frozenset(values) if None not in values else None  # type: ignore[arg-type]


def _int(tree: Any) -> int | None:
    token = _literal(tree, "INT_LIT")
    try:
        return int(token, 0) if token is not None else None
    except ValueError:  # e.g. a leading zero
        return None


def _subject(tree: Any) -> str | None:
    """A string variable, or `headers["name"]` as "headers:name"."""
    node = single(tree)
    if isinstance(node, lark.Tree) and node.data == "ident" and node.children[0] in STRINGS:
        return str(node.children[0])
    if isinstance(node, lark.Tree) and node.data == "member_index":
        key = _string(node.children[1])
        if bare_ident(node.children[0]) == "headers" and key is not None:
            return f"headers:{key}"
    return None


def _count(tree: Any) -> str | None:
    name = bare_ident(tree)
    return str(name) if name in COUNTS else None
