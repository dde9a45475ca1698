"""Routing-decision endpoint latency: POST /routing/v1/chat/completions on a real server, per classifier.

Starts the gateway as production runs it (uvicorn, uvloop, httptools, one worker) on a
temporary SQLite database with the demo registry and a routing config made of the
benchmark's `main` route set (tests/data/intent/routes.yaml), then sends the labelled
prompts of tests/data/intent/prompts.jsonl one at a time (a sequential client) and prints
p50/p90/p99 of the full HTTP round trip, and the server's own mean classification time (from
/metrics, the worker-thread hop included). No model is called: the endpoint only decides.

Run: `.venv/bin/python bench/decision.py [--classifiers lexical,embedding] [--requests 300]`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

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


def measure(classifier: str, requests: int) -> dict[str, float]:
    prompts = [row for row in load_prompts() if row["route_set"] == "main"]
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "routing.yaml"
        config.write_text(routing_config(), encoding="utf-8")
        server = LiveGateway(Path(tmp), {"INTENT_CLASSIFIER": classifier, "ROUTING_CONFIG_FILE": str(config)})
        server.migrate().manage("load_demo_registry")
        server.start()
        try:
            with httpx.Client(base_url=server.url, timeout=10) as client:
                timings, matched = [], 0
                for i in range(requests + 20):
                    row = prompts[i % len(prompts)]
                    started = time.perf_counter()
                    response = client.post("/routing/v1/chat/completions",
                                           json={"model": "gpt-4o-mini", "messages": row["messages"]})
                    elapsed = time.perf_counter() - started
                    response.raise_for_status()
                    if i >= 20:  # the first 20 warm the server
                        timings.append(elapsed * 1000)
                        matched += response.json()["route"] is not None
                metrics = client.get("/metrics").text
        finally:
            server.stop()
    def total(name: str) -> float:
        prefix = f'{name}{{classifier="{classifier}"}} '
        return sum(float(line.split()[-1]) for line in metrics.splitlines() if line.startswith(prefix))

    classify_ms = 1000 * total("switchyard_intent_classify_seconds_sum") / total("switchyard_intent_classify_seconds_count")
    timings.sort()
    pick = lambda q: timings[min(len(timings) - 1, round(q * (len(timings) - 1)))]  # noqa: E731
    return {"n": len(timings), "matched": matched, "classify": classify_ms, "mean": statistics.fmean(timings),
            "p50": pick(0.5), "p90": pick(0.9), "p99": pick(0.99)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--classifiers", default="lexical,embedding")
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    print(f"{'classifier':<10} {'n':>4} {'matched':>7} {'classify ms':>11} {'mean ms':>8} {'p50 ms':>7} "
          f"{'p90 ms':>7} {'p99 ms':>7}")
    for classifier in args.classifiers.split(","):
        if classifier == "embedding" and not embedding_available():
            print("embedding: skipped (pip install -e '.[intent]' to measure it)")
            continue
        r = measure(classifier, args.requests)
        print(f"{classifier:<10} {r['n']:>4} {r['matched']:>7} {r['classify']:>11.2f} {r['mean']:>8.2f} {r['p50']:>7.2f} "
              f"{r['p90']:>7.2f} {r['p99']:>7.2f}")


if __name__ == "__main__":
    main()
