"""Compiling a rule: parse, check every identifier against VARIABLES, transpile to a program."""

from __future__ import annotations

import functools
from collections.abc import Iterator

import celpy
import lark
from celpy.celparser import CELParser
from celpy.evaluation import (
    CELSyntaxError,
    CELUnsupportedError,
    Transpiler,
    TranspilerTree,
    base_functions,
)

from governance.cel.expression import CompiledExpression, Scope
from governance.cel.prefilter import bare_ident, guards_and_checks, single
from governance.cel.program import build_program
from governance.cel.variables import MACROS, TYPE_NAMES, VARIABLES, CelError


@functools.lru_cache(maxsize=4096)
def compile_expression(source: str) -> CompiledExpression:
    """Parse, check every identifier against VARIABLES, and compile; CelError otherwise."""
    if not source.strip():
        raise CelError("the expression is empty", line=1, column=1)
    try:
        tree = _parse(source)
        variables = frozenset(_check(tree, frozenset()))
        _check_constant(tree)
        guards, checks = guards_and_checks(tree)
        transpiler = Transpiler(ast=tree, activation=celpy.Activation())
        transpiler.transpile()
        program = build_program(transpiler.source_text)
    except RecursionError:
        raise CelError("the expression is nested too deeply", line=1, column=1) from None
    except (CELSyntaxError, CELUnsupportedError) as exc:
        raise CelError(f"unsupported: {exc.args[0]}", line=exc.line, column=exc.column) from None
    except SyntaxError:  # celpy transpiled something Python cannot compile
        raise CelError("unsupported expression", line=1, column=1) from None
    return CompiledExpression(source, variables, guards, checks, program)


@functools.cache
def _parser() -> lark.Lark:
    """Our own Lark parser building TranspilerTrees (celpy shares one class-level parser)."""
    previous, CELParser.CEL_PARSER = CELParser.CEL_PARSER, None
    try:
        CELParser(tree_class=TranspilerTree)
        return CELParser.CEL_PARSER  # type: ignore[return-value]
    finally:
        CELParser.CEL_PARSER = previous or CELParser.CEL_PARSER


def _parse(source: str) -> TranspilerTree:
    try:
        return _parser().parse(source)  # type: ignore[return-value]
    except lark.exceptions.UnexpectedToken as exc:
        if exc.token.type == "$END":
            lines = source.splitlines() or [""]
            raise CelError("syntax error: the expression ends too early",
                           line=len(lines), column=len(lines[-1]) + 1) from None
        raise CelError(f"syntax error: unexpected '{exc.token}'",
                       line=exc.line, column=exc.column) from None
    except lark.exceptions.UnexpectedCharacters as exc:
        raise CelError(f"syntax error: unexpected character {exc.char!r}",
                       line=exc.line, column=exc.column) from None
    except lark.exceptions.LarkError as exc:
        raise CelError(f"syntax error: {str(exc).splitlines()[0]}") from None


def _fail(message: str, node: lark.Tree | lark.Token) -> CelError:
    where = node if isinstance(node, lark.Token) else node.meta
    line, column = getattr(where, "line", None), getattr(where, "column", None)
    return CelError(message, line=line, column=column)


def _check(tree: lark.Tree, bound: frozenset[str]) -> Iterator[str]:
    """Yield the variables the tree reads; CelError for an unknown name or function."""
    kind, children = tree.data, tree.children
    if kind in ("ident", "dot_ident"):
        if children[0] in bound or children[0] in TYPE_NAMES:
            return
        if children[0] not in VARIABLES:
            raise _fail(f"unknown variable '{children[0]}'", children[0])
        yield str(children[0])
        return
    if kind in ("ident_arg", "dot_ident_arg"):
        if children[0] not in base_functions and children[0] not in ("has", "dyn"):
            raise _fail(f"unknown function '{children[0]}'", children[0])
        children = children[1:]
    elif kind == "member_dot_arg":
        yield from _check(children[0], bound)
        method, children = children[1], children[2:]
        if method in MACROS:
            yield from _check_macro(method, children, bound)  # type: ignore[arg-type]
            return
        if method not in base_functions:
            raise _fail(f"unknown function '{method}'", method)
    elif kind == "member_object":
        raise _fail("message construction is not supported", tree)
    elif kind == "member_dot":
        children = children[:1]  # the field name is not a variable
    for child in children:
        if isinstance(child, lark.Tree):
            yield from _check(child, bound)


def _check_macro(macro: lark.Token, args: list[lark.Tree], bound: frozenset[str]) -> Iterator[str]:
    exprs = args[0].children if args else []
    name = bare_ident(exprs[0]) if len(exprs) == 2 else None
    if name is None:
        raise _fail(f"'{macro}' takes a variable name and an expression", macro)
    if name.startswith("_") or hasattr(Scope, name):
        raise _fail(f"'{name}' cannot be used as a variable name", name)
    yield from _check(exprs[1], bound | {str(name)})


def _check_constant(tree: lark.Tree) -> None:
    node = single(tree)
    constant = isinstance(node, lark.Tree) and node.data == "literal"
    if constant and node.children[0].type != "BOOL_LIT":
        raise _fail("the expression must be a condition (true or false), not a constant", node)
