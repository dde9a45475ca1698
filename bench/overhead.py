"""Gateway overhead benchmark: a fake upstream, direct vs through Switchyard (vs LiteLLM), closed-loop load.

Starts, on 127.0.0.1 and random free ports, the fake OpenAI-compatible upstream
(bench/fake_upstream.py) and the gateway exactly as production runs it (uvicorn,
uvloop, httptools, one worker), drives each with a fixed number of concurrent
connections for a fixed time, and prints requests/s, p50, p99, the p50 the
gateway adds over the direct path, and the gateway's CPU time per request.
Everything it starts is stopped by process group, also on Ctrl-C or error.

Run: `.venv/bin/python bench/overhead.py --help`; see bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
LITELLM_VENV = BENCH / ".venv-litellm"
HOST = "127.0.0.1"
MODEL = "gpt-4o-mini"
PATH = "/v1/chat/completions"
BODIES = {
    "non-stream": {"model": MODEL, "messages": [{"role": "user", "content": "Say hello"}]},
    "stream": {
        "model": MODEL,
        "messages": [{"role": "user", "content": "Say hello"}],
        "stream": True,
        "stream_options": {"include_usage": True},
    },
}
# Sent to every target; LiteLLM refuses to start without a master key that is not a known one.
BENCH_KEY = "sk-bench-" + secrets.token_hex(16)
HEADERS = {"Content-Type": "application/json", "Authorization": f"Bearer {BENCH_KEY}"}
CLK_TCK = os.sysconf("SC_CLK_TCK")
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class BenchError(RuntimeError):
    """A setup step failed; the message says which and where its log is."""


# --- processes -------------------------------------------------------------------


class Processes:
    """Every server we start lives in its own session; stop() signals the whole group by its id."""

    def __init__(self, pin: bool) -> None:
        self.pin = pin and shutil.which("taskset") is not None
        self.running: list[subprocess.Popen] = []

    def start(
        self, cmd: list[str], *, cpus: str | None, env: dict[str, str], log: Path
    ) -> subprocess.Popen:
        if cpus is not None and self.pin:
            cmd = ["taskset", "-c", cpus, *cmd]
        with open(log, "ab") as out:
            proc = subprocess.Popen(
                cmd,
                cwd=REPO,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.running.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen) -> None:
        if proc in self.running:
            self.running.remove(proc)
        for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(proc.pid, sig)  # pgid == pid: start_new_session
            except ProcessLookupError:
                break
            try:
                proc.wait(timeout=wait)
                # the leader is gone; make sure no child of it lingers in the group
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                break
            except subprocess.TimeoutExpired:
                continue
            break

    def stop_all(self) -> None:
        for proc in reversed(list(self.running)):
            self.stop(proc)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(
                f"{url}: the server exited with {proc.returncode}; log: {log}\n{tail(log)}"
            )
        try:
            with _NO_PROXY.open(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise BenchError(f"{url} not ready after {timeout:.0f} s; log: {log}\n{tail(log)}")


def tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def probe(base: str, scenario: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(
        base + PATH, data=json.dumps(BODIES[scenario]).encode(), headers=HEADERS, method="POST"
    )
    try:
        with _NO_PROXY.open(request, timeout=30) as response:
            return (
                response.status,
                {k.lower(): v for k, v in response.headers.items()},
                response.read(),
            )
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()


def check_answers(name: str, base: str, provider_header: str | None) -> None:
    """One request per scenario before measuring: a 200 from the real upstream path, not a placeholder."""
    for scenario in BODIES:
        status, headers, body = probe(base, scenario)
        if status != 200:
            raise BenchError(f"{name} {scenario}: HTTP {status}: {body[:300]!r}")
        if provider_header and headers.get("x-switchyard-provider") != provider_header:
            raise BenchError(
                f"{name} {scenario}: served by {headers.get('x-switchyard-provider')!r}, "
                f"expected {provider_header!r}; the model was not routed to the fake upstream"
            )
        if scenario == "stream" and b"data: [DONE]" not in body:
            raise BenchError(f"{name} stream: no [DONE] in {body[-200:]!r}")


# --- CPU accounting --------------------------------------------------------------


def _stat(pid: int) -> tuple[int, float] | None:
    """(ppid, utime+stime seconds) from /proc/<pid>/stat; threads are included."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / CLK_TCK


