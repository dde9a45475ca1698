"""Routing-decision endpoint latency: POST /routing/v1/chat/completions on a real server, per classifier.

Starts the gateway as production runs it (uvicorn, uvloop, httptools, one worker) on a
temporary SQLite database with the demo registry and a routing config made of the
benchmark's `main` route set (tests/data/intent/routes.yaml), then sends the labelled
prompts of tests/data/intent/prompts.jsonl from closed-loop clients (one by default) and prints
throughput, p50/p90/p99 of the full HTTP round trip, and the server's own mean classification
time (from /metrics, the worker-thread hop included). No model is called: the endpoint only
decides. The Python client shares the two cores with the server.

Run: `.venv/bin/python bench/decision.py [--classifiers lexical,embedding] [--requests 300]
[--concurrency 1,8]`.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.intent import load_prompts, load_routes  # noqa: E402
from gateway.dataplane.intent import embedding_available  # noqa: E402
from tests.live import LiveGateway  # noqa: E402

MODELS = ["openai/gpt-4o-mini", "anthropic/claude-3-5-haiku-latest", "google/gemini-2.0-flash"]


def routing_config() -> str:
    routes = load_routes()["main"]
    return yaml.safe_dump({
        "version": "v0.4.0",
        "model_providers": [{"model": MODELS[0], "default": True}, *({"model": m} for m in MODELS[1:])],
        "routing_preferences": [
            {"name": r.name, "description": r.description, "models": MODELS[i % 3:] + MODELS[:i % 3]}
            for i, r in enumerate(routes)
        ],
    }, sort_keys=False)


def measure(classifier: str, requests: int, concurrency: int) -> dict[str, float]:
    prompts = [row for row in load_prompts() if row["route_set"] == "main"]
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "routing.yaml"
        config.write_text(routing_config(), encoding="utf-8")
        server = LiveGateway(Path(tmp), {"INTENT_CLASSIFIER": classifier, "ROUTING_CONFIG_FILE": str(config)})
        server.migrate().manage("load_demo_registry")
        server.start()
        try:
            result = asyncio.run(_drive(server.url, prompts, requests, concurrency))
        finally:
            server.stop()
    metrics = result.pop("metrics")

    def total(name: str) -> float:
        prefix = f'{name}{{classifier="{classifier}"}} '
        return sum(float(line.split()[-1]) for line in metrics.splitlines() if line.startswith(prefix))

    count = total("switchyard_intent_classify_seconds_count")
    result["classify"] = 1000 * total("switchyard_intent_classify_seconds_sum") / count if count else 0.0
    return result


async def _drive(url: str, prompts: list[dict[str, Any]], requests: int, concurrency: int) -> dict[str, Any]:
    """`concurrency` clients in a closed loop, each sending its next prompt when the last is answered."""
    timings: list[float] = []
    matched = 0
    async with httpx.AsyncClient(base_url=url, timeout=30,
                                 limits=httpx.Limits(max_connections=concurrency)) as client:

        async def one(i: int, keep: bool) -> None:
            nonlocal matched
            row = prompts[i % len(prompts)]
            started = time.perf_counter()
            response = await client.post("/routing/v1/chat/completions",
                                         json={"model": "gpt-4o-mini", "messages": row["messages"]})
            elapsed = time.perf_counter() - started
            response.raise_for_status()
            if keep:
                timings.append(elapsed * 1000)
                matched += response.json()["route"] is not None

        for i in range(20):  # warm the server, one at a time
            await one(i, keep=False)
        queue = iter(range(20, 20 + requests))

        async def worker() -> None:
            for i in queue:
                await one(i, keep=True)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - started
        metrics = (await client.get("/metrics")).text
    timings.sort()

    def pick(q: float) -> float:
        return timings[min(len(timings) - 1, round(q * (len(timings) - 1)))]

    return {"n": len(timings), "matched": matched, "rps": len(timings) / wall, "mean": statistics.fmean(timings),
            "p50": pick(0.5), "p90": pick(0.9), "p99": pick(0.99), "metrics": metrics}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--classifiers", default="lexical,embedding")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--concurrency", default="1", help="comma-separated client counts (default 1)")
    args = parser.parse_args()
    print(f"{'classifier':<10} {'conc':>4} {'n':>4} {'matched':>7} {'classify ms':>11} {'req/s':>6} {'mean ms':>8} "
          f"{'p50 ms':>7} {'p90 ms':>7} {'p99 ms':>7}")
    for classifier in args.classifiers.split(","):
        if classifier == "embedding" and not embedding_available():
            print("embedding: skipped (pip install -e '.[intent]' to measure it)")
            continue
        for concurrency in (int(c) for c in args.concurrency.split(",")):
            r = measure(classifier, args.requests, concurrency)
            print(f"{classifier:<10} {concurrency:>4} {r['n']:>4} {r['matched']:>7} {r['classify']:>11.2f} "
                  f"{r['rps']:>6.0f} {r['mean']:>8.2f} {r['p50']:>7.2f} {r['p90']:>7.2f} {r['p99']:>7.2f}")


if __name__ == "__main__":
    main()
