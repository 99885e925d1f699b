"""Hourly rollups are rebuilt from raw events: exact, idempotent, late events land right."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import Sum

from metrics import histogram
from metrics.models import (
    CoarseRollup,
    DailyUsage,
    DirtyHour,
    EndpointThreshold,
    HourlyRollup,
    ViolationRollup,
)
from metrics.rollups.services import (
    dirty_hours_mark,
    dirty_hours_process,
    rollup_hour_rebuild,
    rollups_rebuild_range,
)
from tenants.models import Tenant

from .factories import add_events, hours_ago, in_tenant


def test_rollup_sums_match_raw_events(tenant: Tenant) -> None:
    hour = hours_ago(3)
    add_events(
        tenant,
        [
            {
                "timestamp": hour + timedelta(minutes=1),
                "cost_usd": "0.5",
                "latency_ms": 100.0,
                "time_to_first_token_ms": 40.0,
                "input_tokens": 10,
                "output_tokens": 5,
                "scores": [{"name": "quality", "value": 0.9}],
            },
            {
                "timestamp": hour + timedelta(minutes=2),
                "cost_usd": "0.25",
                "latency_ms": 3000.0,
                "status": "timeout",
                "retries": 2,
                "fallback_used": True,
            },
            {
                "timestamp": hour + timedelta(minutes=3),
                "cost_usd": "1.125",
                "latency_ms": 400.0,
                "refused": True,
                "scores": [{"name": "quality", "value": 0.5}],
                "policy_violations": [
                    {"policy": "pii", "severity": "high", "action": "redact"},
                    {"policy": "toxicity", "severity": "low", "action": "flag"},
                ],
            },
            {"timestamp": hour + timedelta(minutes=4), "feature": "search", "cost_usd": "2"},
        ],
    )
    with in_tenant(tenant):
        chat = HourlyRollup.objects.get(hour=hour, feature="chat")
        assert chat.requests == 3
        assert chat.cost_usd == Decimal("1.875")
        assert (chat.ok_count, chat.timeout_count) == (2, 1)
        assert (chat.retry_count, chat.fallback_count, chat.refusal_count) == (2, 1, 1)
        assert (chat.violation_count, chat.violating_requests, chat.tail_count) == (2, 1, 1)
        assert chat.quality_count == 2 and abs(chat.quality_sum - 1.4) < 1e-9
        assert chat.input_tokens == 10 + 100 + 100
        lat = histogram.from_arrays(chat.latency_buckets, chat.latency_counts)
        assert lat == histogram.from_values([100.0, 3000.0, 400.0])
        assert histogram.from_arrays(chat.ttft_buckets, chat.ttft_counts) == {
            histogram.bucket_of(40.0): 1
        }
        assert HourlyRollup.objects.filter(hour=hour).count() == 2
        assert not DirtyHour.objects.exists()
        policies = set(ViolationRollup.objects.values_list("policy", "severity", "count"))
        assert policies == {("pii", "high", 1), ("toxicity", "low", 1)}
    with in_tenant(tenant):
        rows = CoarseRollup.objects.filter(feature="chat", customer="")
        coarse = rows.get(start=hour, period="hour", projection="all_but_customer")
        day = rows.get(period="day", start=hour.replace(hour=0), projection="all_but_customer")
        by_customer = rows.get(period="day", start=hour.replace(hour=0), projection="by_customer")
        assert (coarse.endpoint, by_customer.endpoint) == ("/v1/chat", "")
        for row in (coarse, day, by_customer):
            assert (row.requests, row.cost_usd, row.tail_count) == (3, Decimal("1.875"), 1)
            lat = histogram.from_arrays(row.latency_buckets, row.latency_counts)
            assert lat == histogram.from_values([100.0, 3000.0, 400.0])
    usage = DailyUsage.objects.filter(tenant_slug="alpha", day=hour.date())
    assert usage.aggregate(c=Sum("cost_usd"))["c"] == Decimal("3.875")
    assert usage.get(feature="chat").error_count == 1


def test_rebuild_twice_never_double_counts(tenant: Tenant) -> None:
    hour = hours_ago(5)
    add_events(tenant, [{"timestamp": hour + timedelta(minutes=m)} for m in range(5)])
    with in_tenant(tenant):
        rollup_hour_rebuild(hour=hour)
        rollup_hour_rebuild(hour=hour)
        assert HourlyRollup.objects.get(hour=hour).requests == 5
    assert (
        DailyUsage.objects.get(tenant_slug="alpha", day=hour.date(), feature="chat").requests == 5
    )


def test_late_event_lands_in_its_own_hour(tenant: Tenant) -> None:
    last_week = hours_ago(24 * 6 + 7)
    add_events(tenant, [{"timestamp": last_week + timedelta(minutes=10)}])
    add_events(tenant, [{"timestamp": last_week + timedelta(minutes=50), "cost_usd": "3"}])
    with in_tenant(tenant):
        row = HourlyRollup.objects.get(hour=last_week)
        assert row.requests == 2
        assert row.cost_usd == Decimal("3.001")


def test_mark_during_rebuild_keeps_the_hour_dirty(tenant: Tenant) -> None:
    hour = hours_ago(2)
    add_events(tenant, [{"timestamp": hour}], rollup=False)
    with in_tenant(tenant):
        stale = DirtyHour.objects.get(hour=hour).marked_at
        dirty_hours_mark(hours=[hour + timedelta(minutes=30)])  # an ingest re-marks it
        assert DirtyHour.objects.get(hour=hour).marked_at > stale
        # The job read the old mark: it rebuilds but must not clear the new one.
        rollup_hour_rebuild(hour=hour)
        assert DirtyHour.objects.filter(hour=hour, marked_at=stale).delete()[0] == 0
        assert DirtyHour.objects.filter(hour=hour).exists()
        dirty_hours_process()
        assert not DirtyHour.objects.exists()


def test_endpoint_threshold_decides_tail_count(tenant: Tenant) -> None:
    hour = hours_ago(4)
    with in_tenant(tenant):
        EndpointThreshold.objects.create(endpoint="/voice", threshold_ms=500)
    add_events(
        tenant,
        [
            {"timestamp": hour, "endpoint": "/voice", "latency_ms": 600.0},
            {"timestamp": hour, "endpoint": "/chat", "latency_ms": 600.0},
            {"timestamp": hour, "endpoint": "/chat", "latency_ms": 2500.0},
        ],
    )
    with in_tenant(tenant):
        tails = dict(HourlyRollup.objects.filter(hour=hour).values_list("endpoint", "tail_count"))
    assert tails == {"/voice": 1, "/chat": 1}


def test_rebuild_range_removes_rows_of_deleted_events(tenant: Tenant) -> None:
    hour = hours_ago(30)
    events = add_events(tenant, [{"timestamp": hour}, {"timestamp": hour + timedelta(hours=1)}])
    with in_tenant(tenant):
        type(events[0]).objects.filter(event_id=events[0].event_id).delete()
        seen: list[int] = []
        result = rollups_rebuild_range(
            start=hour, end=hour + timedelta(hours=2), progress=lambda n, total, h: seen.append(n)
        )
        assert (result.hours, seen) == (2, [1, 2])
        assert list(HourlyRollup.objects.filter(hour__gte=hour).values_list("hour", flat=True)) == [
            hour + timedelta(hours=1)
        ]
    assert connection.schema_name == "public"  # type: ignore[attr-defined]


def test_tenants_do_not_share_rollups(tenant: Tenant, other_tenant: Tenant) -> None:
    hour = hours_ago(1)
    add_events(tenant, [{"timestamp": hour, "feature": "only-alpha"}])
    with in_tenant(other_tenant):
        assert not HourlyRollup.objects.filter(feature="only-alpha").exists()
    assert not DailyUsage.objects.filter(tenant_slug="beta", feature="only-alpha").exists()
