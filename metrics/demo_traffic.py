"""Synthetic events: a factory for tests, and the demo tenants' 30 days of traffic.

`event_build` makes one unsaved Event with sensible defaults; `events_insert`
writes a batch and marks its hours dirty (what ingestion does); the scenario
in metrics/demo_scenario.py shapes realistic traffic with the field guide's
three incidents, and `seed_tenant_traffic` fills a tenant with it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django_tenants.utils import tenant_context

from metrics.models import CostSource, Event
from metrics.rollups.services import dirty_hours_mark, dirty_hours_process

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
    events_per_day: int = 1500,
    now: datetime | None = None,
    seed: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> int:
    """Fill `tenant` with `days` of demo traffic ending now, then build its rollups.

    Idempotent: events carry deterministic ids (per tenant, day and sequence)
    and days that already hold demo events are skipped, so re-running only adds
    the days that are missing (e.g. the ones since the last run).
    """
    from metrics.demo_scenario import DemoScenario

    say = progress or (lambda _msg: None)
    end = (now or datetime.now(tz=UTC)).replace(minute=0, second=0, microsecond=0)
    end += timedelta(hours=1)
    first_day = (end - timedelta(days=days)).date()
    inserted = 0
    with tenant_context(tenant):
        scenario = DemoScenario(
            tenant_slug=tenant.schema_name, start=end - timedelta(days=days), end=end, seed=seed
        )
        existing = set(
            Event.objects.filter(event_id__startswith=f"demo-{tenant.schema_name}-")
            .values_list("event_id", flat=True)
            .distinct()
            .iterator()
        )
        existing_days = {eid.split("-")[2] for eid in existing if eid.count("-") >= 3}
        for offset in range(days + 1):
            day = first_day + timedelta(days=offset)
            if day.strftime("%Y%m%d") in existing_days:
                continue
            batch = scenario.events_for_day(day, events_per_day)
            if not batch:
                continue
            inserted += events_insert(batch)
            say(f"  {tenant.schema_name}: {day} {len(batch):>6} events (total {inserted})")
        say(f"  {tenant.schema_name}: building rollups ...")
        result = dirty_hours_process(max_hours=100_000, time_budget_s=3600)
        say(f"  {tenant.schema_name}: {result.hours} hours rolled up in {result.seconds:.1f}s")
    return inserted
