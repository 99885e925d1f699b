"""ingest_events: the function every way in ends in (REST, OTLP, Langfuse, client)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django_tenants.utils import tenant_context

from compliance.models import ViolationRecord
from metrics.ingest.pipeline import ingest_events
from metrics.models import DirtyHour, Event
from tenants.models import Tenant
from tests.metrics.ingest.helpers import good


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


def test_nul_characters_never_break_the_batch(tenant: Tenant) -> None:
    ok = good(input="a\x00b", status="error")
    bad_id = good(event_id="nul\x00id")
    bad_attr = good(attributes={"k": "v\x00"})
    outcomes = ingest_events(tenant=tenant, raw_events=[ok, bad_id, bad_attr])
    assert [o.status for o in outcomes] == ["accepted", "rejected", "rejected"]
    assert "NUL" in outcomes[1].errors["event_id"]
    assert "NUL" in outcomes[2].errors["attributes"]
    with tenant_context(tenant):
        assert Event.objects.get(event_id=ok["event_id"]).input == "ab"


def test_size_limits_of_json_fields(tenant: Tenant) -> None:
    big_attrs = good(attributes={"blob": "x" * 20_000})
    many_keys = good(**{f"extra_{n}": n for n in range(200)})
    big_scores = good(scores=[{"name": "q", "value": 1, "note": "y" * 40_000}])
    long_feature = good(feature="f" * 129)
    outcomes = ingest_events(
        tenant=tenant, raw_events=[big_attrs, many_keys, big_scores, long_feature]
    )
    assert [o.status for o in outcomes] == ["rejected"] * 4
    assert outcomes[0].errors == {"attributes": "is larger than 16384 bytes as JSON."}
    assert outcomes[1].errors == {"attributes": "has 200 keys; at most 128."}
    assert outcomes[2].errors == {"scores": "is larger than 32768 bytes as JSON."}
    assert outcomes[3].errors == {"feature": "is 129 characters long; at most 128 are allowed."}


def test_epoch_timestamps_and_start_end_times(tenant: Tenant) -> None:
    now = datetime.now(tz=UTC)
    seconds = good(timestamp=now.timestamp())
    millis = good(timestamp=int(now.timestamp() * 1000))
    nanos = good(timestamp=int(now.timestamp() * 1e9))
    span = good(
        timestamp=None,
        start_time=now.isoformat(),
        end_time=(now + timedelta(seconds=1.5)).isoformat(),
    )
    backwards = good(start_time=now.isoformat(), end_time=(now - timedelta(seconds=1)).isoformat())
    future = good(timestamp=(now + timedelta(hours=1)).isoformat())
    outcomes = ingest_events(
        tenant=tenant, raw_events=[seconds, millis, nanos, span, backwards, future]
    )
    assert [o.status for o in outcomes[:4]] == ["accepted"] * 4
    assert outcomes[4].errors == {"end_time": "must be a date-time not before start_time."}
    assert outcomes[5].errors == {"timestamp": "is more than 15 minutes in the future."}
    with tenant_context(tenant):
        stored = Event.objects.get(event_id=span["event_id"])
        assert stored.latency_ms == 1500.0
        for raw in (seconds, millis, nanos):
            moment = Event.objects.get(event_id=raw["event_id"]).timestamp
            assert abs((moment - now).total_seconds()) < 1


def test_status_is_case_insensitive(tenant: Tenant) -> None:
    raw = good(status=" Error ")
    [outcome] = ingest_events(tenant=tenant, raw_events=[raw])
    assert outcome.status == "accepted"
    with tenant_context(tenant):
        assert Event.objects.get(event_id=raw["event_id"]).status == "error"
