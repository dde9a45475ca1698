"""Rules-engine benchmark: first_match µs per request at 1-1000 rules, with and without pre-filter.

Builds rule sets of a realistic mix in memory (no database, no Django), one RuleIndex per
size, and a fixed set of sample requests; times RequestFacts + first_match per request, the
same rules without the pre-filter, a naive celpy loop, and the compile time per rule.
Run: `.venv/bin/python bench/rules.py`; see bench/README.md ("Rules engine").
"""

from __future__ import annotations

import argparse
import gc
import logging
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import celpy
from celpy.adapter import json_to_cel

from governance.cel import Caller, RequestFacts, RuleIndex, compile_expression

FAMILIES = ("gpt-4o", "claude-3", "gemini-1.5", "llama-3", "mistral")
SIZES = ("mini", "small", "medium", "large", "xl", "pro", "turbo", "lite", "max", "nano")
MODELS = [f"{family}-{size}" for family in FAMILIES for size in SIZES]
TEAMS = [f"team-{i}" for i in range(20)]
TIERS = ["free", "basic", "premium", "enterprise"]
Request = dict[str, Any]  # RequestFacts arguments


def rule_source(rng: random.Random, i: int) -> str:
    """Most rules pin a model, team or header literal; about one in seven pins no string."""
    roll = rng.random()
    if roll < 0.35:
        return f'model == "{rng.choice(MODELS)}" && params.temperature > {rng.randint(1, 19) / 10}'
    if roll < 0.55:
        return f'team_name == "{rng.choice(TEAMS)}" && message_count > {rng.randint(2, 30)}'
    if roll < 0.70:
        return f'headers["x-tier"] == "{rng.choice(TIERS)}-{i % 7}" && model.startsWith("gpt-")'
    if roll < 0.86:
        pair = f'"{rng.choice(MODELS)}", "{rng.choice(MODELS)}"'
        return f"model in [{pair}] && params.max_tokens > {rng.randint(500, 4000)}"
    return rng.choice([
        f"estimated_tokens > {rng.randint(2000, 20000)}",
        f"params.temperature > 1.{rng.randint(5, 9)} && message_count > {rng.randint(10, 40)}",
        f'messages.exists(m, m.role == "system" && m.content.contains("route-{i}"))',
        f'"vision" in capabilities && estimated_tokens > {rng.randint(3000, 9000)}',
    ])


def sample_requests(rng: random.Random, count: int) -> list[Request]:
    """Each timed call builds its own RequestFacts from these, as a request does."""
    samples = []
    for i in range(count):
        model = rng.choice([*MODELS, "gpt-4o-2024-08-06", "unknown-model"])
        messages = [{"role": "system", "content": "You are a helpful assistant."}] + [
            {"role": "assistant" if t % 2 else "user", "content": "word " * rng.randint(5, 200)}
            for t in range(rng.randint(1, 12))
        ]
        team = rng.choice([*TEAMS, None])
        samples.append({
            "body": {"model": model, "messages": messages, "stream": rng.random() < 0.5,
                     "temperature": rng.choice([0.0, 0.2, 0.7, 1.0]),
                     "max_tokens": rng.choice([256, 1024, 4096])},
            "model": model,
            "provider": model.split("-")[0],
            "request_type": "chat",
            "capabilities": frozenset({"text", "vision"} if i % 5 == 0 else {"text"}),
            "headers": {"X-Tier": f"{rng.choice(TIERS)}-{i % 7}", "User-Agent": "bench/1.0",
                        "Authorization": "Bearer sk-secret"},
            "caller": Caller(key_id=f"vk-{i % 9}", key_name=f"key-{i % 9}",
                             team_id=team, team_name=team),
        })
    return samples


def measure(
    index: RuleIndex[int], requests: list[Request], rounds: int
) -> tuple[float, float, float]:
    """Mean and p99 µs of RequestFacts + first_match, and the share of requests matched."""
    samples: list[float] = []
    matched = 0
    gc.collect()
    for _ in range(rounds):
        for request in requests:
            start = time.perf_counter_ns()
            hit = index.first_match(RequestFacts(**request))
            samples.append((time.perf_counter_ns() - start) / 1000)
            matched += hit is not None
    samples.sort()
    return statistics.fmean(samples), samples[int(len(samples) * 0.99) - 1], matched / len(samples)