def tree_cpu(root: int) -> float:
    """CPU seconds used so far by a process and its live descendants."""
    stats = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit() and (st := _stat(int(entry.name))) is not None:
            stats[int(entry.name)] = st
    total, frontier = 0.0, [root]
    while frontier:
        pid = frontier.pop()
        if pid in stats:
            total += stats[pid][1]
            frontier += [child for child, (ppid, _) in stats.items() if ppid == pid]
    return total


def machine_busy() -> float:
    """CPU seconds all cores spent outside idle/iowait since boot (/proc/stat)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq + steal) / CLK_TCK


def own_cpu() -> float:
    """CPU seconds of this script plus its waited-for children (each finished wrk run)."""
    import resource

    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


# --- load generators -------------------------------------------------------------


@dataclass
class Load:
    requests: int
    seconds: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    p999_ms: float
    max_ms: float
    errors: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


WRK_LUA = """
wrk.method = "POST"
wrk.body = [==[%(body)s]==]
%(headers)s
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRKJSON {\\"requests\\":%%d,\\"duration_us\\":%%d,\\"p50\\":%%d,\\"p90\\":%%d,\\"p99\\":%%d," ..
    "\\"p999\\":%%d,\\"max\\":%%d,\\"errors\\":%%d}\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9), latency.max,
    e.connect + e.read + e.write + e.status + e.timeout))
