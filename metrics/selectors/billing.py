"""Usage as billing reads it (owned by billing; imported by billing only).

All functions run in the current tenant schema. `billable_usage` aggregates
the raw events (exact, for closing statements) or the hourly rollups (fast,
for month-to-date pages and Stripe meters), grouped by UTC day and the
chargeback dimensions; `cost_lines` streams raw events for exports.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Q

BILLING_DIMENSIONS = ("feature", "model", "provider", "query_type", "customer")
COST_LINE_FIELDS = (
    "event_id",
    "timestamp",
    "feature",
    "endpoint",
    "model",
    "provider",
    "query_type",
    "customer",
    "environment",
    "input_tokens",
    "output_tokens",
    "cached_input_tokens",
    "cost_usd",
    "cost_source",
    "price_version",
    "status",
)


@dataclass(frozen=True)
class UsageGroup:
    """Usage of one UTC day (or hour) and one combination of the billing dimensions."""

    bucket: datetime | date
    feature: str
    model: str
    provider: str
    query_type: str
    customer: str
    requests: int
    input_tokens: int
    output_tokens: int
    cached_input_tokens: int
    cost_usd: Decimal


_SOURCES = {
    "events": ("metrics_event", "timestamp", "count(*)"),
    "rollups": ("metrics_hourlyrollup", "hour", "sum(requests)"),
}


def billable_usage(
    *, start: datetime, end: datetime, source: str = "events", bucket: str = "day"
) -> list[UsageGroup]:
    """Usage in [start, end) per UTC `bucket` ("day" | "hour") and billing dimensions."""
    if source not in _SOURCES or bucket not in ("day", "hour"):
        raise ValueError("source is events|rollups and bucket is day|hour")
    table, time_col, requests = _SOURCES[source]
    dims = ", ".join(BILLING_DIMENSIONS)
    trunc = f"date_trunc('{bucket}', {time_col}, 'UTC')"
    sql = (
        f"SELECT {trunc} AS b, {dims}, {requests}, sum(input_tokens), "  # noqa: S608 (constants)
        f"sum(output_tokens), sum(cached_input_tokens), sum(cost_usd) FROM {table} "
        f"WHERE {time_col} >= %s AND {time_col} < %s GROUP BY b, {dims} ORDER BY b, {dims}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [start, end])
        rows = cursor.fetchall()
    out = []
    for row in rows:
        moment: datetime = row[0]
        out.append(
            UsageGroup(
                bucket=moment.date() if bucket == "day" else moment,
                feature=row[1],
                model=row[2],
                provider=row[3],
                query_type=row[4],
                customer=row[5],
                requests=int(row[6] or 0),
                input_tokens=int(row[7] or 0),
                output_tokens=int(row[8] or 0),
                cached_input_tokens=int(row[9] or 0),
                cost_usd=row[10] if row[10] is not None else Decimal("0"),
            )
        )
    return out


def cost_lines(
    *, start: datetime, end: datetime, chunk_size: int = 2000
) -> Iterator[dict[str, Any]]:
    """Raw cost lines (one per event) in [start, end), oldest first, fetched in chunks.

    Must be consumed inside the tenant context (a server-side cursor in a transaction
    is not needed: keyset pagination on (timestamp, id) keeps memory flat).
    """
    from metrics.models import Event

    last: tuple[datetime, int] | None = None
    while True:
        qs = Event.objects.filter(timestamp__gte=start, timestamp__lt=end)
        if last is not None:
            # keyset pagination on the (timestamp, id) pair; the plain range lets the
            # timestamp index start where the previous chunk ended.
            qs = qs.filter(timestamp__gte=last[0]).filter(
                Q(timestamp__gt=last[0]) | Q(timestamp=last[0], id__gt=last[1])
            )
        rows = list(qs.order_by("timestamp", "id").values("id", *COST_LINE_FIELDS)[:chunk_size])
        if not rows:
            return
        yield from rows
        last = (rows[-1]["timestamp"], rows[-1]["id"])
        if len(rows) < chunk_size:
            return


def cost_lines_count(*, start: datetime, end: datetime) -> int:
    from metrics.models import Event

    return Event.objects.filter(timestamp__gte=start, timestamp__lt=end).count()
