"""Synthetic events: a factory for tests, and the demo tenants' 30 days of traffic.

`event_build` makes one unsaved Event with sensible defaults; `events_insert`
writes a batch and marks its hours dirty (what ingestion does); the scenario
in metrics/demo_scenario.py shapes realistic traffic with the field guide's
three incidents, `seed_tenant_traffic` fills a demo tenant with it, and
`generate_bulk_traffic` writes millions of events with COPY for benchmarks.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django_tenants.utils import tenant_context

from metrics.demo_scenario import TAIL_THRESHOLDS_MS, DemoScenario
from metrics.models import CostSource, EndpointThreshold, Event
from metrics.rollups.services import dirty_hours_mark, dirty_hours_process, floor_hour

_DEFAULTS: dict[str, Any] = {
    "feature": "chat",
    "endpoint": "/v1/chat",
    "query_type": "question",
    "customer": "",
    "environment": "production",
    "content_category": "",
    "provider": "openai",
    "model": "gpt-4o-mini",
    "input_tokens": 100,
    "output_tokens": 50,
    "cached_input_tokens": 0,
    "cost_usd": Decimal("0.0010000000"),
    "cost_source": CostSource.CLIENT,
    "latency_ms": 200.0,
    "time_to_first_token_ms": None,
    "status": "ok",
}


def event_build(**fields: Any) -> Event:
    """One unsaved Event; any field may be overridden (`timestamp` defaults to now)."""
    data = {**_DEFAULTS, **fields}
    now = datetime.now(tz=UTC)
    data.setdefault("event_id", f"ev-{uuid.uuid4().hex}")
    data.setdefault("timestamp", now)
    data.setdefault("received_at", now)
    if not isinstance(data["cost_usd"], Decimal):
        data["cost_usd"] = Decimal(str(data["cost_usd"]))
    violations = data.get("policy_violations") or []
    data.setdefault("violation_count", len(violations))
    return Event(**data)


def events_insert(events: Iterable[Event], *, batch_size: int = 2000) -> int:
    """Insert events in the current tenant schema and mark their hours dirty, atomically."""
    rows = list(events)
    with transaction.atomic():
        Event.objects.bulk_create(rows, batch_size=batch_size)
        dirty_hours_mark(hours=[e.timestamp for e in rows])
    return len(rows)


def seed_tenant_traffic(
    tenant: Any,
    *,
    days: int = 30,
    events_per_day: int = 1200,
    now: datetime | None = None,
    seed: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> int:
    """Fill `tenant` with `days` of demo traffic ending now, then build its rollups.

    Idempotent: event ids are deterministic (tenant, day, sequence) and days
    that already hold demo events are skipped, so a re-run only adds the days
    missing since the last one.
    """
    say = progress or (lambda _msg: None)
    end = floor_hour(now or datetime.now(tz=UTC)) + timedelta(hours=1)
    start = end - timedelta(days=days)
    inserted = 0
    with tenant_context(tenant):
        for endpoint, threshold in TAIL_THRESHOLDS_MS.items():
            EndpointThreshold.objects.get_or_create(
                endpoint=endpoint, defaults={"threshold_ms": threshold}
            )
        scenario = DemoScenario(tenant_slug=tenant.schema_name, start=start, end=end, seed=seed)
        done = {
            d.date() if isinstance(d, datetime) else d
            for d in Event.objects.filter(event_id__startswith=f"demo-{tenant.schema_name}-").dates(
                "timestamp", "day"
            )
        }
        day = start.date()
        while day <= end.date():
            if day not in done:
                batch = scenario.events_for_day(day, events_per_day)
                if batch:
                    inserted += events_insert(batch)
                    say(f"  {tenant.schema_name} {day}: {len(batch):>6} events (total {inserted})")
            day += timedelta(days=1)
        say(f"  {tenant.schema_name}: building rollups ...")
        result = dirty_hours_process(max_hours=100_000, time_budget_s=3600)
        say(f"  {tenant.schema_name}: {result.hours} hours rolled up in {result.seconds:.1f}s")
    return inserted


# --- large volumes (benchmarks): COPY ------------------------------------------------------
def _copy_columns() -> list[tuple[str, Any]]:
    columns = []
    for field in Event._meta.concrete_fields:
        if field.primary_key:
            continue
        default = field.get_default() if field.has_default() else None
        columns.append((str(field.column), default))
    return columns


def events_copy(rows: Iterable[dict[str, Any]]) -> tuple[int, set[datetime]]:
    """COPY event dicts into the current schema's event table; returns (count, hours).

    The caller marks the hours dirty (or rebuilds them); nothing is validated,
    so this is for generated data only.
    """
    columns = _copy_columns()
    json_columns = {"policy_violations", "scores", "retrieval", "attributes"}
    names = ", ".join(name for name, _ in columns)
    count = 0
    hours: set[datetime] = set()
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY metrics_event ({names}) FROM STDIN") as copy,
    ):
        for row in rows:
            values = []
            for name, default in columns:
                value = row.get(name, default)
                if name in json_columns:
                    value = json.dumps(value if value is not None else default)
                values.append(value)
            copy.write_row(values)
            hours.add(floor_hour(row["timestamp"]))
            count += 1
    return count, hours


def generate_bulk_traffic(
    tenant: Any,
    *,
    events: int,
    days: int = 30,
    now: datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> int:
    """About `events` demo events over `days` via COPY (no rollups: the caller builds them)."""
    say = progress or (lambda _msg: None)
    end = floor_hour(now or datetime.now(tz=UTC)) + timedelta(hours=1)
    start = end - timedelta(days=days)
    total = 0
    began = time.monotonic()
    with tenant_context(tenant):
        scenario = DemoScenario(tenant_slug=f"bulk{tenant.schema_name}", start=start, end=end)
        # Weekends, the daily curve and the clipped first and last days make the days hold
        # fewer calls than `per_day`, so size `per_day` by what the hours actually get
        # (search calls add a child span: ~3% more rows than calls).
        days_list = [
            start.date() + timedelta(days=n) for n in range((end.date() - start.date()).days + 1)
        ]
        probe = 100_000
        calls_per_probe = (
            sum(c for d in days_list for _, c in scenario.hour_counts(d, probe)) / probe
        )
        per_day = max(1, round(events / max(calls_per_probe, 1e-9) / 1.03))
        for day in days_list:
            with transaction.atomic():
                count, hours = events_copy(scenario.draw_day(day, per_day))
                dirty_hours_mark(hours=hours)
            total += count
            rate = total / max(time.monotonic() - began, 1e-9)
            say(f"  {day}: {count:>8} events, {total:>9} total ({rate:,.0f}/s)")
    return total
