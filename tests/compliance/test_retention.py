"""Retention: old events and content expire in batches; a legal hold stops it; runs are audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from compliance.models import AuditEntry
from compliance.retention import retention_run
from compliance.services import compliance_settings_get, compliance_settings_update
from core.exceptions import ApplicationError
from core.request_context import acting_as
from metrics.models import Event
from metrics.quality.models import Grade

pytestmark = pytest.mark.django_db


def _event(age_days: float, *, content: str = "", expires_in_days: float | None = None) -> Event:
    now = timezone.now()
    return Event.objects.create(
        event_id=f"ret-{age_days}-{content[:5]}-{expires_in_days}-{now.timestamp()}",
        timestamp=now - timedelta(days=age_days),
        received_at=now,
        feature="f",
        model="m",
        cost_source="client",
        input=content,
        output=content,
        content_expires_at=None
        if expires_in_days is None
        else now + timedelta(days=expires_in_days),
    )


def _last_entry(tenant) -> AuditEntry:
    entry = AuditEntry.objects.filter(chain=tenant.schema_name).order_by("-seq").first()
    assert entry is not None
    return entry


def test_defaults_are_documented_values(tenant):
    with tenant_context(tenant):
        row = compliance_settings_get()
    assert (row.events_retention_days, row.content_retention_days) == (400, 30)
    assert row.records_retention_days >= 7 * 365
    assert not row.legal_hold


def test_old_events_deleted_and_old_content_cleared_in_batches(tenant):
    with tenant_context(tenant):
        old = [_event(401) for _ in range(5)]
        kept = _event(399, content="hello")
        stale_content = _event(31, content="secret")
        expired_content = _event(1, content="short-lived", expires_in_days=-0.1)
        fresh_content = _event(1, content="fresh", expires_in_days=10)
        with acting_as("retention sweep"):
            result = retention_run(batch_size=2)
        assert result.events_deleted == 5 and result.finished
        assert not Event.objects.filter(pk__in=[e.pk for e in old]).exists()
        assert Event.objects.get(pk=kept.pk).input == ""  # 399 days: beyond 30-day content limit
        assert Event.objects.get(pk=stale_content.pk).output == ""
        cleared = Event.objects.get(pk=expired_content.pk)
        assert (cleared.input, cleared.output, cleared.content_expires_at) == ("", "", None)
        assert Event.objects.get(pk=fresh_content.pk).output == "fresh"
        assert result.content_cleared == 3
    entry = _last_entry(tenant)
    assert entry.action == "retention.expired"
    assert entry.actor_label == "retention sweep"
    assert entry.after["events_deleted"] == 5
    assert entry.after["content_cleared"] == 3


def test_legal_hold_stops_every_expiry(tenant):
    with tenant_context(tenant):
        old = _event(1000, content="evidence", expires_in_days=-5)
        with acting_as("officer", actor_type="user", actor_id="7"):
            compliance_settings_update(
                data={"legal_hold": True, "legal_hold_reason": "Matter 2026-17"}
            )
        result = retention_run()
        assert result.held
        assert Event.objects.get(pk=old.pk).input == "evidence"
    entry = _last_entry(tenant)
    assert entry.action == "retention.held"
    assert entry.after == {"legal_hold_reason": "Matter 2026-17"}


def test_settings_update_is_validated_and_audited(tenant):
    with tenant_context(tenant):
        with pytest.raises(ApplicationError) as excinfo:
            compliance_settings_update(
                data={"events_retention_days": 0, "records_retention_days": 30, "legal_hold": True}
            )
        assert set(excinfo.value.details) == {
            "events_retention_days",
            "records_retention_days",
            "legal_hold_reason",
        }
        with acting_as("officer", actor_type="user", actor_id="7"):
            row = compliance_settings_update(
                data={"events_retention_days": 90, "record_refusals": True}
            )
        assert (row.events_retention_days, row.record_refusals) == (90, True)
    entry = _last_entry(tenant)
    assert entry.action == "compliance_settings.updated"
    assert entry.before == {"events_retention_days": 400, "record_refusals": False}
    assert entry.after == {"events_retention_days": 90, "record_refusals": True}
    assert (entry.actor_type, entry.actor_id) == ("user", "7")


def test_expired_events_take_their_dependent_rows_along(tenant):
    with tenant_context(tenant):
        with connection.cursor() as cursor:  # as at commit: a dangling grade would fail here
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        old = _event(500, content="graded")
        grade = Grade.objects.create(
            event=old,
            rubric_name="helpfulness",
            judge_kind="offline",
            judge_name="offline",
            day=old.timestamp.date(),
            feature="f",
        )
        result = retention_run()
        assert result.events_deleted >= 1 and result.finished
        assert not Event.objects.filter(pk=old.pk).exists()
        assert not Grade.objects.filter(pk=grade.pk).exists()
