"""CEL routing-rule expressions: checked and compiled on save, evaluated fast at request time."""

from governance.cel.compiler import compile_expression
from governance.cel.expression import CompiledExpression
from governance.cel.facts import Caller, RequestFacts
from governance.cel.index import RuleIndex
from governance.cel.variables import SECRET_HEADERS, VARIABLES, CelError

__all__ = [
    "SECRET_HEADERS",
    "VARIABLES",
    "Caller",
    "CelError",
    "CompiledExpression",
    "RequestFacts",
    "RuleIndex",
    "compile_expression",
]
