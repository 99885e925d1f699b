"""Per-endpoint tail thresholds: validated, audited, and tail counts follow them."""

from __future__ import annotations

import pytest

from compliance.models import AuditEntry
from core.exceptions import ApplicationError
from core.request_context import acting_as
from metrics import selectors as s
from metrics.models import DirtyHour
from metrics.rollups.services import dirty_hours_process
from metrics.rollups.thresholds import endpoint_threshold_set
from tenants.models import Tenant

from .factories import add_events, hours_ago, in_tenant


def test_threshold_change_is_audited_and_rebuilds_tails(tenant: Tenant) -> None:
    add_events(tenant, [{"timestamp": hours_ago(3), "endpoint": "/voice", "latency_ms": 900.0}])
    f = s.metrics_filter_for(range_name="24h")
    with in_tenant(tenant), acting_as("test"):
        assert s.latency_summary(f).current.tail_count == 0
        endpoint_threshold_set(endpoint="/voice", threshold_ms=500)
        assert list(DirtyHour.objects.values_list("hour", flat=True)) == [hours_ago(3)]
        dirty_hours_process()
        assert s.latency_summary(f).current.tail_count == 1
        assert [e.latency_ms for e in s.tail_events(f)] == [900.0]
        endpoint_threshold_set(endpoint="/voice", threshold_ms=None)
        dirty_hours_process()
        assert s.latency_summary(f).current.tail_count == 0
    entries = AuditEntry.objects.filter(action="metrics.endpoint_threshold.set", object_id="/voice")
    assert [(e.before, e.after) for e in entries.order_by("id")] == [
        ({"threshold_ms": 2000.0}, {"threshold_ms": 500}),
        ({"threshold_ms": 500.0}, {"threshold_ms": 2000.0}),
    ]


@pytest.mark.parametrize(
    ("endpoint", "threshold", "field"),
    [("", 100.0, "endpoint"), ("/x", 0.0, "threshold_ms"), ("/x", 1e9, "threshold_ms")],
)
def test_threshold_validation(tenant: Tenant, endpoint: str, threshold: float, field: str) -> None:
    with in_tenant(tenant), pytest.raises(ApplicationError) as info:
        endpoint_threshold_set(endpoint=endpoint, threshold_ms=threshold)
    assert field in info.value.details
