"""Dashboard speed: 10 million events in one tenant, every selector and read-API call timed.

    .venv/bin/python benchmarks/dashboard.py                 # 10M events (reuses them if present)
    .venv/bin/python benchmarks/dashboard.py --events 1000000 --repeat 5
    .venv/bin/python benchmarks/dashboard.py --write-docs    # also update docs/benchmarks.md

Uses the database of DATABASE_URL and a tenant named `bench` (created if
missing). Steps: generate events over 30 days with COPY (skipped when the
tenant already holds about that many), rebuild every hour's rollups (rollup
throughput), time every dashboard selector and read-API call for 24h/7d/30d
(p50/p95 over repeated runs, goal p95 < 150 ms), and compare histogram
percentiles with PostgreSQL's exact percentile_cont.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from benchmarks.docs_section import section_write  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "core.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django_tenants.utils import tenant_context  # noqa: E402

from core.request_context import acting_as  # noqa: E402
from metrics import histogram  # noqa: E402
from metrics import selectors as sel  # noqa: E402
from metrics.demo_traffic import generate_bulk_traffic  # noqa: E402
from metrics.models import DirtyHour, Event, HourlyRollup  # noqa: E402
from metrics.rollups.services import rollups_rebuild_range  # noqa: E402
from tenants.models import Tenant  # noqa: E402
from tenants.services import api_key_create, tenant_create  # noqa: E402

SLUG = "bench"
RANGES = ("24h", "7d", "30d")
GOAL_MS = 150.0
START_MARK = "<!-- dashboard-benchmark:start -->"
END_MARK = "<!-- dashboard-benchmark:end -->"


def say(message: str) -> None:
    print(message, flush=True)


def ensure_tenant() -> Tenant:
    tenant = Tenant.objects.filter(schema_name=SLUG).first()
    if tenant is None:
        say(f"Creating tenant {SLUG} ...")
        with acting_as("benchmarks/dashboard.py"):
            tenant = tenant_create(slug=SLUG, name="Benchmark")
    return tenant


def ensure_events(tenant: Tenant, target: int, days: int) -> dict[str, Any]:
    with tenant_context(tenant):
        have = Event.objects.count()
    if have >= target * 0.95:
        say(f"{SLUG} already holds {have:,} events; reusing them.")
        return {"generated": False, "events": have}
    say(f"Generating ~{target:,} events over {days} days with COPY ...")
    with tenant_context(tenant), connection.cursor() as cursor:
        cursor.execute("TRUNCATE metrics_event, metrics_dirtyhour, metrics_hourlyrollup CASCADE")
        cursor.execute("TRUNCATE metrics_violationrollup")
    began = time.monotonic()
    count = generate_bulk_traffic(tenant, events=target, days=days, progress=say)
    seconds = time.monotonic() - began
    with tenant_context(tenant), connection.cursor() as cursor:
        cursor.execute("ANALYZE metrics_event")
    say(f"Generated {count:,} events in {seconds:.0f}s ({count / seconds:,.0f}/s).")
    return {"generated": True, "events": count, "seconds": seconds}


def build_rollups(tenant: Tenant, days: int, force: bool) -> dict[str, Any]:
    with tenant_context(tenant):
        dirty = DirtyHour.objects.count()
        rows = HourlyRollup.objects.count()
        events = Event.objects.count()
        if rows and not dirty and not force:
            say(f"Rollups up to date ({rows:,} rows); use --rebuild to time the rebuild.")
            return {"rows": rows}
        end = datetime.now(tz=UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        start = end - timedelta(days=days + 1)
        say(f"Rebuilding rollups for {days + 1} days ({events:,} events) ...")

        def progress(done: int, total: int, hour: datetime) -> None:
            if done % 48 == 0 or done == total:
                say(f"  {done}/{total} hours")

        result = rollups_rebuild_range(start=start, end=end, progress=progress)
        DirtyHour.objects.all().delete()
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE metrics_hourlyrollup")
            cursor.execute("ANALYZE metrics_violationrollup")
        rows = HourlyRollup.objects.count()
    rate = events / result.seconds
    say(f"Rolled up {events:,} events into {rows:,} rows in {result.seconds:.0f}s ({rate:,.0f}/s).")
    return {"rows": rows, "seconds": result.seconds, "events_per_s": rate, "hours": result.hours}


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float]:
    fn()  # warm-up (connection, plans, caches)
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - began) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
    return statistics.median(samples), p95


def selector_calls(f: sel.MetricsFilter) -> dict[str, Callable[[], Any]]:
    return {
        "overview": lambda: sel.overview(f),
        "cost_summary": lambda: sel.cost_summary(f),
        "cost_breakdown(feature)": lambda: sel.cost_breakdown(f, by="feature"),
        "cost_breakdown(customer)": lambda: sel.cost_breakdown(f, by="customer"),
        "cost_concentration": lambda: sel.cost_concentration(f, by="feature"),
        "cost_series(feature)": lambda: sel.cost_series(f, by="feature"),
        "latency_summary": lambda: sel.latency_summary(f),
        "latency_breakdown(endpoint)": lambda: sel.latency_breakdown(f, by="endpoint"),
        "latency_series": lambda: sel.latency_series(f),
        "latency_series(endpoint)": lambda: sel.latency_series(f, by="endpoint"),
        "reliability_summary": lambda: sel.reliability_summary(f),
        "reliability_breakdown": lambda: sel.reliability_breakdown(f, by="provider"),
        "provider_availability_series": lambda: sel.provider_availability_series(f),
        "error_series": lambda: sel.error_series(f),
        "safety_summary": lambda: sel.safety_summary(f),
        "violations_breakdown": lambda: sel.violations_breakdown(f),
        "safety_series": lambda: sel.safety_series(f),
        "quality_summary": lambda: sel.quality_summary(f),
        "quality_breakdown": lambda: sel.quality_breakdown(f),
        "quality_series": lambda: sel.quality_series(f),
        "event_list": lambda: sel.event_list(f, limit=50),
        "tail_events": lambda: sel.tail_events(f, limit=50),
        "overview(feature filter)": lambda: sel.overview(
            f.with_dimensions(feature="voice-assistant")
        ),
        "overview(customer filter)": lambda: sel.overview(f.with_dimensions(customer="contoso")),
    }


API_PATHS = (
    "overview",
    "cost",
    "latency",
    "reliability",
    "safety",
    "quality",
    "events",
)


def time_everything(tenant: Tenant, repeat: int) -> list[tuple[str, str, float, float]]:
    results = []
    with tenant_context(tenant):
        for range_name in RANGES:
            f = sel.metrics_filter_for(range_name=range_name)
            for name, fn in selector_calls(f).items():
                p50, p95 = timed(fn, repeat)
                results.append((name, range_name, p50, p95))
                say(f"  {range_name:>4} {name:<32} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms")
    key = api_key_create(tenant=tenant, name="benchmark", scopes=["read"]).raw_key
    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    for range_name in RANGES:
        for path in API_PATHS:
            url = f"/api/v1/metrics/{path}?range={range_name}"

            def call(url: str = url) -> None:
                response = client.get(url)
                if response.status_code != 200:
                    raise RuntimeError(f"{url}: {response.status_code} {response.content[:200]!r}")

            p50, p95 = timed(call, repeat)
            results.append((f"GET /api/v1/metrics/{path}", range_name, p50, p95))
            say(f"  {range_name:>4} GET {path:<28} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms")
    return results


def histogram_error(tenant: Tenant) -> list[tuple[str, str, float, float, float]]:
    """Histogram percentile vs exact percentile_cont for whole ranges and one endpoint."""
    out = []
    with tenant_context(tenant):
        for range_name, endpoint in (("30d", None), ("7d", "/v1/voice"), ("24h", "/v1/chat")):
            f = sel.metrics_filter_for(range_name=range_name, endpoint=endpoint)
            merged = sel._query.histograms(f).get((), {})
            where = "timestamp >= %s AND timestamp < %s AND latency_ms IS NOT NULL"
            params: list[Any] = [f.start, f.end]
            if endpoint:
                where += " AND endpoint = %s"
                params.append(endpoint)
            for q in (0.5, 0.95, 0.99):
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT percentile_cont(%s) WITHIN GROUP (ORDER BY latency_ms) "
                        "FROM metrics_event WHERE " + where,
                        [q, *params],
                    )
                    exact = float(cursor.fetchone()[0])
                estimate = histogram.percentile(merged, q) or 0.0
                label = f"{range_name} {endpoint or 'all endpoints'}"
                quantile = f"p{round(q * 100)}"
                out.append((label, quantile, exact, estimate, abs(estimate - exact) / exact))
                say(f"  {label:<24} {quantile:<4} exact {exact:9.1f}  histogram {estimate:9.1f}")
    return out


def render(meta: dict[str, Any], timings: list, errors: list) -> str:
    lines = [
        START_MARK,
        "## Dashboard and read API (issue 4)",
        "",
        f"- Command: `{meta['command']}`",
        f"- Date: {meta['date']}; machine: {meta['machine']}",
        f"- Load average while timing (1 min, sampled before and after): {meta['load']} "
        "(the 2 cores are shared with other work; timings on a busy machine are pessimistic).",
        f"- Data: {meta['events']:,} events over 30 days in one tenant; "
        f"{meta['rollup_rows']:,} hourly rollup rows.",
    ]
    if meta.get("generate_s"):
        lines.append(
            f"- Generation (Python + COPY): {meta['generate_s']:.0f} s "
            f"({meta['events'] / meta['generate_s']:,.0f} events/s)."
        )
    if meta.get("rollup_s"):
        lines.append(
            f"- Rollup rebuild of every hour: {meta['rollup_s']:.0f} s, "
            f"**{meta['rollup_rate']:,.0f} events/s folded**."
        )
    worst = max(t[3] for t in timings)
    over = [t for t in timings if t[3] > GOAL_MS]
    lines += [
        f"- Server time, {meta['repeat']} runs after a warm-up; goal p95 < {GOAL_MS:.0f} ms. "
        f"Worst p95: {worst:.0f} ms; {len(over)} of {len(timings)} calls over the goal.",
        "",
        "| call | range | p50 ms | p95 ms |",
        "|---|---|---:|---:|",
    ]
    lines += [f"| {n} | {r} | {p50:.1f} | {p95:.1f} |" for n, r, p50, p95 in timings]
    lines += [
        "",
        "Histogram percentiles (log buckets, base 1.02) against exact `percentile_cont`:",
        "",
        "| data | quantile | exact ms | histogram ms | relative error |",
        "|---|---|---:|---:|---:|",
    ]
    lines += [f"| {d} | {q} | {e:.1f} | {h:.1f} | {err:.2%} |" for d, q, e, h, err in errors]
    lines += ["", END_MARK]
    return "\n".join(lines)


def write_docs(section: str) -> None:
    doc = section_write(START_MARK, END_MARK, section)
    say(f"Wrote {doc.relative_to(ROOT)}.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=9, help="timed runs per call")
    parser.add_argument("--rebuild", action="store_true", help="rebuild rollups even if built")
    parser.add_argument("--write-docs", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args()
    tenant = ensure_tenant()
    generated = ensure_events(tenant, args.events, args.days)
    rollup = build_rollups(tenant, args.days, force=args.rebuild or generated["generated"])
    say("Timing selectors and read-API calls ...")
    load_before = os.getloadavg()[0]
    timings = time_everything(tenant, args.repeat)
    load = f"{load_before:.1f} / {os.getloadavg()[0]:.1f}"
    say("Histogram percentiles vs percentile_cont ...")
    errors = histogram_error(tenant)
    pg_version = connection.cursor().connection.info.server_version  # e.g. 150020
    meta = {
        "command": "python benchmarks/dashboard.py " + " ".join(sys.argv[1:]),
        "date": datetime.now(tz=UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores (shared), "
        f"{platform.python_implementation()} {platform.python_version()}, "
        f"PostgreSQL {pg_version // 10000}.{pg_version % 100}",
        "events": generated["events"],
        "generate_s": generated.get("seconds"),
        "rollup_rows": rollup["rows"],
        "rollup_s": rollup.get("seconds"),
        "rollup_rate": rollup.get("events_per_s"),
        "repeat": args.repeat,
        "load": load,
    }
    section = render(meta, timings, errors)
    say("")
    say(section)
    if args.write_docs:
        write_docs(section)


if __name__ == "__main__":
    main()
