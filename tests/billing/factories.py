"""Helpers for billing tests: a month of varied events, and expectations from raw rows."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django_tenants.utils import tenant_context

from metrics.demo_traffic import event_build, events_insert
from metrics.models import Event
from tenants.models import Tenant

FEATURES = ("chat", "search", "summarize")
MODELS = ("gpt-4o-mini", "gpt-4o", "claude-3-5-sonnet")
QUERY_TYPES = ("question", "lookup", "")
CUSTOMERS = ("acme-retail", "globex-bank", "")


def month_of_events(
    tenant: Tenant, *, year: int, month: int, count: int = 400, seed: int = 7, prefix: str = "bt"
) -> list[Event]:
    """`count` events spread over the month (plus a few just outside it), committed or not
    depending on the caller's transaction."""
    rng = random.Random(seed)
    start = datetime(year, month, 1, tzinfo=UTC)
    nxt = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=UTC)
    span = (nxt - start).total_seconds()
    events = []
    for i in range(count):
        ts = start + timedelta(seconds=rng.uniform(0, span - 1))
        events.append(
            event_build(
                event_id=f"{prefix}-{tenant.schema_name}-{year}{month:02d}-{seed}-{i}",
                timestamp=ts,
                received_at=ts,
                feature=rng.choice(FEATURES),
                model=rng.choice(MODELS),
                query_type=rng.choice(QUERY_TYPES),
                customer=rng.choice(CUSTOMERS),
                input_tokens=rng.randint(10, 5000),
                output_tokens=rng.randint(1, 2000),
                cached_input_tokens=rng.choice((0, 0, 5)),
                cost_usd=Decimal(rng.randint(1, 10**8)) / Decimal(10**10),
            )
        )
    # Outside the period: must not count.
    for j, ts in enumerate((start - timedelta(microseconds=1), nxt)):
        events.append(
            event_build(
                event_id=f"{prefix}-{tenant.schema_name}-{year}{month:02d}-{seed}-out{j}",
                timestamp=ts,
                received_at=ts,
                cost_usd=Decimal("5"),
            )
        )
    with tenant_context(tenant):
        events_insert(events)
    return events


def in_month(events: list[Event], year: int, month: int) -> list[Event]:
    return [e for e in events if e.timestamp.year == year and e.timestamp.month == month]
