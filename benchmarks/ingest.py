"""Ingest speed: raw COPY vs. end-to-end HTTP through gunicorn, and batch latency.

    .venv/bin/python benchmarks/ingest.py                     # 100k events, 4 clients
    .venv/bin/python benchmarks/ingest.py --events 200000 --clients 6
    .venv/bin/python benchmarks/ingest.py --write-docs        # also update docs/benchmarks.md

Uses the database of DATABASE_URL (migrated if needed) and a tenant named
`bench_ingest` (created if missing; its events are truncated between steps).
In one run, on the same machine, with the same generated events:

(a) raw PostgreSQL COPY of the rows the pipeline would store into the same
    table (metrics_event of the bench tenant), one connection, one commit;
(b) end-to-end events/s through POST /api/v1/events served by gunicorn as
    scripts/demo.py runs it (one worker per core, 4 threads each; 127.0.0.1
    only), batches of 500, several concurrent clients sending pre-encoded
    JSON; every answer is checked and the stored count compared with what
    was sent (rate limits raised so they are counted but never hit);
(c) p50/p99 latency of one 500-event batch, one client at a time (and the
    p50/p99 seen under the load of (b)).
(a) and (b) alternate for --rounds rounds (3) and the medians are reported:
the machine is shared, and a lone run of either can be skewed by other work.
Goal: (b) >= 25 % of (a).
"""

from __future__ import annotations

import argparse
import os
import platform
import queue
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from benchmarks.docs_section import health_wait, section_write  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "core.settings")

import django  # noqa: E402

django.setup()

import msgspec  # noqa: E402
import requests  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.migrations.executor import MigrationExecutor  # noqa: E402
from django_tenants.utils import tenant_context  # noqa: E402

from core.request_context import acting_as  # noqa: E402
from metrics.ingest.content import content_policy_current  # noqa: E402
from metrics.ingest.pipeline import _as_copy_row, _complete_row  # noqa: E402
from metrics.ingest.schema import check_event  # noqa: E402
from metrics.ingest.writer import COLUMNS  # noqa: E402
from metrics.models import Event  # noqa: E402
from metrics.pricing.selectors import price_book_current  # noqa: E402
from tenants.models import Tenant  # noqa: E402
from tenants.services import api_key_create, tenant_create  # noqa: E402

SLUG = "bench_ingest"
START_MARK = "<!-- ingest-benchmark:start -->"
END_MARK = "<!-- ingest-benchmark:end -->"
MODELS = [
    ("gpt-4o-mini", "openai"),
    ("gpt-4o-2024-08-06", "openai"),
    ("claude-3-5-sonnet-20241022", "anthropic"),
    ("gemini-2.0-flash", "google"),
    ("mistral-small-latest", "mistral"),
    ("my-finetune-v2", "acme"),  # unpriced
]
FEATURES = ["chat", "search", "summarize", "newsletter", "support-bot"]
encode = msgspec.json.Encoder().encode
decode = msgspec.json.Decoder().decode


def say(message: str) -> None:
    print(message, flush=True)


def check(condition: bool, message: str) -> None:
    if not condition:
        raise SystemExit(f"benchmark failed: {message}")


def create_database_if_missing() -> None:
    """Create the database of DATABASE_URL when it does not exist yet (a fresh machine)."""
    import psycopg

    params = connection.get_connection_params()
    name = connection.settings_dict["NAME"]
    try:
        psycopg.connect(**params).close()
    except psycopg.OperationalError:
        admin = {**params, "dbname": "postgres"}
        with psycopg.connect(**admin, autocommit=True) as conn:
            say(f"Creating database {name} ...")
            conn.execute(f'CREATE DATABASE "{name}"')


def ensure_database() -> Tenant:
    create_database_if_missing()
    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        say("Migrating the database (first run) ...")
        call_command("migrate_schemas", interactive=False, verbosity=0)
    tenant = Tenant.objects.filter(schema_name=SLUG).first()
    if tenant is None:
        say(f"Creating tenant {SLUG} ...")
        with acting_as("benchmarks/ingest.py"):
            tenant = tenant_create(slug=SLUG, name="Ingest benchmark")
    return tenant


