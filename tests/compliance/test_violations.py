from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.utils import timezone
from django_tenants.utils import tenant_context

from compliance.models import ComplianceSettings, ViolationRecord, ViolationReview
from compliance.violations import violation_records_create

pytestmark = pytest.mark.django_db


def test_one_record_per_violation_with_redacted_excerpt(tenant, make_event):
    event = make_event(
        policy_violations=[
            {"policy": "pii", "severity": "HIGH", "action": "blocked"},
            {"policy": "toxicity", "severity": "low", "action": "flagged"},
        ],
        output="Sure, mail jane.doe@example.com or call +1 415 555 0100 " + "x" * 400,
    )
    clean = make_event()
    with tenant_context(tenant):
        assert violation_records_create(events=[event, clean]) == 2
        records = list(ViolationRecord.objects.filter(event_id=event.event_id).order_by("position"))
    assert [(r.policy, r.severity, r.action) for r in records] == [
        ("pii", "high", "blocked"),
        ("toxicity", "low", "flagged"),
    ]
    first = records[0]
    assert first.event_id == event.event_id
    assert first.trace_id == event.trace_id
    assert first.feature == "support-chat"
    assert first.occurred_at == event.timestamp
    assert "jane.doe" not in first.excerpt and "[EMAIL]" in first.excerpt
    assert "555" not in first.excerpt and "[PHONE]" in first.excerpt
    assert len(first.excerpt) <= 240


def test_idempotent_for_the_same_event(tenant, make_event):
    event = make_event(policy_violations=[{"policy": "pii", "severity": "high"}])
    with tenant_context(tenant):
        assert violation_records_create(events=[event]) == 1
        assert violation_records_create(events=[event]) == 0
        assert ViolationRecord.objects.filter(event_id=event.event_id).count() == 1


def test_refusals_recorded_only_when_the_tenant_asks(tenant, make_event):
    refused = make_event(refused=True)
    with tenant_context(tenant):
        assert violation_records_create(events=[refused]) == 0
        ComplianceSettings.objects.update_or_create(pk=1, defaults={"record_refusals": True})
        assert violation_records_create(events=[refused]) == 1
        record = ViolationRecord.objects.get(event_id=refused.event_id)
    assert (record.kind, record.policy, record.action) == ("refusal", "refusal", "refused")


def test_malformed_violation_items_do_not_break_ingest(tenant, make_event):
    event = make_event(policy_violations=["jailbreak", {"severity": None}])
    with tenant_context(tenant):
        assert violation_records_create(events=[event]) == 2
        policies = sorted(
            ViolationRecord.objects.filter(event_id=event.event_id).values_list(
                "policy", "severity"
            )
        )
    assert policies == [("jailbreak", "unspecified"), ("unspecified", "unspecified")]


def test_records_are_scoped_to_the_tenant_schema(tenant, other_tenant, make_event):
    event = make_event(policy_violations=[{"policy": "pii", "severity": "high"}])
    with tenant_context(tenant):
        violation_records_create(events=[event])
    with tenant_context(other_tenant):
        assert not ViolationRecord.objects.filter(event_id=event.event_id).exists()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE compliance_violationrecord SET severity = 'low'",
        "DELETE FROM compliance_violationrecord",
        "TRUNCATE compliance_violationrecord CASCADE",
        "UPDATE compliance_violationreview SET note = 'rewritten'",
        "DELETE FROM compliance_violationreview",
        "TRUNCATE compliance_violationreview",
    ],
)
def test_raw_sql_cannot_change_violation_records(tenant, make_event, statement):
    event = make_event(policy_violations=[{"policy": "pii", "severity": "high"}])
    with tenant_context(tenant):
        violation_records_create(events=[event])
        ViolationReview.objects.create(
            record=ViolationRecord.objects.get(event_id=event.event_id),
            state="confirmed",
            note="seen",
            reviewer_id="1",
            reviewer_label="officer",
            created_at=timezone.now(),
        )
        with connection.cursor() as cursor:
            # Fire the deferred FK checks now, or TRUNCATE refuses for that reason instead.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        with (
            pytest.raises(DatabaseError) as excinfo,
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement)
    assert "append-only" in str(excinfo.value)