end
"""


class WrkClient:
    name = "wrk"

    def __init__(self, workdir: Path, cpus: str | None, pin: bool) -> None:
        self.scripts: dict[str, Path] = {}
        header_lines = "\n".join(f'wrk.headers["{k}"] = "{v}"' for k, v in HEADERS.items())
        for scenario, body in BODIES.items():
            path = workdir / f"{scenario}.lua"
            path.write_text(WRK_LUA % {"body": json.dumps(body), "headers": header_lines})
            self.scripts[scenario] = path
        self.prefix = (
            ["taskset", "-c", cpus] if cpus is not None and pin and shutil.which("taskset") else []
        )
        version = subprocess.run(
            ["wrk", "-v"], check=False, capture_output=True, text=True, timeout=10
        )
        self.version = (version.stdout + version.stderr).split(" [")[0].strip() or "wrk"

    def run(self, url: str, scenario: str, concurrency: int, seconds: float) -> Load:
        cmd = [
            *self.prefix,
            "wrk",
            "-t1",
            f"-c{concurrency}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "10s",
            "-s",
            str(self.scripts[scenario]),
            url,
        ]
        done = subprocess.run(
            cmd, check=False, capture_output=True, text=True, timeout=seconds + 30
        )
        line = next((l for l in done.stdout.splitlines() if l.startswith("WRKJSON ")), None)
        if line is None:
            raise BenchError(
                f"wrk gave no result (rc {done.returncode}): {done.stdout[-500:]} {done.stderr[-500:]}"
            )
        r = json.loads(line[8:])
        return Load(
            r["requests"],
            r["duration_us"] / 1e6,
            r["p50"] / 1000,
            r["p90"] / 1000,
            r["p99"] / 1000,
            r["p999"] / 1000,
            r["max"] / 1000,
            r["errors"],
        )


class AiohttpClient:
    """Fallback closed-loop client, in this (pinned) process. Slower than wrk: it caps direct rates."""

    name = "aiohttp (built-in fallback; wrk not found)"
    version = ""

    def run(self, url: str, scenario: str, concurrency: int, seconds: float) -> Load:
        try:
            import uvloop

            factory = uvloop.new_event_loop
        except ImportError:
            factory = None
        with asyncio.Runner(loop_factory=factory) as runner:
            return runner.run(self._run(url, scenario, concurrency, seconds))

    async def _run(self, url: str, scenario: str, concurrency: int, seconds: float) -> Load:
        import aiohttp

        body = json.dumps(BODIES[scenario]).encode()
        latencies: list[float] = []
        errors = 0
        connector = aiohttp.TCPConnector(limit=concurrency)
        timeout = aiohttp.ClientTimeout(total=10)
        async with aiohttp.ClientSession(
            connector=connector, timeout=timeout, auto_decompress=False
        ) as session:

            async def worker(stop_at: float) -> None:
                nonlocal errors
                while (started := time.perf_counter()) < stop_at:
                    try:
                        async with session.post(url, data=body, headers=HEADERS) as response:
                            await response.read()
                            ok = response.status < 400
                    except (TimeoutError, aiohttp.ClientError):
                        ok = False
                    if ok:
                        latencies.append(time.perf_counter() - started)
                    else:
                        errors += 1

            begin = time.perf_counter()
            await asyncio.gather(*(worker(begin + seconds) for _ in range(concurrency)))
            elapsed = time.perf_counter() - begin
        latencies.sort()

        def pct(q: float) -> float:
            return (
                latencies[min(len(latencies) - 1, int(q / 100 * len(latencies)))] * 1000
                if latencies
                else 0.0
            )

        return Load(len(latencies), elapsed, pct(50), pct(90), pct(99), pct(99.9), pct(100), errors)


# --- cells and targets -------------------------------------------------------------


@dataclass
class Cell:
    target: str
    scenario: str
    concurrency: int
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    p999_ms: float
    max_ms: float
    requests: int
    errors: int
    cpu_ms_per_request: float | None = None
    cpu_utilisation: float | None = None
    other_cpu: float = 0.0  # cores busy with processes that are not part of the benchmark
    added_p50_ms: float | None = None


@dataclass
class Target:
    name: str
    base: str
    pid: int | None  # whose CPU time to account; None for the direct path
    extra: dict[str, Any] = field(default_factory=dict)


def measure(client: Any, target: Target, args: argparse.Namespace, upstream_pid: int) -> list[Cell]:
    cells = []
    for scenario in args.scenarios:
        for concurrency in args.concurrency:
            url = target.base + PATH
            if args.warmup > 0:
                client.run(url, scenario, concurrency, args.warmup)
            cpu_before = tree_cpu(target.pid) if target.pid else 0.0
            ours_before = own_cpu() + tree_cpu(upstream_pid)
            busy_before, wall_before = machine_busy(), time.monotonic()
            load = client.run(url, scenario, concurrency, args.duration)
            busy, wall = machine_busy() - busy_before, time.monotonic() - wall_before
            cpu = tree_cpu(target.pid) - cpu_before if target.pid else None
            ours = own_cpu() + tree_cpu(upstream_pid) - ours_before + (cpu or 0.0)
            cell = Cell(
                target.name,
                scenario,
                concurrency,
                load.rps,
                load.p50_ms,
                load.p90_ms,
                load.p99_ms,
                load.p999_ms,
                load.max_ms,
                load.requests,
                load.errors,
                other_cpu=max(0.0, (busy - ours) / wall),
            )
            if cpu is not None and load.requests:
                cell.cpu_ms_per_request = cpu * 1000 / load.requests
                cell.cpu_utilisation = cpu / load.seconds
            cells.append(cell)
            print(
                f"  {target.name:<17} {scenario:<10} c={concurrency:<3} {load.rps:>9,.0f} req/s  "
                f"p50 {load.p50_ms:.3f} ms  p99 {load.p99_ms:.3f} ms  max {load.max_ms:.1f} ms"
                + (f"  errors {load.errors}" if load.errors else "")
                + (
                    f"  (other processes busy: {cell.other_cpu:.2f} cores)"
                    if cell.other_cpu > 0.1
                    else ""
                ),
                flush=True,
            )
    return cells


def start_upstream(procs: Processes, args: argparse.Namespace, workdir: Path) -> tuple[str, int]:
    log = workdir / "fake_upstream.log"
    proc = procs.start(
        [sys.executable, str(BENCH / "fake_upstream.py"), "--host", HOST, "--port", "0"],
        cpus=args.load_cpus,
        env=dict(os.environ),
        log=log,
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        for line in tail(log, 5).splitlines():
            if line.startswith("READY "):
                return f"http://{HOST}:{int(line.split()[1])}", proc.pid
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    raise BenchError(f"fake upstream did not start; log: {log}\n{tail(log)}")


def gateway_env(
    args: argparse.Namespace, workdir: Path, upstream: str, transport: str
) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="gateway.settings",
        SQLITE_DB_PATH=str(workdir / "bench.sqlite3"),
        LOG_FILE=str(workdir / f"gateway-{transport}.log"),
        OPENAI_BASE_URL=upstream,
        EXTERNAL_OPENAI_KEY="sk-fake-bench",
        UPSTREAM_HTTP_TRANSPORT=transport,
        REDIS_URL="",
        DJANGO_DEBUG="false",
        RATE_LIMIT_REQUESTS="100000000",  # a benchmark, not a caller: never throttle it
    )
    for item in args.env:
        key, _, value = item.partition("=")
        env[key] = value
    return env


def migrate(args: argparse.Namespace, workdir: Path, upstream: str) -> None:
    log = workdir / "migrate.log"
    with open(log, "wb") as out:
        done = subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
            check=False,
            cwd=REPO,
            env=gateway_env(args, workdir, upstream, "aiohttp"),
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=300,
        )
    if done.returncode:
        raise BenchError(f"migrate failed; log: {log}\n{tail(log)}")


def start_gateway(
    procs: Processes, args: argparse.Namespace, workdir: Path, upstream: str, transport: str
) -> tuple[subprocess.Popen, Target]:
    port = free_port()
    log = workdir / f"gateway-{transport}.stderr"
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        "gateway.asgi:application",
        "--host",
        HOST,
        "--port",
        str(port),
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--no-access-log",
        "--workers",
        "1",
        "--log-level",
        "warning",
    ]
    proc = procs.start(
        cmd, cpus=args.gateway_cpus, env=gateway_env(args, workdir, upstream, transport), log=log
    )
    base = f"http://{HOST}:{port}"
    wait_http(base + "/healthz", 60, proc, log)
    check_answers(f"gateway/{transport}", base, "openai")
    return proc, Target(f"gateway/{transport}", base, proc.pid, {"transport": transport})


def litellm_ready(args: argparse.Namespace, workdir: Path) -> Path | None:
    """The LiteLLM proxy binary, installing it into bench/.venv-litellm when missing."""
    binary = LITELLM_VENV / "bin" / "litellm"
    if binary.exists():
        return binary
    log = workdir / "litellm-install.log"
    print(f"installing litellm[proxy] into {LITELLM_VENV} (log: {log}) ...", flush=True)
    try:
        with open(log, "wb") as out:
            subprocess.run(
                [sys.executable, "-m", "venv", str(LITELLM_VENV)],
                check=True,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=120,
            )
            # never committed: the same marker file newer Pythons put in a venv
            (LITELLM_VENV / ".gitignore").write_text("*\n")
            subprocess.run(
                [str(LITELLM_VENV / "bin" / "pip"), "install", "-q", "litellm[proxy]"],
                check=True,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=args.litellm_install_timeout,
            )
    except (subprocess.SubprocessError, OSError) as error:
        print(
            f"LiteLLM install failed ({error}); continuing without it. Log tail:\n{tail(log)}",
            flush=True,
        )
        return None
    return binary if binary.exists() else None


def start_litellm(
    procs: Processes, args: argparse.Namespace, workdir: Path, upstream: str, binary: Path
) -> tuple[subprocess.Popen, Target]:
    config = workdir / "litellm.yaml"
    config.write_text(
        "model_list:\n"
        f"  - model_name: {MODEL}\n"
        "    litellm_params:\n"
        f"      model: openai/{MODEL}\n"
        f"      api_base: {upstream}/v1\n"
        "      api_key: sk-fake-bench\n"
        "general_settings:\n"
        f"  master_key: {BENCH_KEY}\n"
        "litellm_settings:\n"
        "  telemetry: false\n"
    )
    port = free_port()
    env = dict(
        os.environ,
        LITELLM_LOCAL_MODEL_COST_MAP="True",
        LITELLM_TELEMETRY="False",
        LITELLM_LOG="ERROR",
        NO_DOCS="True",
    )
    log = workdir / "litellm.log"
    cmd = [
        str(binary),
        "--config",
        str(config),
        "--host",
        HOST,
        "--port",
        str(port),
        "--num_workers",
        "1",
    ]
    proc = procs.start(cmd, cpus=args.gateway_cpus, env=env, log=log)
    base = f"http://{HOST}:{port}"
    wait_http(base + "/health/liveliness", 180, proc, log)
    check_answers("litellm", base, None)
    version = subprocess.run(
        [
            str(LITELLM_VENV / "bin" / "python"),
            "-c",
            "import importlib.metadata as m; print(m.version('litellm'))",
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout.strip()
    return proc, Target("litellm", base, proc.pid, {"version": version})


# --- report -------------------------------------------------------------------------


def add_direct_deltas(cells: list[Cell]) -> None:
    direct = {(c.scenario, c.concurrency): c for c in cells if c.target == "direct"}
    for cell in cells:
        base = direct.get((cell.scenario, cell.concurrency))
        if cell.target != "direct" and base is not None:
            cell.added_p50_ms = cell.p50_ms - base.p50_ms


def table(cells: list[Cell]) -> str:
    head = (
        f"{'scenario':<10} {'conc':>4}  {'target':<16} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'max ms':>8} {'+p50 ms':>8} {'CPU ms/req':>10} {'CPU %':>6} {'other':>5} {'err':>4}"
    )
    rows = [head, "-" * len(head)]
    order = {name: i for i, name in enumerate(dict.fromkeys(c.target for c in cells))}
    last = None
    for c in sorted(
        cells, key=lambda c: (c.scenario != "non-stream", c.concurrency, order[c.target])
    ):
        if last is not None and last != (c.scenario, c.concurrency):
            rows.append("")
        last = (c.scenario, c.concurrency)
        added = f"{c.added_p50_ms:+8.3f}" if c.added_p50_ms is not None else f"{'-':>8}"
        cpu = f"{c.cpu_ms_per_request:10.3f}" if c.cpu_ms_per_request is not None else f"{'-':>10}"
        util = f"{c.cpu_utilisation * 100:6.0f}" if c.cpu_utilisation is not None else f"{'-':>6}"
        rows.append(
            f"{c.scenario:<10} {c.concurrency:>4}  {c.target:<16} {c.rps:>9,.0f} {c.p50_ms:8.3f} "
            f"{c.p99_ms:8.3f} {c.max_ms:8.1f} {added} {cpu} {util} {c.other_cpu * 100:5.0f} {c.errors:>4}"
        )
    return "\n".join(rows)


def machine() -> dict[str, Any]:
    model = next(
        (
            l.split(":", 1)[1].strip()
            for l in Path("/proc/cpuinfo").read_text().splitlines()
            if l.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "kernel": platform.release(),
        "python": platform.python_version(),
    }


# --- main -------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    cores = os.cpu_count() or 1
    parser = argparse.ArgumentParser(
        description="Measure the latency and CPU the gateway adds over a fake upstream (see bench/README.md).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--transport",
        choices=["aiohttp", "httpx", "both"],
        default="both",
        help="UPSTREAM_HTTP_TRANSPORT for the gateway; 'both' runs one gateway for each",
    )
    parser.add_argument(
        "--litellm",
        action="store_true",
        help="also measure the LiteLLM proxy (installed into bench/.venv-litellm if missing)",
    )
    parser.add_argument("--duration", type=float, default=5.0, help="measured seconds per cell")
    parser.add_argument(
        "--warmup", type=float, default=1.0, help="unmeasured seconds before each cell"
    )
    parser.add_argument(
        "--concurrency",
        type=lambda s: [int(x) for x in s.split(",")],
        default="1,16",
        help="comma-separated connection counts",
    )
    parser.add_argument(
        "--scenarios",
        type=lambda s: s.split(","),
        default=",".join(BODIES),
        help="comma-separated: non-stream,stream",
    )
    parser.add_argument(
        "--client",
        choices=["auto", "wrk", "aiohttp"],
        default="auto",
        help="load generator; auto uses wrk when it is on PATH",
    )
    parser.add_argument(
        "--gateway-cpus",
        default="1" if cores >= 2 else None,
        help="taskset CPU list for the gateway (and LiteLLM)",
    )
    parser.add_argument(
        "--load-cpus",
        default="0" if cores >= 2 else None,
        help="taskset CPU list for the load generator, the fake upstream and this script",
    )
    parser.add_argument("--no-pin", action="store_true", help="do not pin processes to CPUs")
    parser.add_argument(
        "--no-direct", action="store_true", help="skip the direct-to-upstream baseline"
    )
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra environment for the gateway (repeatable), e.g. LOG_LEVEL=WARNING",
    )
    parser.add_argument("--litellm-install-timeout", type=float, default=600.0, help="seconds")
    parser.add_argument("--max-seconds", type=int, default=1800, help="hard bound on the whole run")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (DB, logs, configs)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args(argv)
    bad = [s for s in args.scenarios if s not in BODIES]
    if bad:
        parser.error(f"unknown scenario(s) {bad}; choose from {list(BODIES)}")
    return args


def _raise_exit(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


def _raise_timeout(signum: int, frame: Any) -> None:
    raise TimeoutError("--max-seconds reached")


def run(args: argparse.Namespace, procs: Processes, workdir: Path) -> dict[str, Any]:
    pin = procs.pin
    if pin and args.load_cpus is not None:
        os.sched_setaffinity(
            0, {int(c) for c in args.load_cpus.split(",")}
        )  # this script, wrk's parent
    use_wrk = args.client == "wrk" or (args.client == "auto" and shutil.which("wrk"))
    if args.client == "wrk" and not shutil.which("wrk"):
        raise BenchError("--client wrk: wrk is not on PATH (Debian: apt-get install -y wrk)")
    client: Any = WrkClient(workdir, args.load_cpus, pin) if use_wrk else AiohttpClient()
    pinning = (
        f"gateway/LiteLLM on CPU {args.gateway_cpus}; load generator, fake upstream and this script "
        f"on CPU {args.load_cpus}"
        if pin
        else "none"
    )
    print(f"load generator: {client.name} {client.version}".rstrip())
    print(f"pinning: {pinning}")
    load_avg = Path("/proc/loadavg").read_text().split()[:3]
    print(
        f"load average before starting: {' '.join(load_avg)} (other work on this machine skews the figures)"
    )
    print(
        f"cells: {args.warmup:g} s warm-up + {args.duration:g} s measured; "
        f"concurrency {args.concurrency}; scenarios {args.scenarios}",
        flush=True,
    )

    upstream, upstream_pid = start_upstream(procs, args, workdir)
    print(f"fake upstream: {upstream}", flush=True)
    cells: list[Cell] = []
    targets: list[dict[str, Any]] = []
    if not args.no_direct:
        cells += measure(client, Target("direct", upstream, None), args, upstream_pid)
    transports = ["aiohttp", "httpx"] if args.transport == "both" else [args.transport]
    migrate(args, workdir, upstream)
    for transport in transports:
        proc, target = start_gateway(procs, args, workdir, upstream, transport)
        try:
            cells += measure(client, target, args, upstream_pid)
        finally:
            procs.stop(proc)
        targets.append({"name": target.name, **target.extra})
    if args.litellm:
        binary = litellm_ready(args, workdir)
        if binary is not None:
            try:
                proc, target = start_litellm(procs, args, workdir, upstream, binary)
            except BenchError as error:
                print(f"LiteLLM did not start: {error}; continuing without it", flush=True)
            else:
                try:
                    cells += measure(client, target, args, upstream_pid)
                finally:
                    procs.stop(proc)
                targets.append({"name": target.name, **target.extra})
    add_direct_deltas(cells)
    print()
    print(table(cells))
    print(
        "\n+p50 = p50 through the target minus p50 direct to the fake upstream; CPU ms/req = the target "
        "process tree's utime+stime per request; CPU % = of one core during the measured seconds; "
        "other = % of a core used by processes outside the benchmark (noise; want ~0)."
    )
    return {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "machine": machine(),
        "load_generator": f"{client.name} {client.version}".strip(),
        "pinning": pinning,
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "targets": targets,
        "gateway_env_extra": args.env,
        "cells": [asdict(c) for c in cells],
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if our parent ignored it
    signal.signal(signal.SIGTERM, _raise_exit)
    signal.signal(signal.SIGHUP, _raise_exit)
    signal.signal(signal.SIGALRM, _raise_timeout)
    signal.alarm(args.max_seconds)
    procs = Processes(pin=not args.no_pin and args.gateway_cpus is not None)
    workdir = Path(tempfile.mkdtemp(prefix="switchyard-bench-"))
    try:
        report = run(args, procs, workdir)
        if args.json:
            args.json.write_text(json.dumps(report, indent=2) + "\n")
            print(f"figures written to {args.json}")
        return 0
    except BenchError as error:
        print(f"benchmark failed: {error}", file=sys.stderr)
        args.keep = True
        return 1
    except (KeyboardInterrupt, TimeoutError) as error:
        print(f"\ninterrupted ({str(error) or 'Ctrl-C'}); stopping servers", file=sys.stderr)
        return 130
    finally:
        signal.alarm(0)
        procs.stop_all()
        if args.keep:
            print(f"logs and DB kept in {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
