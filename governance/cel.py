"""CEL routing-rule expressions: checked and compiled on save, evaluated fast at request time."""

from __future__ import annotations

import ast
import functools
import logging
import operator
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import celpy
import lark
from celpy import celtypes
from celpy.celparser import CELParser
from celpy.evaluation import (
    CELEvalError,
    CELSyntaxError,
    CELUnsupportedError,
    Transpiler,
    TranspilerTree,
    base_functions,
    boolean,
    celstr,
)

T = TypeVar("T")
log = logging.getLogger(__name__)

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
_COUNTS = frozenset({"message_count", "estimated_tokens", "tool_count"})
# The string variables a top-level `==` / `in` may pin for the RuleIndex pre-filter.
_STRINGS = frozenset(VARIABLES) - _COUNTS - {"messages", "headers", "params", "capabilities"}
_MACROS = frozenset({"map", "filter", "all", "exists", "exists_one"})
_TYPE_NAMES = frozenset({"bool", "bytes", "double", "int", "list", "map", "string", "type", "uint"})
_MAX_LOGGED_KINDS = 8

Guard = tuple[str, frozenset[str]]  # a RequestFacts.lookup key; the strings it must be one of
Check = tuple[str, Callable[[Any], bool]]  # a RequestFacts.lookup key; a test its value must pass


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
    guards: tuple[Guard, ...] = field(default=(), repr=False, compare=False)
    checks: tuple[Check, ...] = field(default=(), repr=False, compare=False)
    program: Callable[[Any], Any] | None = field(default=None, repr=False, compare=False)
    _logged: set[str] = field(default_factory=set, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.program is None:  # built from a source alone: compile it the normal way
            compiled = compile_expression(self.source)
            for name in ("guards", "checks", "program"):
                object.__setattr__(self, name, getattr(compiled, name))

    def evaluate(self, activation: Mapping[str, Any]) -> bool:
        """True only when the expression evaluates to true; any error is logged and is False."""
        try:
            value = self.program(_Scope(activation))  # type: ignore[misc]
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


class _Scope:
    """The activation transpiled CEL reads: `activation.<name>`, nested for macro variables."""

    __slots__ = ("_parent", "_values")

    def __init__(self, values: Mapping[str, Any], parent: _Scope | None = None) -> None:
        self._values = values
        self._parent = parent

    def __getattr__(self, name: str) -> Any:
        scope: _Scope | None = self
        while scope is not None:
            if name in scope._values:
                return scope._values[name]
            scope = scope._parent
        if name in base_functions:  # a type name used as a value: `type(x) == string`
            return base_functions[name]
        raise KeyError(name)

    def resolve_variable(self, name: str) -> Any:
        return self.__getattr__(name)

    def nested_activation(self, annotations: Any = None, vars: Any = None) -> _Scope:
        return _Scope(vars or {}, self)


# -- compiling -----------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def compile_expression(source: str) -> CompiledExpression:
    """Parse, check every identifier against VARIABLES, and compile; CelError otherwise."""
    if not source.strip():
        raise CelError("the expression is empty", line=1, column=1)
    try:
        tree = _parse(source)
        variables = frozenset(_check(tree, frozenset()))
        _check_constant(tree)
        guards, checks = _prefilter(tree)
        transpiler = Transpiler(ast=tree, activation=celpy.Activation())
        transpiler.transpile()
        program = _program(transpiler.source_text)
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
        raise CelError(f"syntax error: unexpected character {source[exc.pos_in_stream]!r}",
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
        if children[0] in bound or children[0] in _TYPE_NAMES:
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
        yield from _check(children[0], bound)  # type: ignore[arg-type]
        method, children = children[1], children[2:]
        if method in _MACROS:
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
    name = _bare_ident(exprs[0]) if len(exprs) == 2 else None
    if name is None:
        raise _fail(f"'{macro}' takes a variable name and an expression", macro)
    if name.startswith("_") or hasattr(_Scope, name):
        raise _fail(f"'{name}' cannot be used as a variable name", name)
    yield from _check(exprs[1], bound | {str(name)})  # type: ignore[arg-type]


def _check_constant(tree: lark.Tree) -> None:
    node = _single(tree)
    constant = isinstance(node, lark.Tree) and node.data == "literal"
    if constant and node.children[0].type != "BOOL_LIT":
        raise _fail("the expression must be a condition (true or false), not a constant", node)


# -- the compiled program: celpy's transpiled Python, run as one function ------------------


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


def _program(transpiled: str) -> Callable[[Any], Any]:
    """The transpiled statements as one function of the activation, literals bound once."""
    lines = (_HAS.sub(r"\1celpy.celtypes.BoolType(\2)", line) for line in transpiled.splitlines())
    body = "\n".join(f"        {line}" for line in lines)
    module = ast.parse(f"def factory():\n    def rule(base_activation):\n{body}\n"
                       "        return CEL\n    return rule\n")
    folder = _Folder()
    module = folder.visit(module)
    factory: ast.FunctionDef = module.body[0]  # type: ignore[assignment]
    factory.args.args = [ast.arg(name, lineno=1, col_offset=0) for name in folder.names]
    namespace: dict[str, Any] = {}
    exec(compile(module, "<cel>", "exec"), _GLOBALS, namespace)  # noqa: S102 - celpy's own output
    return namespace["factory"](*folder.values)  # type: ignore[no-any-return]


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


# -- pre-filter: what a rule demands, testable in plain Python -------------------------------

_WRAPPERS = frozenset({"expr", "conditionalor", "conditionaland", "relation", "addition",
                       "multiplication", "unary", "member", "primary", "paren_expr"})
_ORDER = {"relation_lt": operator.lt, "relation_le": operator.le, "relation_gt": operator.gt,
          "relation_ge": operator.ge, "relation_eq": operator.eq, "relation_ne": operator.ne}
_MIRROR = {operator.lt: operator.gt, operator.le: operator.ge, operator.gt: operator.lt,
           operator.ge: operator.le, operator.eq: operator.eq, operator.ne: operator.ne}


def _prefilter(tree: lark.Tree) -> tuple[tuple[Guard, ...], tuple[Check, ...]]:
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
            elif _bare_ident(right) == "capabilities" and (wanted := _string(left)) is not None:
                needs = functools.partial(_flipped, operator.contains, wanted)
                checks.append(("capabilities", needs))
    checks[:0] = [(key, values.__contains__) for key, values in guards]
    return tuple(guards), tuple(checks)


def _flipped(test: Callable[[Any, Any], bool], literal: Any, value: Any) -> bool:
    return test(value, literal)


def _single(tree: Any) -> Any:
    """Descend through nodes with one child (expr → … → primary, parentheses)."""
    while isinstance(tree, lark.Tree) and tree.data in _WRAPPERS and len(tree.children) == 1:
        tree = tree.children[0]
    return tree


def _conjuncts(tree: Any) -> Iterator[Any]:
    node = _single(tree)
    if isinstance(node, lark.Tree) and node.data == "conditionaland" and len(node.children) == 2:
        yield from _conjuncts(node.children[0])
        yield from _conjuncts(node.children[1])
    else:
        yield node


def _bare_ident(tree: Any) -> lark.Token | None:
    node = _single(tree)
    return node.children[0] if isinstance(node, lark.Tree) and node.data == "ident" else None


def _literal(tree: Any, *types: str) -> lark.Token | None:
    node = _single(tree)
    if isinstance(node, lark.Tree) and node.data == "literal" and node.children[0].type in types:
        return node.children[0]  # type: ignore[no-any-return]
    return None


def _string(tree: Any) -> str | None:
    token = _literal(tree, "STRING_LIT", "MLSTRING_LIT")
    return str(celstr(token)) if token is not None else None


def _strings(tree: Any) -> frozenset[str] | None:
    node = _single(tree)
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
    node = _single(tree)
    if isinstance(node, lark.Tree) and node.data == "ident" and node.children[0] in _STRINGS:
        return str(node.children[0])
    if isinstance(node, lark.Tree) and node.data == "member_index":
        key = _string(node.children[1])
        if _bare_ident(node.children[0]) == "headers" and key is not None:
            return f"headers:{key}"
    return None


def _count(tree: Any) -> str | None:
    name = _bare_ident(tree)
    return str(name) if name in _COUNTS else None


# -- request facts ---------------------------------------------------------------------------


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
        return self.lookup("headers")  # type: ignore[no-any-return]

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


# -- the index -------------------------------------------------------------------------------


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