def truncate(tenant: Tenant) -> None:
    with tenant_context(tenant), connection.cursor() as cursor:
        cursor.execute("TRUNCATE metrics_event, metrics_dirtyhour CASCADE")


def make_events(count: int, run: str, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    now = datetime.now(tz=UTC)
    events = []
    for n in range(count):
        model, provider = rng.choice(MODELS)
        feature = rng.choice(FEATURES)
        status = "ok" if rng.random() > 0.03 else rng.choice(["error", "timeout", "rate_limited"])
        event: dict[str, Any] = {
            "event_id": f"{run}-{n}",
            "timestamp": (now - timedelta(seconds=rng.uniform(0, 3000))).isoformat(),
            "feature": feature,
            "endpoint": f"/v1/{feature}",
            "model": model,
            "provider": provider,
            "customer": f"cust-{rng.randint(1, 200)}",
            "environment": "production",
            "input_tokens": rng.randint(50, 4000),
            "output_tokens": rng.randint(10, 800),
            "cached_input_tokens": rng.choice([0, 0, 0, 256]),
            "latency_ms": round(rng.lognormvariate(6.4, 0.6), 1),
            "time_to_first_token_ms": round(rng.lognormvariate(5.5, 0.5), 1),
            "status": status,
            "trace_id": f"{rng.getrandbits(128):032x}",
            "span_id": f"{rng.getrandbits(64):016x}",
            "attributes": {"region": rng.choice(["eu", "us"]), "prompt_version": "v12"},
        }
        if rng.random() < 0.02:
            event["policy_violations"] = [{"policy": "pii", "severity": "low", "action": "flagged"}]
        if rng.random() < 0.2:
            event["scores"] = [{"name": "helpfulness", "value": round(rng.random(), 3)}]
        if rng.random() < 0.05:
            event["input"] = "Summarise this ticket from jane@example.com: " + "lorem " * 60
            event["output"] = "The customer asks about invoice 4411. " * 5
        events.append(event)
    return events


def measure_copy(tenant: Tenant, events: list[dict[str, Any]]) -> dict[str, float]:
    """(a) The rows the pipeline would store, COPYed straight into metrics_event.

    Timed twice: with psycopg formatting each row (`write_row`, what a client
    program does) and with the COPY text already in memory (the server alone:
    the strictest baseline, used for the ratio).
    """
    cols = ", ".join(f'"{c}"' for c in COLUMNS)
    with tenant_context(tenant):
        book, policy = price_book_current(), content_policy_current()
        now = datetime.now(tz=UTC)
        rows = [
            _as_copy_row(
                _complete_row(check_event(e, now=now), received_at=now, book=book, policy=policy)
            )
            for e in events
        ]
        began = time.perf_counter()
        with (
            transaction.atomic(),
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY metrics_event ({cols}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
        rows_seconds = time.perf_counter() - began
        check(Event.objects.count() == len(events), "COPY did not store every row")
        chunks: list[bytes] = []
        with connection.cursor() as cursor:
            sql = f"COPY (SELECT {cols} FROM metrics_event) TO STDOUT"  # noqa: S608
            with cursor.cursor.copy(sql) as out:
                chunks.extend(bytes(chunk) for chunk in out)
    truncate(tenant)
    with tenant_context(tenant):
        began = time.perf_counter()
        with (
            transaction.atomic(),
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY metrics_event ({cols}) FROM STDIN") as copy,
        ):
            for chunk in chunks:
                copy.write(chunk)
        text_seconds = time.perf_counter() - began
        check(Event.objects.count() == len(events), "COPY did not store every row")
    return {
        "rows_rate": len(events) / rows_seconds,
        "rate": len(events) / text_seconds,
        "seconds": text_seconds,
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_gunicorn(workers: int, threads: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        "VIGIL_INGEST_RATE_REQUESTS": "1000000",
        "VIGIL_INGEST_RATE_EVENTS": "100000000",
    }
    command = [
        str(ROOT / ".venv" / "bin" / "gunicorn"),
        "core.wsgi:application",
        f"--workers={workers}",
        f"--threads={threads}",
        f"--bind=127.0.0.1:{port}",
        "--log-level=warning",
        "--timeout=120",
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    url = f"http://127.0.0.1:{port}"
    if health_wait(url, timeout_s=20):
        return process, url
    process.terminate()
    raise SystemExit("gunicorn did not start")


def post_batch(session: requests.Session, url: str, key: str, body: bytes) -> tuple[float, int]:
    began = time.perf_counter()
    response = session.post(
        f"{url}/api/v1/events",
        data=body,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        timeout=120,
    )
    elapsed = time.perf_counter() - began
    if response.status_code != 200:
        raise SystemExit(f"batch refused: {response.status_code} {response.text[:300]}")
    return elapsed, int(decode(response.content)["accepted"])


def measure_http(url: str, key: str, bodies: list[bytes], clients: int) -> dict[str, Any]:
    """(b) Every batch through HTTP, `clients` at a time."""
    work: queue.Queue[bytes] = queue.Queue()
    for body in bodies:
        work.put(body)
    latencies: list[float] = []
    accepted: list[int] = []
    lock = threading.Lock()
    done = [0]

    def client() -> None:
        session = requests.Session()
        while True:
            try:
                body = work.get_nowait()
            except queue.Empty:
                return
            elapsed, count = post_batch(session, url, key, body)
            with lock:
                latencies.append(elapsed)
                accepted.append(count)
                done[0] += 1
                if done[0] % max(1, len(bodies) // 10) == 0:
                    say(f"    {done[0]}/{len(bodies)} batches")

    threads = [threading.Thread(target=client) for _ in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    return {
        "seconds": seconds,
        "rate": sum(accepted) / seconds,
        "accepted": sum(accepted),
        "lat": latencies,
    }


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0]
    return (
        f"{cpu}, {os.cpu_count()} cores, Linux {platform.release()}, PostgreSQL {pg}, "
        f"Python {platform.python_version()}"
    )


def write_docs(table: str, command: str) -> None:
    section = (
        f"{START_MARK}\n## Ingestion (`benchmarks/ingest.py`)\n\n"
        f"Command: `{command}`  \nDate: {datetime.now(tz=UTC):%Y-%m-%d %H:%M} UTC  \n"
        f"Machine: {machine()}  \nLoad average (1 min) at the end of the run: "
        f"{os.getloadavg()[0]:.1f} (the machine is shared; other work competes for the cores)"
        f"\n\n{table}\n\n"
        "(a) is the same rows the pipeline stores, COPYed by one connection in one "
        "transaction into the bench tenant's metrics_event (all its indexes); (b) is the whole "
        "path: auth, rate limit, gzip/size checks, JSON decode, validation, pricing, "
        "sampling, redaction, COPY (through a stage with ON CONFLICT when a batch holds a "
        "duplicate), dirty hours, "
        "violation records, commit, per-event answer. Every run checks that each event "
        "was stored exactly once.\n"
        f"{END_MARK}"
    )
    doc = section_write(START_MARK, END_MARK, section)
    say(f"Updated {doc.relative_to(ROOT)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument(
        "--threads", type=int, default=4, help="per worker, as scripts/demo.py runs gunicorn"
    )
    parser.add_argument("--latency-batches", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=3, help="alternating (a)/(b) rounds")
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()

    tenant = ensure_database()
    with acting_as("benchmarks/ingest.py"):
        key = api_key_create(tenant=tenant, name="benchmark", scopes=["ingest"]).raw_key
    run = f"b{int(time.time())}"
    say(f"Generating {args.events:,} events ...")
    events = make_events(args.events, run)

    bodies = [
        encode({"events": events[i : i + args.batch]}) for i in range(0, len(events), args.batch)
    ]
    say(f"Starting gunicorn with {args.workers} workers x {args.threads} threads ...")
    process, url = start_gunicorn(args.workers, args.threads)
    copies: list[dict[str, float]] = []
    runs: list[dict[str, Any]] = []
    try:
        warm = make_events(args.batch * 2, f"{run}-warm", seed=1)
        for i in range(0, len(warm), args.batch):
            post_batch(requests.Session(), url, key, encode({"events": warm[i : i + args.batch]}))
        # (a) and (b) alternate, so both see the same (shared, noisy) machine.
        for round_no in range(1, args.rounds + 1):
            say(f"Round {round_no}/{args.rounds}: (a) raw COPY into metrics_event ...")
            truncate(tenant)
            copies.append(measure_copy(tenant, events))
            say(
                f"    {copies[-1]['rate']:,.0f} rows/s from prepared COPY text, "
                f"{copies[-1]['rows_rate']:,.0f} rows/s formatting rows with psycopg"
            )
            truncate(tenant)
            say(f"Round {round_no}: (b) {len(bodies)} batches over HTTP, {args.clients} clients")
            runs.append(measure_http(url, key, bodies, args.clients))
            with tenant_context(tenant):
                stored = Event.objects.count()
            check(
                runs[-1]["accepted"] == stored == len(events),
                f"sent {len(events)}, accepted {runs[-1]['accepted']}, stored {stored}",
            )
            say(f"    {runs[-1]['rate']:,.0f} events/s, {stored:,} stored once")

        say(f"(c) {args.latency_batches} single batches of {args.batch}, one at a time ...")
        single = make_events(args.batch * args.latency_batches, f"{run}-lat", seed=2)
        session = requests.Session()
        lat = [
            post_batch(session, url, key, encode({"events": single[i : i + args.batch]}))[0]
            for i in range(0, len(single), args.batch)
        ]
    finally:
        process.terminate()
        process.wait(20)
    truncate(tenant)

    copy = {
        "rate": statistics.median(c["rate"] for c in copies),
        "rows_rate": statistics.median(c["rows_rate"] for c in copies),
    }
    http = {
        "rate": statistics.median(r["rate"] for r in runs),
        "lat": [latency for r in runs for latency in r["lat"]],
    }
    ratios = " / ".join(
        f"{r['rate'] / c['rate'] * 100:.0f}" for r, c in zip(runs, copies, strict=True)
    )
    ratio = http["rate"] / copy["rate"] * 100
    table = "\n".join(
        [
            "| measure | result |",
            "|---|---|",
            f"| events | {args.events:,} in batches of {args.batch} |",
            f"| (a) raw COPY into metrics_event, prepared text | {copy['rate']:,.0f} rows/s |",
            f"| (a') raw COPY, psycopg formatting each row | {copy['rows_rate']:,.0f} rows/s |",
            f"| (b) HTTP end to end, gunicorn {args.workers} workers x {args.threads} threads, "
            f"{args.clients} clients | {http['rate']:,.0f} events/s |",
            f"| (b) / (a) | {ratio:.0f} % (goal >= 25 %) |",
            f"| (c) 500-event batch, one client: p50 / p99 | {pct(lat, 0.5):.0f} ms / "
            f"{pct(lat, 0.99):.0f} ms |",
            f"| (c) 500-event batch under load (b): p50 / p99 | {pct(http['lat'], 0.5):.0f} ms / "
            f"{pct(http['lat'], 0.99):.0f} ms |",
        ]
    )
    table += (
        f"\n\nMedians of {args.rounds} rounds, (a) and (b) alternating; (b)/(a) per round: "
        f"{ratios} %."
    )
    say("")
    say(table)
    if args.write_docs:
        write_docs(table, "python " + " ".join(["benchmarks/ingest.py", *sys.argv[1:]]))


if __name__ == "__main__":
    main()