def celpy_baseline(sources: list[str], requests: list[Request]) -> float:
    """Mean µs per request done the plain way: celpy's CompiledRunner per rule, every variable
    converted with json_to_cel for each request, the rules evaluated in order."""
    env = celpy.Environment(runner_class=celpy.CompiledRunner)
    programs = [env.program(env.compile(source)) for source in sources]
    logging.getLogger("celpy").setLevel(logging.CRITICAL)  # it logs every evaluation error
    samples = []
    for request in requests:
        start = time.perf_counter_ns()
        facts = RequestFacts(**request)
        activation = {name: json_to_cel(value) for name, value in plain_variables(facts).items()}
        for program in programs:
            try:
                if program.evaluate(activation):
                    break
            except celpy.CELEvalError:
                pass
        samples.append((time.perf_counter_ns() - start) / 1000)
    return statistics.fmean(samples)


def plain_variables(facts: RequestFacts) -> dict[str, Any]:
    names = ("model", "provider", "request_type", "headers", "params", "message_count",
             "estimated_tokens", "tool_count", "team_name", "virtual_key")
    plain = {name: facts.lookup(name) for name in names}
    plain["capabilities"] = sorted(facts.lookup("capabilities"))
    plain["messages"] = [{"role": m.get("role"), "content": m.get("content")}
                         for m in facts.lookup("messages")]
    return plain


def runner_comparison() -> None:
    """One evaluation of one expression by celpy's two runners and by governance.cel."""
    source = 'headers["x-tier"] == "premium-1" && model.startsWith("gpt-")'
    facts = RequestFacts(**sample_requests(random.Random(1), 1)[0])
    compiled = compile_expression(source)
    activation = dict(facts.activation(compiled.variables))
    for label, runner in (("celpy InterpretedRunner", celpy.InterpretedRunner),
                          ("celpy CompiledRunner", celpy.CompiledRunner)):
        env = celpy.Environment(runner_class=runner)
        program = env.program(env.compile(source))
        print(f"  {label:28} {timed(lambda p=program: p.evaluate(activation)):7.1f} µs")
    print(f"  {'governance.cel':28} {timed(lambda: compiled.evaluate(activation)):7.1f} µs")


def timed(call: Callable[[], object], count: int = 2000) -> float:
    start = time.perf_counter()
    for _ in range(count):
        call()
    return (time.perf_counter() - start) / count * 1e6


def run_size(size: int, rng: random.Random, requests: list[Request]) -> str:
    sources = [rule_source(rng, i) for i in range(size)]
    start = time.perf_counter()
    rules = [(compile_expression.__wrapped__(source), i) for i, source in enumerate(sources)]
    compile_ms = (time.perf_counter() - start) * 1000 / size
    fast, naive = RuleIndex(rules), RuleIndex(rules, prefilter=False)
    for request in requests:  # the pre-filter must never change the answer
        expected = naive.first_match(RequestFacts(**request))
        assert fast.first_match(RequestFacts(**request)) == expected
    rounds = max(1, min(20, 20_000 // (size * len(requests) // 50 + 1)))
    fast_mean, fast_p99, matched = measure(fast, requests, rounds)
    naive_mean, naive_p99, _ = measure(naive, requests, max(1, rounds // 4))
    baseline = celpy_baseline(sources, requests[: max(20, len(requests) // max(1, size // 10))])
    gain = naive_mean / fast_mean
    return (f"{size:>6} {fast_mean:>10.1f} {fast_p99:>8.1f} {naive_mean:>12.1f} {naive_p99:>8.1f} "
            f"{gain:>7.1f}x {baseline:>11.1f} {matched:>8.0%} {compile_ms:>10.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,10,100,1000", help="rule counts, comma-separated")
    parser.add_argument("--requests", type=int, default=200, help="distinct sample requests")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    requests = sample_requests(rng, args.requests)
    for i in range(20):  # the parser and first-use imports are not a per-rule cost
        compile_expression.__wrapped__(rule_source(random.Random(i), i))
    print(f"{len(requests)} sample requests; µs per request = RequestFacts + first_match")
    print("prefilter: RuleIndex as used; no prefilter: the same engine evaluating every rule in")
    print("order; celpy: CompiledRunner per rule + json_to_cel per request, rules in order\n")
    print(f"{'rules':>6} {'prefilter':>10} {'p99':>8} {'no prefilter':>12} {'p99':>8} "
          f"{'gain':>8} {'celpy mean':>11} {'matched':>8} {'compile ms':>10}")
    for size in (int(s) for s in args.sizes.split(",")):
        print(run_size(size, rng, requests))
    print("\nOne evaluation of headers[...] == ... && model.startsWith(...):")
    runner_comparison()


if __name__ == "__main__":
    main()
