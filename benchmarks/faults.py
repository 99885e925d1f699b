"""Long fault runs (`make faults`): a real PostgreSQL restarted under a stream of batches, and
rollup workers SIGKILLed again and again — both checked against the raw events.

    .venv/bin/python benchmarks/faults.py                  # 200k events, 3 restarts, 6 kills
    .venv/bin/python benchmarks/faults.py --write-docs     # also update docs/benchmarks.md

Everything runs on a PRIVATE PostgreSQL cluster (initdb + pg_ctl in a temporary directory,
on a free port, as the `postgres` user when run as root) and a private redis-server: the
machine's shared PostgreSQL and Redis are never restarted or touched. Steps:

1. migrate the empty cluster, create a tenant and an ingest key (the manage.py commands an
   operator uses), start gunicorn (2 workers x 4 threads) against it;
2. (a) stream batches from several clients, each retrying a batch with the same body (and
   so the same event ids) on 503 or a lost connection; in the middle, `pg_ctl restart`
   (`-m immediate`, then `-m fast`, ...). Afterwards: stored = sent, each id once, and no
   answer was a 5xx other than 503;
3. (c) run the rollup job (`dirty_hours_process`) in a subprocess and SIGKILL it at a random
   moment, several times; after each kill every hour that is NOT marked dirty must equal
   its raw events (the invariant the job keeps), then one run to the end must leave no
   dirty hour and rollups and the public daily usage equal to the raw events.
"""

from __future__ import annotations

import argparse
import collections
import os
import random
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import msgspec
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from benchmarks.docs_section import section_write  # noqa: E402
from benchmarks.private_cluster import (  # noqa: E402
    BIN,
    PrivateCluster,
    free_port,
    manage,
    say,
    start_gunicorn,
)

START_MARK = "<!-- faults-benchmark:start -->"
END_MARK = "<!-- faults-benchmark:end -->"
SLUG = "faults"


# --- (a) restarts under a stream ------------------------------------------------------------


def make_bodies(count: int, batch: int, run: str, hours: int) -> list[bytes]:
    rng = random.Random(5)
    now = datetime.now(tz=UTC)
    features = ["chat", "search", "summarize", "support-bot"]
    models = ["gpt-4o-mini", "claude-3-5-sonnet-20241022", "gemini-2.0-flash", "x-1"]
    events = [
        {
            "event_id": f"{run}-{n}",
            "timestamp": (now - timedelta(seconds=rng.uniform(0, hours * 3600))).isoformat(),
            "feature": rng.choice(features),
            "model": rng.choice(models),
            "input_tokens": rng.randint(10, 3000),
            "output_tokens": rng.randint(5, 600),
            "latency_ms": round(rng.lognormvariate(6.3, 0.6), 1),
            "status": "ok" if rng.random() > 0.05 else "error",
        }
        for n in range(count)
    ]
    return [msgspec.json.encode({"events": events[i : i + batch]}) for i in range(0, count, batch)]


@dataclass
class StreamResult:
    batches: int = 0
    accepted: int = 0
    duplicate: int = 0
    retries: int = 0
    statuses: collections.Counter[int] = field(default_factory=collections.Counter)
    restarts: list[tuple[str, float]] = field(default_factory=list)
    seconds: float = 0.0
    failures: list[str] = field(default_factory=list)


