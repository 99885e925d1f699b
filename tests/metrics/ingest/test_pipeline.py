"""ingest_events: the function every way in ends in (REST, OTLP, Langfuse, client)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django_tenants.utils import tenant_context

from compliance.models import ViolationRecord
from metrics.ingest.pipeline import ingest_events
from metrics.models import DirtyHour, Event
from tenants.models import Tenant


def uid() -> str:
    return f"t-{uuid.uuid4().hex}"


def good(**fields: object) -> dict[str, object]:
    return {
        "event_id": uid(),
        "timestamp": datetime.now(tz=UTC).isoformat(),
        "feature": "chat",
        "model": "gpt-4o-mini",
        "input_tokens": 1000,
        "output_tokens": 500,
        **fields,
    }


def test_good_duplicate_and_invalid_events_store_exactly_the_good_ones(tenant: Tenant) -> None:
    first, second = good(), good()
    outcomes = ingest_events(
        tenant=tenant,
        raw_events=[first, {"event_id": "x", "feature": "chat"}, second, dict(first), "nope"],
    )
    assert [o.status for o in outcomes] == [
        "accepted",
        "rejected",
        "accepted",
        "duplicate",
        "rejected",
    ]
    assert outcomes[1].errors == {"timestamp": "is required.", "model": "is required."}
    assert outcomes[4].errors == {"event": "must be a JSON object."}
    again = ingest_events(tenant=tenant, raw_events=[first, second])
    assert [o.status for o in again] == ["duplicate", "duplicate"]
    with tenant_context(tenant):
        stored = Event.objects.filter(event_id__in=[first["event_id"], second["event_id"]])
        assert stored.count() == 2
        event = stored.get(event_id=first["event_id"])
        # gpt-4o-mini: 0.15 in / 0.60 out per 1M
        assert event.cost_usd == Decimal("0.00045")
        assert event.cost_source == "price_table"
        assert event.price_version.endswith("gpt-4o-mini@2024-07-18")
        hour = event.timestamp.replace(minute=0, second=0, microsecond=0)
        assert DirtyHour.objects.filter(hour=hour).exists()


def test_unknown_fields_go_to_attributes_and_client_cost_wins(tenant: Tenant) -> None:
    event = good(cost_usd="0.5", team="search", attributes={"a": 1})
    [outcome] = ingest_events(tenant=tenant, raw_events=[event])
    assert outcome.status == "accepted"
    with tenant_context(tenant):
        stored = Event.objects.get(event_id=event["event_id"])
    assert stored.attributes == {"team": "search", "a": 1}
    assert stored.cost_usd == Decimal("0.5")
    assert stored.cost_source == "client"


def test_violations_are_recorded_by_compliance(tenant: Tenant) -> None:
    event = good(policy_violations=[{"policy": "pii", "severity": "high", "action": "blocked"}])
    ingest_events(tenant=tenant, raw_events=[event])
    with tenant_context(tenant):
        assert Event.objects.get(event_id=event["event_id"]).violation_count == 1
        record = ViolationRecord.objects.get(event_id=event["event_id"])
    assert (record.policy, record.severity, record.action) == ("pii", "high", "blocked")


def test_old_timestamp_is_rejected_with_the_limit(tenant: Tenant) -> None:
    old = (datetime.now(tz=UTC) - timedelta(days=31)).isoformat()
    [outcome] = ingest_events(tenant=tenant, raw_events=[good(timestamp=old)])
    assert outcome.errors == {"timestamp": "is more than 30 days in the past."}
