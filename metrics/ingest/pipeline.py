"""The ingest pipeline: validate, price, apply the content policy, store — one transaction.

Every way in (REST batches, OTLP spans, the Langfuse path, the Python client)
ends in `ingest_events`. What it reports as accepted is committed to
PostgreSQL before it returns (unless the caller wraps it in its own
transaction), together with the dirty hours the rollups rebuild and the
safety-violation records compliance keeps. Re-sending an event id — later,
or concurrently — answers `duplicate` and never stores it twice.

Telemetry is not a configuration change: events are not audited one by one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter
from typing import Any

import msgspec
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from compliance.violations import violation_records_create
from metrics.ingest.content import ContentPolicy, content_policy_current
from metrics.ingest.schema import Checked, check_event
from metrics.ingest.writer import COLUMNS, JSON_COLUMNS, events_copy_insert
from metrics.models import CostSource, Event
from metrics.pricing.selectors import PriceBook, price_book_current
from metrics.rollups.services import dirty_hours_mark
from tenants.models import Tenant

logger = logging.getLogger(__name__)

ACCEPTED, DUPLICATE, REJECTED = "accepted", "duplicate", "rejected"
_encode = msgspec.json.Encoder().encode

# Event column defaults for optional fields that were not given.
DEFAULTS: dict[str, Any] = {
    "endpoint": "",
    "query_type": "",
    "customer": "",
    "user_id": "",
    "session_id": "",
    "environment": "production",
    "release": "",
    "content_category": "",
    "trace_id": "",
    "span_id": "",
    "parent_span_id": "",
    "provider": "",
    "response_model": "",
    "input_tokens": 0,
    "output_tokens": 0,
    "cached_input_tokens": 0,
    "reasoning_tokens": 0,
    "latency_ms": None,
    "time_to_first_token_ms": None,
    "status": "ok",
    "error_type": "",
    "retries": 0,
    "fallback_used": False,
    "fallback_from": "",
    "refused": False,
    "policy_violations": [],
    "scores": [],
    "retrieval": [],
    "input": "",
    "output": "",
    "attributes": {},
}


@dataclass(frozen=True)
class EventOutcome:
    index: int
    event_id: str | None
    status: str  # "accepted" | "duplicate" | "rejected"
    errors: dict[str, str]  # field -> why (only for rejected)


def ingest_events(
    *, tenant: Tenant, raw_events: list[Any], source: str = "rest"
) -> list[EventOutcome]:
    """Validate, price, store (committed to PostgreSQL before returning) — in tenant's schema."""
    if getattr(connection, "schema_name", None) != tenant.schema_name:
        with tenant_context(tenant):
            return _ingest(raw_events, source)
    return _ingest(raw_events, source)


def _complete_row(
    checked: Checked, *, received_at: datetime, book: PriceBook, policy: ContentPolicy
) -> dict[str, Any]:
    row = {**DEFAULTS, **checked.row}  # a valid event's row holds no None values
    row["received_at"] = received_at
    if checked.content_truncated:
        row["attributes"] = {**row["attributes"], "vigil.content_truncated": True}
        checked.json.pop("attributes", None)
    row["violation_count"] = len(row["policy_violations"])
    if row.get("cost_usd") is not None:
        row["cost_source"] = CostSource.CLIENT
        row["price_version"] = "client"
    else:
        priced = book.cost(
            model=row["model"],
            provider=row["provider"],
            moment=row["timestamp"],
            input_tokens=row["input_tokens"],
            output_tokens=row["output_tokens"],
            cached_input_tokens=row["cached_input_tokens"],
        )
        row["cost_usd"] = priced.cost_usd
        row["cost_source"] = priced.cost_source
        row["price_version"] = priced.price_version
    policy.apply(row, received_at=received_at)
    return row


_ROW_VALUES = itemgetter(*COLUMNS)
_JSON_POSITIONS = [(COLUMNS.index(name), name) for name in sorted(JSON_COLUMNS)]


def _as_copy_row(row: dict[str, Any], json_texts: dict[str, str] | None = None) -> list[Any]:
    """Values in writer.COLUMNS order; JSON columns as text (pre-encoded by the validator)."""
    values = list(_ROW_VALUES(row))
    texts = json_texts or {}
    for position, name in _JSON_POSITIONS:
        text = texts.get(name)
        values[position] = text if text is not None else _encode(row[name]).decode()
    return values


def _ingest(raw_events: list[Any], source: str) -> list[EventOutcome]:
    received_at = timezone.now()
    outcomes: list[EventOutcome | None] = [None] * len(raw_events)
    valid: list[tuple[int, Checked]] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_events):
        checked = check_event(raw, now=received_at)
        if checked.errors:
            outcomes[index] = EventOutcome(index, checked.event_id, REJECTED, checked.errors)
        elif checked.event_id in seen:  # the same id twice in one batch: the first one counts
            outcomes[index] = EventOutcome(index, checked.event_id, DUPLICATE, {})
        else:
            seen.add(str(checked.event_id))
            valid.append((index, checked))

    if valid:
        with transaction.atomic():
            book = price_book_current()
            policy = content_policy_current()
            rows = [
                _complete_row(checked, received_at=received_at, book=book, policy=policy)
                for _, checked in valid
            ]
            copy_rows = [
                _as_copy_row(row, checked.json)
                for row, (_, checked) in zip(rows, valid, strict=True)
            ]
            inserted = events_copy_insert(copy_rows)
            new_rows = [row for row in rows if row["event_id"] in inserted]
            events_with_violations = [
                Event(**row) for row in new_rows if row["policy_violations"] or row["refused"]
            ]
            if events_with_violations:
                violation_records_create(events=events_with_violations)
            # Last before the commit: concurrent batches for the same hour wait on its
            # DirtyHour row lock only from here, not while this batch does other work.
            dirty_hours_mark(hours=[row["timestamp"] for row in new_rows])
        for (index, checked), row in zip(valid, rows, strict=True):
            status = ACCEPTED if row["event_id"] in inserted else DUPLICATE
            outcomes[index] = EventOutcome(index, checked.event_id, status, {})
        logger.debug("ingest %s: %d new of %d valid", source, len(inserted), len(valid))
    return [outcome for outcome in outcomes if outcome is not None]


def outcome_counts(outcomes: list[EventOutcome]) -> dict[str, int]:
    counts = {ACCEPTED: 0, DUPLICATE: 0, REJECTED: 0}
    for outcome in outcomes:
        counts[outcome.status] += 1
    return counts
