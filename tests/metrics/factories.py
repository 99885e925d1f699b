"""Helpers for metrics tests: events written straight into a tenant schema."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from django_tenants.utils import tenant_context

from metrics.demo_traffic import event_build, events_insert
from metrics.models import Event
from metrics.rollups.services import dirty_hours_process
from tenants.models import Tenant


def hours_ago(n: float, *, now: datetime | None = None) -> datetime:
    base = (now or datetime.now(tz=UTC)).replace(minute=0, second=0, microsecond=0)
    return base - timedelta(hours=n)


@contextmanager
def in_tenant(tenant: Tenant) -> Iterator[None]:
    with tenant_context(tenant):
        yield


def add_events(tenant: Tenant, specs: list[dict[str, Any]], *, rollup: bool = True) -> list[Event]:
    with in_tenant(tenant):
        events = [event_build(**spec) for spec in specs]
        events_insert(events)
        if rollup:
            dirty_hours_process()
    return events
