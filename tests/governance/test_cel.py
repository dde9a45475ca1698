"""CEL routing rules: variables, compile errors with positions, evaluation, the pre-filter."""

from __future__ import annotations

import logging
import random
from typing import Any

import pytest

from governance.cel import (
    VARIABLES,
    Caller,
    CelError,
    CompiledExpression,
    RequestFacts,
    RuleIndex,
    compile_expression,
)

BODY: dict[str, Any] = {
    "model": "gpt-4o",
    "messages": [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": [
            {"type": "text", "text": "This is urgent"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA"}},
        ]},
    ],
    "temperature": 0.9,
    "max_tokens": 500,
    "stream": True,
    "tools": [{"type": "function", "function": {"name": "lookup"}}],
    "tool_choice": "auto",
    "user": "alice",
}
CALLER = Caller(key_id="vk-1", key_name="prod-app", team_id="t-1", team_name="ml",
                customer_id="c-1", customer_name="acme")


SECRET_AND_TIER = {"X-Tier": "premium", "Authorization": "Bearer sk-secret", "X-Api-Key": "k",
                   "Cookie": "c=1", "Proxy-Authorization": "p"}


def facts(
    body: dict[str, Any] | None = None,
    *,
    model: str = "gpt-4o",
    headers: dict[str, Any] | None = None,
    caller: Caller = CALLER,
    capabilities: frozenset[str] = frozenset({"text", "vision", "tools"}),
) -> RequestFacts:
    return RequestFacts(
        body=BODY if body is None else body, model=model, provider="openai", request_type="chat",
        capabilities=capabilities, caller=caller,
        headers=SECRET_AND_TIER if headers is None else headers,
    )


def matches(source: str, request: RequestFacts | None = None) -> bool:
    expression = compile_expression(source)
    return expression.evaluate((request or facts()).activation(expression.variables))


# One true expression per variable, over BODY / CALLER above.
TRUE_FOR = {
    "model": 'model == "gpt-4o"',
    "provider": 'provider == "openai"',
    "request_type": 'request_type == "chat"',
    "messages": 'messages[0].role == "system" && messages[0].content == "You are terse."',
    "message_count": "message_count == 2",
    "headers": 'headers["x-tier"] == "premium"',
    "params": "params.max_tokens == 500 && params.stream && params.user == 'alice'"
              " && params.tool_choice == 'auto'",
    "capabilities": '"tools" in capabilities',
    "estimated_tokens": "estimated_tokens == 15",  # ceil((14 + 14) / 4) + 4 * 2
    "tool_count": "tool_count == 1",
    "virtual_key": 'virtual_key == "prod-app"',
    "team": 'team == "ml"',
    "customer": 'customer == "acme"',
    "virtual_key_id": 'virtual_key_id == "vk-1"',
    "virtual_key_name": 'virtual_key_name == "prod-app"',
    "team_id": 'team_id == "t-1"',
    "team_name": 'team_name == "ml"',
    "customer_id": 'customer_id == "c-1"',
    "customer_name": 'customer_name == "acme"',
}


def test_every_variable_is_documented_and_tested() -> None:
    assert set(TRUE_FOR) == set(VARIABLES)


@pytest.mark.parametrize("name", sorted(TRUE_FOR))
def test_every_variable_is_usable(name: str) -> None:
    expression = compile_expression(TRUE_FOR[name])
    assert name in expression.variables
    assert expression.evaluate(facts().activation(expression.variables))


@pytest.mark.parametrize("source", [
    'headers["x-tier"] == "premium" && model.startsWith("gpt-")',
    'team_name == "ml"',
    "params.temperature > 0.7",
    'messages.exists(m, m.role == "system" && m.content.contains("terse"))',
    '"vision" in capabilities',
    "estimated_tokens > 10",
    'virtual_key_name.startsWith("prod-") && customer_id == "c-1"',
    'headers["x-tier"] in ["premium", "enterprise"]',
    'model.matches("^gpt-[0-9]")',
    "has(params.temperature) && !has(params.top_p)",
    "size(messages) == 2 && messages.all(m, m.role != 'tool')",
    'messages.filter(m, m.role == "user").size() == 1',
    '(model == "gpt-4o" || model == "gpt-4o-mini") && params.stream == true',
])
def test_bifrost_style_expressions_match(source: str) -> None:
    assert matches(source)


@pytest.mark.parametrize("source", [
    'team_name == "research"',
    "estimated_tokens > 1000",
    'model.startsWith("claude-")',
    '!("vision" in capabilities)',
])
def test_false_expressions_do_not_match(source: str) -> None:
    assert not matches(source)


@pytest.mark.parametrize("source, line, column", [
    ('model == "gpt-4o" &&& team == "ml"', 1, 21),
    ('model == "gpt-4o" &&\n  team == = "ml"', 2, 11),
    ('model == "gpt-4o" &&\n  (headers[', 2, 12),
    ("model == 'unterminated", 1, 10),
])
def test_syntax_error_gives_line_and_column(source: str, line: int, column: int) -> None:
    with pytest.raises(CelError) as caught:
        compile_expression(source)
    assert caught.value.message.startswith("syntax error")
    assert (caught.value.line, caught.value.column) == (line, column)


