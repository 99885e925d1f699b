"""Alerts benchmark: one evaluation cycle over 100 tenants with 100 rules each.

Setup (once, reused): tenants `bench_alerts_000`..`bench_alerts_099` (creating a
schema runs every tenant migration, 1-3 s each, so they are kept between runs),
each with about three hours of traffic (5 features x 3 models x 2 providers,
one call every 6 s) whose rollups are built, and 100 rules: the 7 defaults
plus 93 generated across every plain metric, windows from 5 minutes to 24
hours (the longer ones read the hourly rollups), with and without splits.

Measured: a cycle evaluates every tenant in turn in this one process (one
worker; in production each tenant is its own task on the alerts queue, so
workers share the cycle). The first cycle after setup runs with cold rollup
caches, the next ones warm (the steady state: windows' complete hours are
cached for 5 minutes). Then how the cycle grows with rules per tenant (10, 50,
100) and with tenants (25, 50, 100).

Usage: point DATABASE_URL at a scratch database (not your test database: the
session tests iterate over every tenant), e.g.
    createdb -h 127.0.0.1 -U postgres vigil_bench_alerts
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/vigil_bench_alerts \\
        .venv/bin/python manage.py migrate_schemas --shared
    DATABASE_URL=... .venv/bin/python benchmarks/alerts.py [--tenants 100] [--write-docs]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "core.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django_tenants.utils import tenant_context  # noqa: E402

from alerts.evaluation.engine import evaluate_tenant  # noqa: E402
from alerts.incidents.models import Incident  # noqa: E402
from alerts.rules.models import AlertRule, RuleState  # noqa: E402
from alerts.rules.services import alert_rules_create_defaults, rule_clean  # noqa: E402
from core.request_context import acting_as  # noqa: E402
from metrics.demo_traffic import event_build, events_insert  # noqa: E402
from metrics.models import DirtyHour  # noqa: E402
from metrics.rollups.services import dirty_hours_process  # noqa: E402
from tenants.models import Tenant  # noqa: E402
from tenants.services import tenant_create  # noqa: E402

DOCS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
START, END = "<!-- alerts-benchmark:start -->", "<!-- alerts-benchmark:end -->"
FEATURES = ["search", "chat", "summarize", "classify", "extract"]
MODELS = [("gpt-4o-mini", "openai"), ("gpt-4o", "openai"), ("claude-3-5-haiku", "anthropic")]
METRICS = [
    ("spend", 5.0),
    ("cost_per_request", 0.01),
    ("tokens", 1e6),
    ("requests", 10_000),
    ("latency_p50", 2000),
    ("latency_p95", 4000),
    ("latency_p99", 8000),
    ("ttft_p95", 3000),
    ("tail_count", 500),
    ("error_rate", 20),
    ("timeout_rate", 10),
    ("fallback_rate", 30),
    ("refusal_rate", 10),
    ("violation_count", 100),
    ("quality_score", 0.1),
]
WINDOWS = [5, 10, 15, 30, 60, 360, 1440]
SPLITS = ["", "feature", "model", "provider"]


def bench_tenants(count: int) -> list[Tenant]:
    tenants = []
    for n in range(count):
        slug = f"bench_alerts_{n:03d}"
        tenant = Tenant.objects.filter(schema_name=slug).first()
        if tenant is None:
            started = time.monotonic()
            with acting_as("alerts benchmark"):
                tenant = tenant_create(slug=slug, name=f"Alerts bench {n:03d}")
            print(f"  created {slug} in {time.monotonic() - started:.1f}s", flush=True)
        tenants.append(tenant)
    connection.set_schema_to_public()  # type: ignore[attr-defined]
    return tenants


def fill(tenant: Tenant, now: datetime) -> None:
    """Traffic from three hours before `now` to 75 minutes after it (the cycles evaluate
    up to an hour ahead, with explicit times), and 100 rules; kept when still current."""
    from metrics.models import Event

    with tenant_context(tenant):
        AlertRule.objects.update(last_evaluated_at=None)  # every run starts at `now`
        RuleState.objects.all().delete()
        Incident.objects.all().delete()
        current = Event.objects.filter(timestamp__gte=now + timedelta(minutes=70)).exists()
        if current and AlertRule.objects.count() >= 100:
            return
        Event.objects.all().delete()
        DirtyHour.objects.all().delete()
        events = []
        moment, n = now - timedelta(hours=3), 0
        while moment < now + timedelta(minutes=75):
            model, provider = MODELS[n % 3]
            events.append(
                event_build(
                    timestamp=moment,
                    received_at=moment,
                    feature=FEATURES[n % 5],
                    model=model,
                    provider=provider,
                    latency_ms=150.0 + (n * 37) % 900,
                    time_to_first_token_ms=80.0 + (n * 11) % 300,
                    status="error" if n % 97 == 0 else "ok",
                    fallback_used=n % 53 == 0,
                    scores=[{"name": "judge", "value": 0.8 + (n % 5) / 50}],
                )
            )
            moment += timedelta(seconds=6)
            n += 1
        events_insert(events)
        dirty_hours_process(max_hours=1000, time_budget_s=600)
        if AlertRule.objects.count() >= 100:
            return
        AlertRule.objects.all().delete()
        with acting_as("alerts benchmark"):
            alert_rules_create_defaults()
        # The generated rules are validated like any rule but written in bulk, without the
        # per-rule audit entry (setup speed only; nothing measured depends on it).
        rules = []
        for i in range(93):
            metric, threshold = METRICS[i % len(METRICS)]
            data: dict[str, Any] = {
                "name": f"bench {i:02d} {metric}",
                "metric": metric,
                "window_minutes": WINDOWS[i % len(WINDOWS)],
                "split_by": SPLITS[(i // 3) % len(SPLITS)],
                "comparison": "lt" if metric == "quality_score" else "gt",
                "warning_threshold": threshold,
                "for_evaluations": 3,
                "min_samples": 10,
            }
            if i % 4 == 1:
                data["feature"] = FEATURES[i % 5]
            rules.append(AlertRule(**rule_clean(data)))
        AlertRule.objects.bulk_create(rules)


def cycle(tenants: list[Tenant], now: datetime) -> float:
    started = time.monotonic()
    for tenant in tenants:
        with tenant_context(tenant):
            evaluate_tenant(now=now)
    connection.set_schema_to_public()  # type: ignore[attr-defined]
    return time.monotonic() - started


def enable_first(tenants: list[Tenant], rules: int) -> None:
    for tenant in tenants:
        with tenant_context(tenant):
            ids = list(AlertRule.objects.order_by("pk").values_list("pk", flat=True))
            AlertRule.objects.filter(pk__in=ids[:rules]).update(enabled=True)
            AlertRule.objects.filter(pk__in=ids[rules:]).update(enabled=False)
    connection.set_schema_to_public()  # type: ignore[attr-defined]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tenants", type=int, default=100)
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    now = datetime.now(tz=UTC).replace(second=0, microsecond=0)
    print(f"setting up {args.tenants} tenants ...", flush=True)
    tenants = bench_tenants(args.tenants)
    for tenant in tenants:
        fill(tenant, now)
    connection.set_schema_to_public()  # type: ignore[attr-defined]
    # Caches of our own, so that the first cycle is really cold.
    settings.VIGIL_ALERTS_CACHE_PREFIX = f"alerts-bench-{uuid.uuid4().hex}"
    minute = [now - timedelta(minutes=1)]

    def next_now() -> datetime:
        minute[0] += timedelta(minutes=1)
        return minute[0]

    enable_first(tenants, 100)
    rows: list[tuple[str, str]] = []
    cold = cycle(tenants, next_now())
    warm = [cycle(tenants, next_now()) for _ in range(3)]
    total_rules = args.tenants * 100
    rows.append(
        (f"{args.tenants} tenants x 100 rules, first cycle (empty caches)", f"{cold:.1f} s")
    )
    rows.append(
        (
            f"{args.tenants} tenants x 100 rules, steady state (median of 3)",
            f"{sorted(warm)[1]:.1f} s ({sorted(warm)[1] / total_rules * 1000:.2f} ms/rule)",
        )
    )
    minute[0] = minute[0].replace(minute=0) + timedelta(hours=1)  # the hour turns
    turn = cycle(tenants, next_now())
    rows.append((f"{args.tenants} tenants x 100 rules, first cycle of a new hour", f"{turn:.1f} s"))
    print(rows[-3:], flush=True)
    for rules in (10, 50):
        enable_first(tenants, rules)
        cycle(tenants, next_now())
        took = sorted(cycle(tenants, next_now()) for _ in range(2))[0]
        rows.append((f"{args.tenants} tenants x {rules} rules, steady state", f"{took:.1f} s"))
        print(rows[-1], flush=True)
    enable_first(tenants, 100)
    for count in (25, 50):
        if count >= args.tenants:
            continue
        cycle(tenants[:count], next_now())
        took = cycle(tenants[:count], next_now())
        rows.append((f"{count} tenants x 100 rules, steady state", f"{took:.1f} s"))
        print(rows[-1], flush=True)
    load = os.getloadavg()[0]
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0]
    text = "\n".join(
        [
            START,
            "## Alerts evaluation (`benchmarks/alerts.py`)",
            "",
            f"Command: `python benchmarks/alerts.py --tenants {args.tenants}`  ",
            f"Date: {datetime.now(tz=UTC):%Y-%m-%d %H:%M} UTC  ",
            f"Machine: {os.cpu_count()} cores, {platform.system()} {platform.release()}, "
            f"PostgreSQL {pg}, Python {platform.python_version()}; load average at the end "
            f"{load:.1f} (shared machine)",
            "",
            "One cycle = every tenant evaluated in turn by one process (production runs one task",
            "per tenant across the alerts workers). Each tenant: traffic every 6 s around the",
            "evaluated times (1,800 calls in the 3 h before),",
            "100 rules (7 defaults + 93 over every plain metric, windows 5 min - 24 h, splits by",
            "feature/model/provider). Goal: 100 x 100 under 20 s. Complete hours are cached",
            "per hour (in-process and Redis), so only a restart with an empty Redis pays the",
            "first-cycle cost; when the hour turns only the new hour is read.",
            "",
            "| measure | result |",
            "|---|---|",
            *[f"| {name} | {value} |" for name, value in rows],
            END,
        ]
    )
    print(text)
    if args.write_docs:
        current = DOCS.read_text() if DOCS.exists() else "# Benchmarks\n"
        if START in current and END in current:
            before, rest = current.split(START, 1)
            after = rest.split(END, 1)[1]
            current = before + text + after
        else:
            current = current.rstrip("\n") + "\n\n" + text + "\n"
        DOCS.write_text(current)


if __name__ == "__main__":
    main()
