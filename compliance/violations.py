"""Safety-violation records: written by ingestion, inside its transaction.

`violation_records_create` takes the events ingestion just inserted (duck-typed:
any object with the Event attributes named below) and writes one immutable
record per policy violation, plus one per refusal when the tenant's compliance
settings ask for it. It must run in the tenant's schema (ingestion already is).
Compliance never imports metrics: the event is read through its attributes.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.utils import timezone

from compliance.models import ComplianceSettings, ViolationKind, ViolationRecord
from core.redaction import excerpt

SEVERITIES = ("low", "medium", "high", "critical")
EXCERPT_LIMIT = 240


def _text(value: Any, limit: int, default: str = "") -> str:
    if value is None:
        return default
    text = str(value).strip()
    return text[:limit] if text else default


def _severity(value: Any) -> str:
    text = _text(value, 16).lower()
    return text if text in SEVERITIES else (text or "unspecified")


def _excerpt_of(event: Any) -> str:
    source = getattr(event, "output", "") or getattr(event, "input", "") or ""
    return excerpt(str(source), limit=EXCERPT_LIMIT)


def _when(event: Any, fallback: datetime) -> datetime:
    value = getattr(event, "timestamp", None)
    return value if isinstance(value, datetime) else fallback


def _records_for(event: Any, *, record_refusals: bool, now: datetime) -> list[ViolationRecord]:
    violations = getattr(event, "policy_violations", None) or []
    refused = bool(getattr(event, "refused", False))
    if not violations and not (refused and record_refusals):
        return []
    common = {
        "event_id": _text(getattr(event, "event_id", ""), 128),
        "trace_id": _text(getattr(event, "trace_id", ""), 64),
        "span_id": _text(getattr(event, "span_id", ""), 32),
        "feature": _text(getattr(event, "feature", ""), 128),
        "model": _text(getattr(event, "model", ""), 128),
        "excerpt": _excerpt_of(event),
        "occurred_at": _when(event, now),
        "recorded_at": now,
    }
    records = []
    for position, item in enumerate(violations if isinstance(violations, list) else []):
        item = item if isinstance(item, dict) else {"policy": item}
        records.append(
            ViolationRecord(
                kind=ViolationKind.VIOLATION,
                position=position,
                policy=_text(item.get("policy"), 128, "unspecified"),
                severity=_severity(item.get("severity")),
                action=_text(item.get("action"), 32),
                **common,
            )
        )
    if refused and record_refusals:
        records.append(
            ViolationRecord(
                kind=ViolationKind.REFUSAL,
                position=-1,
                policy="refusal",
                severity="low",
                action="refused",
                **common,
            )
        )
    return records


def violation_records_create(*, events: Iterable[Any]) -> int:
    """Write the records of `events` (idempotent per event and position); return how many.

    One query to read the tenant's settings and one bulk insert, and only when
    some event has a violation or refusal, so the ingest hot path stays cheap.
    """
    candidates = [
        event
        for event in events
        if getattr(event, "policy_violations", None) or getattr(event, "refused", False)
    ]
    if not candidates:
        return 0
    settings_row = ComplianceSettings.objects.filter(pk=1).only("record_refusals").first()
    record_refusals = bool(settings_row and settings_row.record_refusals)
    now = timezone.now()
    records = [
        record
        for event in candidates
        for record in _records_for(event, record_refusals=record_refusals, now=now)
    ]
    if not records:
        return 0
    existing = set(
        ViolationRecord.objects.filter(event_id__in={r.event_id for r in records}).values_list(
            "event_id", "kind", "position"
        )
    )
    fresh = [r for r in records if (r.event_id, r.kind, r.position) not in existing]
    ViolationRecord.objects.bulk_create(fresh, ignore_conflicts=True)
    return len(fresh)