def test_unknown_variable_gives_its_name_and_position() -> None:
    with pytest.raises(CelError) as caught:
        compile_expression('model == "gpt-4o" &&\n  tier == "premium"')
    assert caught.value.message == "unknown variable 'tier'"
    assert (caught.value.line, caught.value.column) == (2, 3)


def test_unknown_variable_inside_a_macro_is_rejected() -> None:
    with pytest.raises(CelError) as caught:
        compile_expression('messages.exists(m, n.role == "user")')
    assert caught.value.message == "unknown variable 'n'"
    assert (caught.value.line, caught.value.column) == (1, 20)


def test_macro_variable_is_not_a_rule_variable() -> None:
    expression = compile_expression('messages.exists(m, m.role == "user")')
    assert expression.variables == frozenset({"messages"})


@pytest.mark.parametrize("source, message", [
    ("lookup(model)", "unknown function 'lookup'"),
    ("model.shout()", "unknown function 'shout'"),
    ("messages.exists(m)", "'exists' takes a variable name and an expression"),
    ("", "the expression is empty"),
    ("   \n ", "the expression is empty"),
    ('"gpt-4o"', "the expression must be a condition (true or false), not a constant"),
    ("42", "the expression must be a condition (true or false), not a constant"),
])
def test_invalid_expressions_are_rejected(source: str, message: str) -> None:
    with pytest.raises(CelError) as caught:
        compile_expression(source)
    assert caught.value.message == message


def test_boolean_constants_are_allowed() -> None:
    assert matches("true")
    assert not matches("false")


@pytest.mark.parametrize("source", [
    'headers["x-missing"] == "yes"',
    'headers["x-missing"] != "yes"',
    "params.top_p > 0.5",
    "params.seed == 1 || params.n > 1",
])
def test_missing_header_or_param_does_not_match_and_is_not_logged(source: str, caplog: Any) -> None:
    with caplog.at_level(logging.WARNING, logger="governance.cel"):
        assert not matches(source)
    assert not caplog.records


def test_presence_can_be_tested_without_an_error() -> None:
    no_tier = facts(headers={})
    assert matches('!("x-tier" in headers) || headers["x-tier"] != "premium"', no_tier)
    assert matches("!has(params.top_p) && has(params.temperature)")
    assert not matches('!("x-tier" in headers) || headers["x-tier"] != "premium"')


def test_runtime_type_error_is_false_and_logged_once(caplog: Any) -> None:
    expression = compile_expression('params.temperature > "hot"')
    activation = facts().activation(expression.variables)
    with caplog.at_level(logging.WARNING, logger="governance.cel"):
        assert not expression.evaluate(activation)
        assert not expression.evaluate(activation)
    assert len(caplog.records) == 1
    assert "no such overload" in caplog.records[0].getMessage()


@pytest.mark.parametrize("source", [
    "1 / (message_count - 2) == 1",
    "estimated_tokens + 1 > 0 ? model : team",
])
def test_errors_and_non_boolean_results_are_false(source: str) -> None:
    assert not matches(source)


def test_secrets_are_not_visible_in_headers() -> None:
    request = facts()
    assert set(request.headers) == {"x-tier"}
    for name in ("authorization", "x-api-key", "cookie", "proxy-authorization"):
        assert not matches(f'"{name}" in headers', request)
        assert not matches(f'headers["{name}"] != ""', request)


def test_headers_are_lower_cased_and_string_only() -> None:
    request = facts(headers={"X-Region": "eu", "X-Count": 3, "x-list": ["a"]})
    assert request.headers == {"x-region": "eu"}
    assert matches('headers["x-region"] == "eu"', request)
    assert not matches('headers["X-Region"] == "eu"', request)


def test_anonymous_caller_names_are_empty_strings() -> None:
    request = facts(caller=Caller())
    assert matches('virtual_key == "" && team_name == "" && customer_id == ""', request)


def test_activation_converts_only_the_names_asked() -> None:
    values = facts().activation(frozenset({"model"}))
    assert "model" in values
    assert "messages" not in values and "params" not in values


def test_params_leave_out_model_messages_and_tools() -> None:
    expression = compile_expression("params.size() > 0")
    params = facts().activation(expression.variables)["params"]
    assert set(params) == {"temperature", "max_tokens", "stream", "tool_choice", "user"}


def test_estimated_tokens_counts_text_and_a_per_message_overhead() -> None:
    body = {"messages": [{"role": "user", "content": "x" * 4001},
                         {"role": "assistant", "content": None}]}
    assert matches("estimated_tokens == 1009", facts(body))  # ceil(4001 / 4) + 4 * 2


def test_compiled_expression_can_be_built_from_its_source() -> None:
    expression = CompiledExpression('model == "gpt-4o"', frozenset({"model"}))
    assert expression.evaluate(facts().activation(expression.variables))