def stream_with_restarts(
    url: str, key: str, bodies: list[bytes], clients: int, cluster: PrivateCluster, restarts: int
) -> StreamResult:
    result = StreamResult()
    lock = threading.Lock()
    work = collections.deque(bodies)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

    def client() -> None:
        with httpx.Client(timeout=60) as http:
            while True:
                with lock:
                    if not work:
                        return
                    body = work.popleft()
                delay = 0.2
                for _attempt in range(200):  # the same body, so the same event ids
                    try:
                        response = http.post(f"{url}/api/v1/events", content=body, headers=headers)
                    except httpx.TransportError:
                        status = 0
                    else:
                        status = response.status_code
                    with lock:
                        result.statuses[status] += 1
                    if status == 200:
                        answer = msgspec.json.decode(response.content)
                        with lock:
                            result.batches += 1
                            result.accepted += int(answer["accepted"])
                            result.duplicate += int(answer["duplicate"])
                        break
                    if status not in (0, 502, 503, 504):
                        with lock:
                            result.failures.append(f"HTTP {status}: {response.text[:200]}")
                        break
                    with lock:
                        result.retries += 1
                    time.sleep(delay)
                    delay = min(2.0, delay * 2)

    def restarter() -> None:
        for n in range(restarts):
            target = len(bodies) * (n + 1) // (restarts + 1)
            while result.batches < target and any(t.is_alive() for t in threads):
                time.sleep(0.05)
            mode = "immediate" if n % 2 == 0 else "fast"
            seconds = cluster.restart(mode)
            result.restarts.append((mode, seconds))
            say(f"  pg_ctl restart -m {mode} after {result.batches} batches: {seconds:.1f} s")

    threads = [threading.Thread(target=client) for _ in range(clients)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    control = threading.Thread(target=restarter)
    control.start()
    for thread in threads:
        thread.join()
    control.join()
    result.seconds = time.monotonic() - began
    return result


# --- (c) rollup workers killed --------------------------------------------------------------

UNMARKED_MISMATCH_SQL = """
WITH raw AS (
    SELECT date_trunc('hour', timestamp) AS hour, feature, model, count(*) AS requests,
        sum(input_tokens) AS tokens, sum(cost_usd) AS cost
    FROM metrics_event GROUP BY 1, 2, 3
), rolled AS (
    SELECT hour, feature, model, sum(requests) AS requests, sum(input_tokens) AS tokens,
        sum(cost_usd) AS cost
    FROM metrics_hourlyrollup GROUP BY 1, 2, 3
)
SELECT count(*) FROM raw FULL JOIN rolled USING (hour, feature, model)
WHERE (raw.requests IS DISTINCT FROM rolled.requests OR raw.tokens IS DISTINCT FROM rolled.tokens
       OR raw.cost IS DISTINCT FROM rolled.cost)
  AND hour NOT IN (SELECT hour FROM metrics_dirtyhour)
"""

DAILY_MISMATCH_SQL = """
WITH raw AS (
    SELECT timestamp::date AS day, feature, model, count(*) AS requests, sum(cost_usd) AS cost
    FROM metrics_event GROUP BY 1, 2, 3
), usage AS (
    SELECT day, feature, model, requests, cost_usd AS cost
    FROM public.metrics_dailyusage WHERE tenant_slug = %s
)
SELECT count(*) FROM raw FULL JOIN usage USING (day, feature, model)
WHERE raw.requests IS DISTINCT FROM usage.requests OR raw.cost IS DISTINCT FROM usage.cost
"""

ROLLUP_CODE = (
    "import django; django.setup()\n"
    "from django_tenants.utils import schema_context\n"
    "from metrics.rollups.services import dirty_hours_process\n"
    f"with schema_context({SLUG!r}):\n"
    "    print(dirty_hours_process(max_hours=100000, time_budget_s=3600).hours)\n"
)


def one_value(cluster: PrivateCluster, sql: str, params: list[Any] | None = None) -> int:
    with psycopg.connect(cluster.url()) as conn:
        conn.execute(f"SET search_path TO {SLUG}, public")
        conn.execute("SET TIME ZONE 'UTC'")
        row = conn.execute(sql, params or []).fetchone()
    return int(row[0]) if row else 0


@dataclass
class KillResult:
    kills: int = 0
    finished_early: int = 0
    dirty_before: int = 0
    unmarked_mismatches_after_kills: list[int] = field(default_factory=list)
    final_dirty: int = -1
    final_mismatches: int = -1
    daily_mismatches: int = -1
    final_seconds: float = 0.0


def post_all(url: str, key: str, bodies: list[bytes]) -> None:
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    with httpx.Client(timeout=60) as http:
        for body in bodies:
            response = http.post(f"{url}/api/v1/events", content=body, headers=headers)
            response.raise_for_status()


def kill_rollups(
    env: dict[str, str],
    cluster: PrivateCluster,
    kills: int,
    late: list[list[bytes]],
    url: str,
    key: str,
) -> KillResult:
    """Before each kill, late events land in every hour (all hours dirty, rollups stale);
    the worker is killed once it has finished at least one hour, at a random moment after."""
    dirty_sql = "SELECT count(*) FROM metrics_dirtyhour"
    result = KillResult(dirty_before=one_value(cluster, dirty_sql))
    rng = random.Random(3)
    for n in range(kills):
        if n:
            post_all(url, key, late[n - 1])
        dirty_at_start = one_value(cluster, dirty_sql)
        worker = subprocess.Popen(
            [str(BIN / "python"), "-c", ROLLUP_CODE], cwd=ROOT, env=env, stdout=subprocess.DEVNULL
        )
        while worker.poll() is None and one_value(cluster, dirty_sql) >= dirty_at_start:
            time.sleep(0.02)
        time.sleep(rng.uniform(0.0, 0.6))  # somewhere inside a later hour's rebuild
        if worker.poll() is None:
            os.kill(worker.pid, signal.SIGKILL)
            result.kills += 1
        else:
            result.finished_early += 1
        worker.wait()
        bad = one_value(cluster, UNMARKED_MISMATCH_SQL)
        dirty = one_value(cluster, dirty_sql)
        result.unmarked_mismatches_after_kills.append(bad)
        say(
            f"  kill {n + 1}: {dirty_at_start} dirty hours before, {dirty} after; "
            f"{bad} unmarked hour(s) differ from raw"
        )
    began = time.monotonic()
    subprocess.run([str(BIN / "python"), "-c", ROLLUP_CODE], cwd=ROOT, env=env, check=True)
    result.final_seconds = time.monotonic() - began
    result.final_dirty = one_value(cluster, dirty_sql)
    result.final_mismatches = one_value(cluster, UNMARKED_MISMATCH_SQL)
    result.daily_mismatches = one_value(cluster, DAILY_MISMATCH_SQL, [SLUG])
    return result


# --- report ---------------------------------------------------------------------------------


def report(
    args: argparse.Namespace, stream: StreamResult, stored: tuple[int, int], kills: KillResult
) -> str:
    total = args.events
    server_errors = {s: n for s, n in stream.statuses.items() if s >= 500 and s != 503}
    listed = f" {server_errors}" if server_errors else ""
    restarts = ", ".join(f"`-m {mode}` {seconds:.1f} s" for mode, seconds in stream.restarts)
    return "\n".join(
        [
            "| check | result |",
            "|---|---|",
            f"| (a) stream | {total:,} events in {len(range(0, total, args.batch))} batches of "
            f"{args.batch}, {args.clients} clients, {stream.seconds:.0f} s |",
            f"| (a) PostgreSQL restarts mid-stream | {restarts} |",
            f"| (a) answers while it restarted | {stream.statuses.get(503, 0)} x 503, "
            f"{stream.statuses.get(0, 0)} without answer (transport error); "
            f"{stream.retries} retries with the same ids |",
            f"| (a) other 5xx answers | {sum(server_errors.values())}{listed} |",
            f"| (a) accepted + duplicate on retry | {stream.accepted:,} + {stream.duplicate:,} |",
            f"| (a) stored / distinct ids / sent | {stored[0]:,} / {stored[1]:,} / {total:,}: "
            f"{'exact' if stored[0] == stored[1] == total else 'WRONG'} |",
            f"| (c) rollup worker SIGKILLed mid-run | {kills.kills} times "
            f"({kills.finished_early} runs finished before the kill), over "
            f"{kills.dirty_before} dirty hours; before each kill after the first, "
            f"{args.events // 10:,} late events spread over all hours |",
            f"| (c) hours without a dirty mark that differ from raw, after each kill | "
            f"{', '.join(map(str, kills.unmarked_mismatches_after_kills))} |",
            f"| (c) after one full run | {kills.final_dirty} dirty hours left, "
            f"{kills.final_mismatches} (hour, feature, model) rows differ from raw, "
            f"{kills.daily_mismatches} daily-usage rows differ ({kills.final_seconds:.0f} s) |",
        ]
    )


def write_docs(table: str, command: str, pg_version: str) -> None:
    section = (
        f"{START_MARK}\n## Faults: PostgreSQL restarts and killed rollup workers "
        f"(`make faults`, `benchmarks/faults.py`)\n\n"
        f"Command: `{command}`  \nDate: {datetime.now(tz=UTC):%Y-%m-%d %H:%M} UTC  \n"
        f"Machine: {os.cpu_count()} cores, private PostgreSQL {pg_version} cluster "
        "(initdb in a temporary directory), gunicorn 2 workers x 4 threads, private "
        f"redis-server; load average at the end {os.getloadavg()[0]:.1f}\n\n"
        f"{table}\n\n"
        "(a) is a real restart of the server process (crash recovery with `immediate`): each "
        "batch is committed whole or not at all, answered 503 while PostgreSQL is away, and "
        "re-sent with the same ids. (c) checks the invariant the rollup job keeps: an hour "
        "without a dirty mark equals its raw events, whenever the worker dies.\n\n"
        "Quick variants of these faults, and the broker outage, the killed export and the "
        "silent webhook, run in the test suite: `tests/faults/`.\n"
        f"{END_MARK}"
    )
    doc = section_write(START_MARK, END_MARK, section)
    say(f"Updated {doc.relative_to(ROOT)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--hours", type=int, default=12, help="events spread over this many hours")
    parser.add_argument("--restarts", type=int, default=3)
    parser.add_argument("--kills", type=int, default=6)
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()

    cluster = PrivateCluster()
    redis_port = free_port()
    redis = None
    web = None
    try:
        say(f"Private PostgreSQL cluster on port {cluster.port} ({cluster.dir}) ...")
        cluster.start()
        redis = subprocess.Popen(
            ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", ""],
            stdout=subprocess.DEVNULL,
        )
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "core.settings",
            "DATABASE_URL": cluster.url(),
            "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
            "CELERY_BROKER_URL": f"redis://127.0.0.1:{redis_port}/1",
            "DEBUG": "0",
            "LOG_LEVEL": "ERROR",
            "VIGIL_INGEST_RATE_REQUESTS": "0",
            "VIGIL_INGEST_RATE_EVENTS": "0",
        }
        say("migrate_schemas, create_tenant, create_api_key ...")
        manage(env, "migrate_schemas", "--noinput")
        manage(env, "create_tenant", SLUG, "--name", "Faults")
        key = manage(env, "create_api_key", SLUG).strip().splitlines()[-1]
        access_log = cluster.dir / "access.log"
        web, url = start_gunicorn(env, access_log)
        bodies = make_bodies(args.events, args.batch, f"f{int(time.time())}", args.hours)
        say(f"(a) {args.events:,} events, {args.clients} clients, {args.restarts} restarts ...")
        stream = stream_with_restarts(url, key, bodies, args.clients, cluster, args.restarts)
        stored = (
            one_value(cluster, "SELECT count(*) FROM metrics_event"),
            one_value(cluster, "SELECT count(DISTINCT event_id) FROM metrics_event"),
        )
        say(f"    stored {stored[0]:,}, distinct {stored[1]:,}, statuses {dict(stream.statuses)}")
        say(f"(c) rollup worker killed {args.kills} times ...")
        late = [
            make_bodies(args.events // 10, args.batch, f"late{n}-{int(time.time())}", args.hours)
            for n in range(args.kills)
        ]
        kills = kill_rollups(env, cluster, args.kills, late, url, key)
        pg_version = cluster.version()
    finally:
        if web is not None:
            web.terminate()
            web.wait(30)
        if redis is not None:
            redis.terminate()
            redis.wait(30)
        cluster.stop()
    table = report(args, stream, stored, kills)
    print(table, flush=True)
    if args.write_docs:
        write_docs(table, "python " + " ".join(["benchmarks/faults.py", *sys.argv[1:]]), pg_version)
    ok = (
        stored[0] == stored[1] == args.events
        and not stream.failures
        and not [s for s in stream.statuses if s >= 500 and s != 503]
        and not any(kills.unmarked_mismatches_after_kills)
        and kills.final_dirty == 0
        and kills.final_mismatches == 0
        and kills.daily_mismatches == 0
    )
    if not ok:
        raise SystemExit(f"faults run FAILED: {stream.failures[:3]}")
    say("faults run passed")


if __name__ == "__main__":
    main()
