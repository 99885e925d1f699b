"""Evaluation engine details: idempotency, catch-up, defaults, silences, repeats, channels,
SLO burn rates and the SLA report, quality findings, the alert quality report."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django_tenants.utils import tenant_context

from alerts import tasks
from alerts.channels.services import channel_create, channel_test
from alerts.evaluation.engine import evaluate_tenant
from alerts.incidents.models import Incident, Notification, Silence
from alerts.reports.quality import alert_quality_report
from alerts.rules.models import AlertRule, Channel, RuleState
from alerts.rules.services import alert_rule_create
from alerts.slo.selectors import sla_report_all_tenants, slo_statuses
from alerts.slo.services import slo_create
from compliance.models import AuditEntry
from metrics.quality.models import QualityFinding
from tests.alerts.traffic import load, traffic

NOW = datetime(2026, 10, 20, 12, 0, tzinfo=UTC)
ERRORS = {
    "name": "errors",
    "metric": "error_rate",
    "window_minutes": 10,
    "warning_threshold": 5,
    "critical_threshold": 50,
    "for_evaluations": 2,
    "min_samples": 10,
    "repeat_minutes": 30,
}


def _failing_traffic(start: datetime, end: datetime, share: int = 5) -> None:
    """Every `share`-th call fails (20% errors by default)."""
    load(
        traffic(
            start=start,
            end=end,
            every_s=10,
            fields=lambda ts, n: {"status": "error"} if n % share == 0 else {},
        )
    )


@pytest.fixture
def ev(
    tenant: Any, celery_eager: None, django_capture_on_commit_callbacks: Callable[..., Any]
) -> Callable[..., Any]:
    def run(now: datetime, **kwargs: Any) -> Any:
        with tenant_context(tenant), django_capture_on_commit_callbacks(execute=True):
            return evaluate_tenant(now=now, **kwargs)

    return run


def test_one_evaluation_per_rule_and_minute(tenant: Any, ev: Callable[..., Any]) -> None:
    with tenant_context(tenant):
        alert_rule_create(data=ERRORS)
    assert ev(NOW).rules == 1
    assert ev(NOW + timedelta(seconds=30)).rules == 0  # same minute: already claimed
    assert ev(NOW + timedelta(minutes=1)).rules == 1


def test_for_counts_consecutive_evaluations_and_a_gap_resets_it(
    tenant: Any, ev: Callable[..., Any]
) -> None:
    with tenant_context(tenant):
        _failing_traffic(NOW - timedelta(hours=1), NOW + timedelta(hours=1))
        rule = alert_rule_create(data=ERRORS)
    ev(NOW)
    # The engine was down for half an hour: nothing is replayed, the counter starts over.
    ev(NOW + timedelta(minutes=30))
    with tenant_context(tenant):
        assert RuleState.objects.get(rule=rule).consecutive == 1
        assert not Incident.objects.exists()
    ev(NOW + timedelta(minutes=31))
    with tenant_context(tenant):
        (incident,) = Incident.objects.all()
        assert incident.opened_at == NOW + timedelta(minutes=31)
        assert incident.severity == "warning" and 15 < (incident.value or 0) < 25


def test_stale_tasks_are_dropped_and_defaults_created_once(tenant: Any) -> None:
    with tenant_context(tenant):
        old = (datetime.now(tz=UTC) - timedelta(minutes=10)).isoformat()
        assert tasks.evaluate_tenant(old) == 0
        assert not AlertRule.objects.exists()
        assert tasks.evaluate_tenant() == 7  # the default set, created lazily
        assert tasks.evaluate_tenant() == 0  # same minute
        assert AlertRule.objects.filter(is_default=True).count() == 7
        AlertRule.objects.all().delete()
        tasks.evaluate_tenant()
        assert not AlertRule.objects.exists()  # deleting the defaults sticks


def test_silence_suppresses_notifications_and_repeat_notifies_again(
    tenant: Any, ev: Callable[..., Any], webhook_server: Any
) -> None:
    with tenant_context(tenant):
        _failing_traffic(NOW - timedelta(hours=1), NOW + timedelta(hours=2))
        hook = channel_create(name="hook", kind="webhook", target=webhook_server.url)
        webhook_server.secret = hook.secret
        alert_rule_create(data=ERRORS, channel_ids=[hook.pk])
        # (silence_create refuses windows already over in real time; this replay is in the past)
        Silence.objects.create(
            starts_at=NOW - timedelta(minutes=5),
            ends_at=NOW + timedelta(minutes=5),
            reason="deploy",
        )
    for minute in range(0, 3):
        ev(NOW + timedelta(minutes=minute))
    with tenant_context(tenant):
        incident = Incident.objects.get()
        assert incident.timeline.filter(kind="suppressed").exists()
        assert not Notification.objects.exists()
    assert webhook_server.received == []
    # After the silence the incident is still firing; the next open-incident notice is a repeat.
    with tenant_context(tenant):
        Incident.objects.filter(pk=incident.pk).update(last_notified_at=NOW)
    for minute in range(3, 32):
        ev(NOW + timedelta(minutes=minute))
    assert [b["type"] for b in webhook_server.received] == ["incident.repeat"]


def test_webhook_retries_with_backoff_then_records_the_failure(
    tenant: Any,
    celery_eager: None,
    webhook_server: Any,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    with tenant_context(tenant):
        hook = channel_create(name="hook", kind="webhook", target=webhook_server.url)
        webhook_server.secret = hook.secret
        webhook_server.fail_next = 2
        with django_capture_on_commit_callbacks(execute=True):
            notification = channel_test(channel=hook)
        notification.refresh_from_db()
        assert notification.status == "sent" and notification.attempts == 3
        assert webhook_server.received[0]["type"] == "incident.test"

        dead = channel_create(name="dead", kind="webhook", target="http://127.0.0.1:9/hook")
        with django_capture_on_commit_callbacks(execute=True):
            failed = channel_test(channel=dead)
        failed.refresh_from_db()
        assert failed.status == "failed" and failed.attempts == 5
        dead.refresh_from_db()
        assert dead.last_status == "failing" and "connection failed" in dead.last_error


def test_slack_and_email_formats(
    tenant: Any,
    celery_eager: None,
    webhook_server: Any,
    smtp_server: Any,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    with tenant_context(tenant):
        slack = channel_create(
            name="slack", kind="slack", target=webhook_server.url.replace("/hook", "/slack/T000")
        )
        mail = channel_create(name="mail", kind="email", target="a@alpha.test, b@alpha.test")
        with django_capture_on_commit_callbacks(execute=True):
            channel_test(channel=slack)
            channel_test(channel=mail)
        assert set(Channel.objects.values_list("last_status", flat=True)) == {"ok"}
    (body,) = webhook_server.received
    assert body["slack"]["text"].startswith("Vigil test notification")
    assert body["slack"]["blocks"][0]["type"] == "section"
    assert smtp_server.messages[0]["to"] == ["a@alpha.test", "b@alpha.test"]


def test_availability_slo_burn_alert_and_monthly_report(
    tenant: Any, ev: Callable[..., Any]
) -> None:
    with tenant_context(tenant):
        # A good week, then an hour in which 20% of calls fail: 200x burn for 99.9%.
        load(traffic(start=NOW - timedelta(days=3), end=NOW - timedelta(hours=1), every_s=120))
        _failing_traffic(NOW - timedelta(hours=1), NOW)
        slo = slo_create(
            data={"name": "availability", "kind": "availability", "target": 99.9, "window_days": 30}
        )
        AlertRule.objects.filter(slo=slo).update(for_evaluations=1)
    ev(NOW)
    with tenant_context(tenant):
        incident = Incident.objects.get(metric="slo_burn")
        assert incident.severity == "critical" and (incident.value or 0) > 14.4
        (status,) = slo_statuses(now=NOW)
        assert not status.met and status.budget_consumed > 1
    lines = [
        line
        for line in sla_report_all_tenants(month=date(2026, 10, 1))
        if line.tenant_slug == "alpha"
    ]
    assert len(lines) == 1
    assert lines[0].met is False and lines[0].breach_minutes == 60
    assert lines[0].bad_events == 72 and lines[0].budget_consumed > 1


def test_quality_findings_become_incidents(tenant: Any, ev: Callable[..., Any]) -> None:
    with tenant_context(tenant):
        alert_rule_create(
            data={
                "name": "quality",
                "metric": "quality_finding",
                "warning_threshold": 5,
                "critical_threshold": 10,
            }
        )
        QualityFinding.objects.create(
            kind="drift",
            feature="support",
            content_category="billing",
            delta_points=-7.5,
            ci_low=-9,
            ci_high=-6,
            detected_at=NOW,
            method="cusum",
        )
        QualityFinding.objects.create(  # an improvement is not an alert
            kind="drift",
            feature="support",
            content_category="legal",
            delta_points=6,
            ci_low=4,
            ci_high=8,
            detected_at=NOW,
            method="cusum",
        )
    ev(NOW)
    with tenant_context(tenant):
        (incident,) = Incident.objects.all()
        assert incident.split_key == "drift:support/billing" and incident.value == 7.5
        QualityFinding.objects.update(active=False)
    ev(NOW + timedelta(minutes=1))
    with tenant_context(tenant):
        assert Incident.objects.get().status == "resolved"


def test_alert_quality_report_flags_noisy_rules(tenant: Any) -> None:
    with tenant_context(tenant):
        noisy = alert_rule_create(
            data={**ERRORS, "name": "noisy", "for_evaluations": 1, "min_samples": 0}
        )
        useful = alert_rule_create(data={**ERRORS, "name": "useful"})
        for n in range(12):
            opened = NOW - timedelta(minutes=40 * n + 60)
            Incident.objects.create(
                rule=noisy,
                rule_name="noisy",
                metric="error_rate",
                severity="warning",
                opened_at=opened,
                status="resolved",
                resolution="auto",
                resolved_at=opened + timedelta(minutes=3),
            )
        for n in range(3):
            opened = NOW - timedelta(days=n + 1)
            Incident.objects.create(
                rule=useful,
                rule_name="useful",
                metric="error_rate",
                severity="critical",
                opened_at=opened,
                status="resolved",
                resolution="manual",
                acknowledged_at=opened + timedelta(minutes=4),
                resolved_at=opened + timedelta(hours=1),
            )
        report = {r.rule.name: r for r in alert_quality_report(now=NOW)}
    assert report["noisy"].fired == 12 and report["noisy"].self_resolved_share == 1.0
    assert report["noisy"].flapping == 11
    text = " ".join(report["noisy"].suggestions)
    assert "`for`" in text and "hysteresis" in text and "minimum sample" in text
    assert report["useful"].ack_share == 1.0 and report["useful"].median_ack_minutes == 4
    assert report["useful"].suggestions == []


def test_create_default_alert_rules_command(tenant: Any) -> None:
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("create_default_alert_rules", "--tenant", "alpha", stdout=out)
    call_command("create_default_alert_rules", "--tenant", "alpha", stdout=out)
    assert "alpha: default rules created" in out.getvalue()
    with tenant_context(tenant):
        assert AlertRule.objects.filter(is_default=True).count() == 7


def test_automatic_open_and_resolve_are_audited(tenant: Any, ev: Callable[..., Any]) -> None:
    earlier = AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    ours = AuditEntry.objects.filter(chain=tenant.schema_name, pk__gt=earlier)
    with tenant_context(tenant):
        _failing_traffic(NOW - timedelta(hours=1), NOW + timedelta(minutes=5))
        load(traffic(start=NOW + timedelta(minutes=5), end=NOW + timedelta(hours=1), every_s=10))
        alert_rule_create(data=ERRORS)
    ev(NOW)
    ev(NOW + timedelta(minutes=1))
    opened = ours.get(action="alerts.incident_opened")
    assert opened.actor_type == "system" and opened.actor_label == "alert engine"
    assert opened.after["severity"] == "warning" and opened.after["rule"] == "errors"
    ev(NOW + timedelta(minutes=20))
    ev(NOW + timedelta(minutes=21))
    with tenant_context(tenant):
        (incident,) = Incident.objects.all()
        assert incident.status == "resolved" and incident.resolution == "auto"
    resolved = ours.get(action="alerts.incident_resolved_auto")
    assert resolved.object_id == str(incident.pk) == opened.object_id
    assert resolved.before == {"status": "open"}