def test_first_match_respects_list_order() -> None:
    rules = [(compile_expression('model == "claude-3"'), "claude"),
             (compile_expression('team_name == "ml"'), "team"),
             (compile_expression('model == "gpt-4o"'), "model"),
             (compile_expression("true"), "catch-all")]
    assert RuleIndex(rules).first_match(facts()) == "team"
    assert RuleIndex(rules[2:] + rules[:2]).first_match(facts()) == "model"
    assert RuleIndex(rules[:1]).first_match(facts()) is None


def test_prefilter_skips_rules_without_evaluating_them(monkeypatch: Any) -> None:
    evaluated: list[str] = []
    original = CompiledExpression.evaluate

    def spy(self: CompiledExpression, activation: Any) -> bool:
        evaluated.append(self.source)
        return original(self, activation)

    monkeypatch.setattr(CompiledExpression, "evaluate", spy)
    rules = [(compile_expression(f'model == "m-{i}" && params.temperature > 0.1'), i)
             for i in range(50)]
    rules.append((compile_expression('model in ["x", "gpt-4o"] && estimated_tokens > 5000'), 50))
    rules.append((compile_expression('headers["x-tier"] == "premium" && message_count >= 2'), 51))
    assert RuleIndex(rules).first_match(facts()) == 51
    assert evaluated == ['headers["x-tier"] == "premium" && message_count >= 2']


# Random rule sets: the pre-filter must pick exactly the rule that evaluating all in order picks.
MODELS = ["gpt-4o", "gpt-4o-mini", "claude-3", "llama"]
TEAMS = ["ml", "ops", ""]
TIERS = ["premium", "free"]
COMPARISONS = [">", ">=", "<", "<=", "==", "!="]


def random_atom(rng: random.Random) -> str:
    return rng.choice([
        lambda: f'model == "{rng.choice(MODELS)}"',
        lambda: f'"{rng.choice(MODELS)}" == model',
        lambda: f'model in ["{rng.choice(MODELS)}", "{rng.choice(MODELS)}"]',
        lambda: f'team_name == "{rng.choice(TEAMS)}"',
        lambda: f'team in ["{rng.choice(TEAMS)}"]',
        lambda: f'headers["x-tier"] == "{rng.choice(TIERS)}"',
        lambda: f'headers["x-region"] == "{rng.choice(["eu", "us"])}"',
        lambda: f"params.temperature > {rng.choice([0.1, 0.5, 1.0])}",
        lambda: f"message_count {rng.choice(COMPARISONS)} {rng.randint(0, 4)}",
        lambda: f"{rng.randint(0, 40)} < estimated_tokens",
        lambda: f'"{rng.choice(["vision", "tools"])}" in capabilities',
        lambda: f'messages.exists(m, m.role == "{rng.choice(["user", "tool"])}")',
        lambda: f'provider == "{rng.choice(["openai", "anthropic"])}"',
        lambda: "params.top_p > 0.5",
    ])()


def random_rule(rng: random.Random) -> str:
    atoms = [random_atom(rng) for _ in range(rng.randint(1, 3))]
    roll = rng.random()
    if roll < 0.15 and len(atoms) > 1:
        return f"({atoms[0]}) || {' && '.join(atoms[1:])}"
    if roll < 0.25:
        return f"!({' && '.join(atoms)})"
    if roll < 0.35:
        return f"({' && '.join(atoms)}) && true"
    return " && ".join(atoms)


def random_request(rng: random.Random) -> RequestFacts:
    roles = ["user", "assistant", "tool"]
    messages = [{"role": rng.choice(roles), "content": "x" * rng.randint(0, 80)}
                for _ in range(rng.randint(0, 4))]
    body: dict[str, Any] = {"messages": messages}
    if rng.random() < 0.7:
        body["temperature"] = rng.choice([0.0, 0.3, 0.8, 1.5])
    pairs = (("X-Tier", rng.choice([*TIERS, None])), ("x-region", rng.choice(["eu", None])))
    headers = {name: value for name, value in pairs if value is not None}
    team = rng.choice(TEAMS)
    return facts(body, model=rng.choice(MODELS), headers=headers,
                 caller=Caller(team_name=team or None),
                 capabilities=frozenset(rng.sample(["text", "vision", "tools"], rng.randint(0, 3))))


def naive_first_match(
    rules: list[tuple[CompiledExpression, int]], request: RequestFacts
) -> int | None:
    for expression, payload in rules:
        if expression.evaluate(request.activation(expression.variables)):
            return payload
    return None


def test_prefilter_gives_the_same_first_match_as_naive_evaluation() -> None:
    rng = random.Random(20240611)
    checked = 0
    for _ in range(60):
        rules = [(compile_expression(random_rule(rng)), i) for i in range(rng.randint(1, 30))]
        index = RuleIndex(rules)
        for _ in range(10):
            request = random_request(rng)
            sources = [expression.source for expression, _ in rules]
            assert index.first_match(request) == naive_first_match(rules, request), sources
            checked += 1
    assert checked == 600
