"""The compiled program: celpy's transpiled Python, run as one function with literals bound once."""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Callable
from typing import Any

import celpy
from celpy import celtypes
from celpy.evaluation import CELEvalError, boolean


def _logical(combine: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """celpy's && and || turn two errors into a new "no such overload"; CEL keeps one of them,
    so a missing header stays a missing header however many times a rule reads it."""

    def logical(x: Any, y: Any) -> Any:
        if isinstance(x, CELEvalError) and not isinstance(y, celtypes.BoolType):
            return x
        if isinstance(y, CELEvalError) and not isinstance(x, celtypes.BoolType):
            return y
        return combine(x, y)

    return logical


_COMPARE = ("lt", "le", "gt", "ge", "eq", "ne")
# celpy.<module>.<name> in transpiled code → a faster equivalent (celpy builds each comparison
# wrapper anew on every call).
_FAST = {
    **{("evaluation", f"bool_{op}"): f"_bool_{op}" for op in _COMPARE},
    ("celtypes", "logical_and"): "_logical_and",
    ("celtypes", "logical_or"): "_logical_or",
}
# Each program's globals: no state is shared between evaluations, whereas celpy's own runner
# writes the result into module globals (unsafe with threads).
_GLOBALS: dict[str, Any] = {
    **vars(celpy.evaluation), "celpy": celpy, "operator": operator,
    **{f"_bool_{op}": boolean(getattr(operator, op)) for op in _COMPARE},
    "_logical_and": _logical(celtypes.logical_and),
    "_logical_or": _logical(celtypes.logical_or),
}
_LITERALS = frozenset({"BoolType", "BytesType", "DoubleType", "IntType", "ListType", "StringType",
                       "UintType"})
# celpy's has() yields a Python bool, which its `!` and `?:` reject: make it a CEL bool.
_HAS = re.compile(r"^(ex_\d+ = lambda activation: )"
                  r"(not isinstance\(celpy\.evaluation\.result\(.*\), CELEvalError\))$")


def build_program(transpiled: str) -> Callable[[Any], Any]:
    """The transpiled statements as one function of the activation, literals bound once."""
    lines = (_HAS.sub(r"\1celpy.celtypes.BoolType(\2)", line) for line in transpiled.splitlines())
    body = "\n".join(f"        {line}" for line in lines)
    module = ast.parse(f"def factory():\n    def rule(base_activation):\n{body}\n"
                       "        return CEL\n    return rule\n")
    folder = _Folder()
    module = folder.visit(module)
    factory: ast.FunctionDef = module.body[0]
    factory.args.args = [ast.arg(name, lineno=1, col_offset=0) for name in folder.names]
    namespace: dict[str, Any] = {}
    exec(compile(module, "<cel>", "exec"), _GLOBALS, namespace)  # noqa: S102 - celpy's own output
    return namespace["factory"](*folder.values)


class _Folder(ast.NodeTransformer):
    """Build each literal once per rule, not once per evaluation as celpy does."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.values: list[Any] = []

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        module = node.value.attr if isinstance(node.value, ast.Attribute) else ""
        fast = _FAST.get((module, node.attr))
        if fast and _in_celpy(node, module):
            return ast.copy_location(ast.Name(fast, ast.Load()), node)
        return self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        func = node.func
        if not (isinstance(func, ast.Attribute) and func.attr in _LITERALS
                and _in_celpy(func, "celtypes") and not node.keywords
                and all(map(self._fixed, node.args))):
            return node
        try:
            code = compile(ast.Expression(node), "<cel>", "eval")
            value = eval(code, _GLOBALS, dict(zip(self.names, self.values)))
        except Exception:  # noqa: BLE001 - e.g. int("x"): an error value at run time, as in CEL
            return node
        self.names.append(f"_k{len(self.names)}")
        self.values.append(value)
        return ast.copy_location(ast.Name(self.names[-1], ast.Load()), node)

    def _fixed(self, node: ast.AST) -> bool:
        if isinstance(node, ast.List):
            return all(map(self._fixed, node.elts))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            node = node.operand
        folded = isinstance(node, ast.Name) and node.id in self.names
        return folded or isinstance(node, ast.Constant)


def _in_celpy(node: ast.Attribute, module: str) -> bool:
    """`node` is `celpy.<module>.<name>`."""
    parent = node.value
    return (isinstance(parent, ast.Attribute) and parent.attr == module
            and isinstance(parent.value, ast.Name) and parent.value.id == "celpy")
