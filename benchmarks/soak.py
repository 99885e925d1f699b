"""Soak: sustained ingestion through gunicorn while a Celery worker and beat do their work.

    .venv/bin/python benchmarks/soak.py                       # 10 minutes at 3,000 events/s
    .venv/bin/python benchmarks/soak.py --minutes 1 --rate 1000
    .venv/bin/python benchmarks/soak.py --write-docs          # also update docs/benchmarks.md

Starts everything it measures, on 127.0.0.1 only:
- a private redis-server on a free port (broker and cache; the shared one is not touched),
- gunicorn as scripts/demo.py runs it (one worker per core, 4 threads each),
- one Celery worker on every queue (prefork, 2 processes) and one beat,
against a dedicated database (`vigil_soak` on the server of DATABASE_URL, created and
migrated when missing) with one tenant, `soak`, whose events are truncated before and
after the run (--keep leaves them).

An open-loop asyncio + httpx client sends batches on a fixed schedule (`--rate` events/s
in batches of `--batch`, at most `--clients` requests in flight), so a slow server shows
up as latency and lag, not as a lower offered rate. Every answer must be 200 with every
event accepted; afterwards the stored count must equal what was sent, and the rollups
must catch up (no dirty hour left, rollup requests = stored events). The resident memory
(RSS) of every web and worker process is sampled every `--sample-s` seconds; the report
gives first/last/max and the least-squares slope over the second half of the run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from benchmarks.docs_section import health_wait, section_write  # noqa: E402

BIN = ROOT / ".venv" / "bin"
START_MARK = "<!-- soak-benchmark:start -->"
END_MARK = "<!-- soak-benchmark:end -->"
SLUG = "soak"
MODELS = [("gpt-4o-mini", "openai"), ("claude-3-5-sonnet-20241022", "anthropic"), ("x-2", "")]
FEATURES = ["chat", "search", "summarize", "support-bot"]


def say(message: str) -> None:
    print(f"[{datetime.now(tz=UTC):%H:%M:%S}] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def configure_environment(database: str) -> tuple[str, str]:
    """Point this process (and the children it starts) at the soak database and a private Redis."""
    import dj_database_url

    base = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/vigil")
    parsed = dj_database_url.parse(base)
    user = parsed.get("USER") or "postgres"
    auth = f"{user}:{parsed['PASSWORD']}" if parsed.get("PASSWORD") else user
    url = (
        f"postgresql://{auth}@{parsed.get('HOST') or '127.0.0.1'}:"
        f"{parsed.get('PORT') or 5432}/{database}"
    )
    redis_port = free_port()
    os.environ.update(
        {
            "DATABASE_URL": url,
            "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
            "CELERY_BROKER_URL": f"redis://127.0.0.1:{redis_port}/1",
            "DJANGO_SETTINGS_MODULE": "core.settings",
            "DEBUG": "0",
            "LOG_LEVEL": "WARNING",
            "VIGIL_INGEST_RATE_REQUESTS": "1000000",
            "VIGIL_INGEST_RATE_EVENTS": "100000000",
        }
    )
    return url, str(redis_port)


@dataclass
class Processes:
    web: subprocess.Popen[bytes] | None = None
    worker: subprocess.Popen[bytes] | None = None
    beat: subprocess.Popen[bytes] | None = None
    redis: subprocess.Popen[bytes] | None = None
    tmp: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="vigil-soak-")))

    def stop(self) -> None:
        for process in (self.web, self.worker, self.beat, self.redis):
            if process is not None and process.poll() is None:
                process.terminate()
        for process in (self.web, self.worker, self.beat, self.redis):
            if process is not None:
                try:
                    process.wait(30)
                except subprocess.TimeoutExpired:
                    process.kill()
        shutil.rmtree(self.tmp, ignore_errors=True)


def start_processes(args: argparse.Namespace, redis_port: str) -> tuple[Processes, str]:
    procs = Processes()
    procs.redis = subprocess.Popen(
        [
            "redis-server",
            "--port",
            redis_port,
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
    )
    port = free_port()
    procs.web = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "core.wsgi:application",
            f"--workers={args.workers}",
            f"--threads={args.threads}",
            f"--bind=127.0.0.1:{port}",
            "--log-level=warning",
            "--timeout=120",
            # Longer than the client's idle gaps: a connection closed by the server just as
            # the client reuses it is a retry the client must make (docs/operations.md).
            "--keep-alive=30",
        ],
        cwd=ROOT,
    )
    queues = "default,ingest,rollup,alerts,quality,billing,compliance"
    log = procs.tmp / "celery.log"
    procs.worker = subprocess.Popen(
        [
            str(BIN / "celery"),
            "-A",
            "core",
            "worker",
            "-Q",
            queues,
            "--concurrency=2",
            "--loglevel=WARNING",
            f"--logfile={log}",
        ],
        cwd=ROOT,
    )
    procs.beat = subprocess.Popen(
        [
            str(BIN / "celery"),
            "-A",
            "core",
            "beat",
            "--loglevel=WARNING",
            f"--schedule={procs.tmp / 'beat-schedule'}",
            f"--logfile={procs.tmp / 'beat.log'}",
        ],
        cwd=ROOT,
    )
    url = f"http://127.0.0.1:{port}"
    if health_wait(url, timeout_s=30):
        return procs, url
    procs.stop()
    raise SystemExit("gunicorn did not start")


def prepare_database() -> tuple[Any, str]:
    """Create/migrate the soak database, the tenant and an ingest key; empty its events."""
    from benchmarks.ingest import create_database_if_missing

    create_database_if_missing()
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    from core.request_context import acting_as
    from tenants.models import Tenant
    from tenants.services import api_key_create, tenant_create

    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        say("Migrating the soak database ...")
        call_command("migrate_schemas", interactive=False, verbosity=0)
    with acting_as("benchmarks/soak.py"):
        tenant = Tenant.objects.filter(schema_name=SLUG).first() or tenant_create(
            slug=SLUG, name="Soak"
        )
        key = api_key_create(tenant=tenant, name="soak", scopes=["ingest"]).raw_key
    empty_tenant(tenant)
    return tenant, key


def empty_tenant(tenant: Any) -> None:
    from django.db import connection
    from django_tenants.utils import tenant_context

    with tenant_context(tenant), connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE metrics_event, metrics_dirtyhour, metrics_hourlyrollup, "
            "metrics_coarserollup, metrics_violationrollup CASCADE"
        )
        cursor.execute("DELETE FROM public.metrics_dailyusage WHERE tenant_slug = %s", [SLUG])


# --- load ----------------------------------------------------------------------------------


def make_batch(rng: random.Random, run: str, first: int, size: int) -> bytes:
    import msgspec

    now = datetime.now(tz=UTC)
    events = []
    for n in range(first, first + size):
        model, provider = rng.choice(MODELS)
        feature = rng.choice(FEATURES)
        event: dict[str, Any] = {
            "event_id": f"{run}-{n}",
            "timestamp": (now - timedelta(seconds=rng.uniform(0, 90))).isoformat(),
            "feature": feature,
            "endpoint": f"/v1/{feature}",
            "model": model,
            "provider": provider,
            "customer": f"cust-{rng.randint(1, 50)}",
            "input_tokens": rng.randint(50, 4000),
            "output_tokens": rng.randint(10, 800),
            "latency_ms": round(rng.lognormvariate(6.4, 0.6), 1),
            "time_to_first_token_ms": round(rng.lognormvariate(5.5, 0.5), 1),
            "status": "ok" if rng.random() > 0.03 else "error",
            "attributes": {"region": rng.choice(["eu", "us"])},
        }
        if rng.random() < 0.02:
            event["policy_violations"] = [{"policy": "pii", "severity": "low", "action": "flagged"}]
        if rng.random() < 0.2:
            event["scores"] = [{"name": "helpfulness", "value": round(rng.random(), 3)}]
        events.append(event)
    return bytes(msgspec.json.encode({"events": events}))


@dataclass
class LoadResult:
    sent: int = 0
    accepted: int = 0
    errors: int = 0
    retries: int = 0
    error_samples: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    max_lag_s: float = 0.0
    seconds: float = 0.0


async def run_load(args: argparse.Namespace, url: str, key: str, run: str) -> LoadResult:
    import httpx
    import msgspec

    result = LoadResult()
    batches_per_s = args.rate / args.batch
    total = int(args.minutes * 60 * batches_per_s)
    limit = asyncio.Semaphore(args.clients)
    rng = random.Random(11)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    limits = httpx.Limits(max_connections=args.clients, max_keepalive_connections=args.clients)
    began = time.perf_counter()
    next_report = began + 30

    async def post(client: httpx.AsyncClient, body: bytes) -> httpx.Response:
        """One batch; a transport error (no answer) is retried with the same body and ids."""
        for attempt in range(3):
            try:
                return await client.post(f"{url}/api/v1/events", content=body, headers=headers)
            except httpx.TransportError:
                if attempt == 2:
                    raise
                result.retries += 1
        raise AssertionError("unreachable")

    async def send(client: httpx.AsyncClient, body: bytes, size: int) -> None:
        try:
            started = time.perf_counter()
            response = await post(client, body)
            result.latencies.append((time.perf_counter() - started) * 1000)
            accepted = int(msgspec.json.decode(response.content).get("accepted", 0))
            result.accepted += accepted
            if response.status_code != 200 or accepted != size:
                result.errors += 1
                if len(result.error_samples) < 5:
                    result.error_samples.append(f"{response.status_code} {response.text[:200]}")
        except (httpx.HTTPError, msgspec.DecodeError) as exc:
            result.errors += 1
            if len(result.error_samples) < 5:
                result.error_samples.append(repr(exc))
        finally:
            limit.release()

    async with httpx.AsyncClient(limits=limits, timeout=60) as client:
        tasks: set[asyncio.Task[None]] = set()
        for index in range(total):
            due = began + index / batches_per_s
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            await limit.acquire()
            result.max_lag_s = max(result.max_lag_s, time.perf_counter() - due)
            body = make_batch(rng, run, index * args.batch, args.batch)
            result.sent += args.batch
            task = asyncio.create_task(send(client, body, args.batch))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            if time.perf_counter() >= next_report:
                next_report += 30
                elapsed = time.perf_counter() - began
                p99 = pct(result.latencies[-2000:], 0.99)
                say(
                    f"  {elapsed / 60:4.1f} min: {result.accepted:,} accepted "
                    f"({result.accepted / elapsed:,.0f}/s), {result.errors} errors, "
                    f"recent p99 {p99:.0f} ms, lag {time.perf_counter() - due:.1f} s, "
                    f"load {os.getloadavg()[0]:.1f}"
                )
        if tasks:
            await asyncio.gather(*tasks)
    result.seconds = time.perf_counter() - began
    return result


# --- memory ---------------------------------------------------------------------------------


class MemorySampler(threading.Thread):
    def __init__(self, procs: Processes, every_s: float) -> None:
        super().__init__(daemon=True)
        self.procs = procs
        self.every_s = every_s
        self.samples: dict[str, list[tuple[float, float]]] = {}
        self.stop_event = threading.Event()
        self.began = time.monotonic()

    def _tree(self) -> dict[str, Any]:
        import psutil

        found: dict[str, Any] = {}
        roles = (("web", self.procs.web), ("worker", self.procs.worker), ("beat", self.procs.beat))
        for role, popen in roles:
            if popen is None or popen.poll() is not None:
                continue
            try:
                main = psutil.Process(popen.pid)
                found[f"{role} main ({main.pid})"] = main
                for n, child in enumerate(sorted(main.children(), key=lambda p: p.pid), 1):
                    found[f"{role} child {n} ({child.pid})"] = child
            except psutil.Error:
                continue
        return found

    def run(self) -> None:
        import psutil

        while not self.stop_event.wait(self.every_s):
            moment = (time.monotonic() - self.began) / 60
            for name, process in self._tree().items():
                try:
                    rss = process.memory_info().rss / 2**20
                except psutil.Error:
                    continue
                self.samples.setdefault(name, []).append((moment, rss))


def slope(points: list[tuple[float, float]]) -> float:
    """Least-squares MB per minute."""
    if len(points) < 3:
        return 0.0
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / den if den else 0.0


def pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


# --- checks and report -------------------------------------------------------------------


def stored_and_rollups(tenant: Any, wait_s: float) -> tuple[int, int, int, float]:
    """(stored events, rollup requests, dirty hours left, seconds the rollups needed)."""
    from django.db import connection
    from django_tenants.utils import tenant_context

    began = time.monotonic()
    with tenant_context(tenant):
        while True:
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM metrics_event")
                stored = cursor.fetchone()[0]
                cursor.execute("SELECT COALESCE(sum(requests), 0) FROM metrics_hourlyrollup")
                rolled = int(cursor.fetchone()[0])
                cursor.execute("SELECT count(*) FROM metrics_dirtyhour")
                dirty = cursor.fetchone()[0]
            if (dirty == 0 and rolled == stored) or time.monotonic() - began > wait_s:
                return stored, rolled, dirty, time.monotonic() - began
            time.sleep(5)


def machine() -> str:
    from benchmarks.ingest import machine as ingest_machine

    return ingest_machine()


def report(
    args: argparse.Namespace,
    load: LoadResult,
    sampler: MemorySampler,
    checks: tuple[int, int, int, float],
    load_avg: tuple[float, float, float],
) -> str:
    stored, rolled, dirty, caught_up_s = checks
    lines = [
        "| measure | result |",
        "|---|---|",
        f"| offered | {args.rate:,} events/s in batches of {args.batch}, at most "
        f"{args.clients} requests in flight, for {args.minutes:g} min |",
        f"| achieved | {load.accepted / load.seconds:,.0f} events/s "
        f"({load.accepted:,} accepted of {load.sent:,} sent in {load.seconds:,.0f} s) |",
        f"| error answers | {load.errors} (and {load.retries} batches re-sent after a "
        "connection closed without an answer) |",
        f"| batch latency p50 / p99 / max | {pct(load.latencies, 0.5):.0f} ms / "
        f"{pct(load.latencies, 0.99):.0f} ms / {max(load.latencies, default=0):.0f} ms |",
        f"| client schedule lag, max | {load.max_lag_s:.1f} s |",
        f"| stored once | {stored:,} stored = {load.sent:,} sent: "
        f"{'yes' if stored == load.sent == load.accepted else 'NO'} |",
        f"| rollups caught up | {rolled:,} requests in hourly rollups, {dirty} dirty hours "
        f"left, {caught_up_s:.0f} s after the last batch |",
        f"| load average 1/5/15 min at the end | {load_avg[0]:.1f} / {load_avg[1]:.1f} / "
        f"{load_avg[2]:.1f} |",
        "",
        "| process | RSS first | RSS last | RSS max | slope, 2nd half |",
        "|---|---|---|---|---|",
    ]
    for name, points in sorted(sampler.samples.items()):
        half = [p for p in points if p[0] >= points[-1][0] / 2]
        lines.append(
            f"| {name} | {points[0][1]:.0f} MB | {points[-1][1]:.0f} MB | "
            f"{max(p[1] for p in points):.0f} MB | {slope(half):+.2f} MB/min |"
        )
    return "\n".join(lines)


def write_docs(table: str, command: str) -> None:
    section = (
        f"{START_MARK}\n## Soak: sustained ingestion with worker and beat (`benchmarks/soak.py`)"
        f"\n\nCommand: `{command}`  \nDate: {datetime.now(tz=UTC):%Y-%m-%d %H:%M} UTC  \n"
        f"Machine: {machine()}  \n"
        "gunicorn as scripts/demo.py runs it, one Celery worker (prefork, 2 processes, every "
        "queue) and beat, a private redis-server; all on the same 2 cores as PostgreSQL "
        "(the machine is shared; see the load average).\n\n"
        f"{table}\n{END_MARK}"
    )
    doc = section_write(START_MARK, END_MARK, section)
    say(f"Updated {doc.relative_to(ROOT)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rate", type=int, default=3000, help="events per second offered")
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--clients", type=int, default=8, help="requests in flight at most")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--sample-s", type=float, default=5.0)
    parser.add_argument("--database", default="vigil_soak")
    parser.add_argument("--keep", action="store_true", help="keep the soak tenant's events")
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()

    _, redis_port = configure_environment(args.database)
    import django

    django.setup()
    tenant, key = prepare_database()
    say(
        f"Starting redis-server :{redis_port}, gunicorn {args.workers}x{args.threads}, "
        "Celery worker and beat ..."
    )
    procs, url = start_processes(args, redis_port)
    sampler = MemorySampler(procs, args.sample_s)
    try:
        sampler.start()
        run = f"soak{int(time.time())}"
        say(f"Sending {args.rate:,} events/s for {args.minutes:g} min to {url} ...")
        load = asyncio.run(run_load(args, url, key, run))
        say(f"Load done: {load.accepted:,} accepted, {load.errors} errors; waiting for rollups")
        checks = stored_and_rollups(tenant, wait_s=300)
        load_avg = os.getloadavg()
    finally:
        sampler.stop_event.set()
        procs.stop()
    table = report(args, load, sampler, checks, load_avg)
    print(table, flush=True)
    if load.error_samples:
        say("error samples: " + " | ".join(load.error_samples))
    if not args.keep:
        empty_tenant(tenant)
    if args.write_docs:
        write_docs(table, "python " + " ".join(["benchmarks/soak.py", *sys.argv[1:]]))
    stored = checks[0]
    if load.errors or stored != load.sent:
        raise SystemExit("soak failed: error answers or events missing")


if __name__ == "__main__":
    print(f"{platform.node()}: soak", flush=True)
    main()
