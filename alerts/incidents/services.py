"""Writes on incidents: open, escalate, resolve, acknowledge; notifications are queued here.

The evaluation engine calls the automatic transitions inside its per-tenant
transaction; people call `incident_acknowledge` / `incident_resolve` (audited).
Deliveries are sent by Celery tasks after the commit, one per notification,
so a slow channel never holds up an evaluation.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from alerts.incidents.models import (
    Incident,
    IncidentEvent,
    IncidentStatus,
    Notification,
    Silence,
)
from alerts.rules.models import AlertRule, Channel
from compliance.services import audit_record
from core.enqueue import enqueue
from core.exceptions import ApplicationError


def _slug() -> str:
    return str(getattr(connection, "schema_name", "public"))


def _audit_engine_change(
    *, incident: Incident, action: str, before: dict[str, Any] | None, after: dict[str, Any]
) -> None:
    """Audit what the evaluation engine did on its own (people's actions name the person)."""
    audit_record(
        tenant_slug=_slug(),
        action=action,
        object_type="incident",
        object_id=incident.pk,
        before=before,
        after=after,
        actor_type="system",
        actor_label="alert engine",
    )


def timeline_add(
    *, incident: Incident, at: datetime, kind: str, message: str, data: dict[str, Any] | None = None
) -> IncidentEvent:
    return IncidentEvent.objects.create(
        incident=incident, at=at, kind=kind, message=message[:500], data=data or {}
    )


def active_silence(*, rule: AlertRule, split_key: str, now: datetime) -> Silence | None:
    return (
        Silence.objects.filter(starts_at__lte=now, ends_at__gt=now)
        .filter(rule__isnull=True)
        .first()
        or Silence.objects.filter(starts_at__lte=now, ends_at__gt=now, rule=rule)
        .filter(split_key__in=["", split_key])
        .first()
    )


def notifications_queue(
    *, incident: Incident, kind: str, now: datetime, channels: list[Channel] | None = None
) -> list[Notification]:
    """Record one pending notification per enabled channel and send each after the commit.

    A silence or maintenance window suppresses them (the timeline says so).
    """
    rule = incident.rule
    if channels is None:
        channels = [c for c in rule.channels.all() if c.enabled] if rule is not None else []
    if rule is not None:
        silence = active_silence(rule=rule, split_key=incident.split_key, now=now)
        if silence is not None:
            if not incident.silenced:
                Incident.objects.filter(pk=incident.pk).update(silenced=True)
                incident.silenced = True
            timeline_add(
                incident=incident,
                at=now,
                kind="suppressed",
                message=f"{kind} notification suppressed by {silence.kind} #{silence.pk}",
            )
            return []
    created = [
        Notification.objects.create(
            incident=incident, channel=channel, kind=kind, created_at=now, payload={}
        )
        for channel in channels
    ]
    incident.last_notified_at = now
    Incident.objects.filter(pk=incident.pk).update(last_notified_at=now)
    if created:
        timeline_add(
            incident=incident,
            at=now,
            kind="notified",
            message=f"{kind}: sent to {', '.join(c.name for c in channels)}",
        )
    ids = [n.pk for n in created]
    if ids:
        transaction.on_commit(lambda: _send(ids))
    return created


def _send(ids: list[int]) -> None:
    from alerts.tasks import deliver_notification

    for notification_id in ids:
        enqueue(deliver_notification, notification_id, expires=3600)


def incident_open(
    *,
    rule: AlertRule,
    split_key: str,
    severity: str,
    value: float | None,
    threshold: float | None,
    now: datetime,
    notify: bool = True,
) -> Incident:
    filters = dict(rule.scope())
    if rule.split_by and split_key:
        filters[rule.split_by] = split_key
    incident = Incident.objects.create(
        rule=rule,
        rule_name=rule.name,
        metric=rule.metric,
        split_key=split_key,
        filters=filters,
        severity=severity,
        value=value,
        peak_value=value,
        threshold=threshold,
        window_minutes=rule.window_minutes,
        opened_at=now,
    )
    timeline_add(
        incident=incident,
        at=now,
        kind="opened",
        message=f"{severity}: {rule.get_metric_display()} is {_fmt(value)} "
        f"({rule.get_comparison_display()} {_fmt(threshold)})",
        data={"value": value, "threshold": threshold},
    )
    _audit_engine_change(
        incident=incident,
        action="alerts.incident_opened",
        before=None,
        after={
            "rule": rule.name,
            "split_key": split_key,
            "severity": severity,
            "value": value,
            "threshold": threshold,
        },
    )
    if notify:
        notifications_queue(incident=incident, kind="opened", now=now)
    return incident


def incident_escalate(
    *,
    incident: Incident,
    severity: str,
    value: float | None,
    threshold: float | None,
    now: datetime,
) -> Incident:
    previous = incident.severity
    Incident.objects.filter(pk=incident.pk).update(severity=severity, threshold=threshold)
    incident.severity, incident.threshold = severity, threshold
    timeline_add(
        incident=incident,
        at=now,
        kind="severity",
        message=f"{previous} -> {severity} at {_fmt(value)}",
        data={"value": value},
    )
    _audit_engine_change(
        incident=incident,
        action="alerts.incident_escalated",
        before={"severity": previous},
        after={"severity": severity, "value": value, "threshold": threshold},
    )
    if severity == "critical" and incident.status == IncidentStatus.OPEN:
        notifications_queue(incident=incident, kind="escalated", now=now)
    return incident


def incident_resolve_auto(*, incident: Incident, value: float | None, now: datetime) -> Incident:
    previous_status = incident.status
    Incident.objects.filter(pk=incident.pk).update(
        status=IncidentStatus.RESOLVED, resolved_at=now, resolution="auto", value=value
    )
    incident.status, incident.resolved_at, incident.resolution = "resolved", now, "auto"
    timeline_add(incident=incident, at=now, kind="resolved", message=f"cleared at {_fmt(value)}")
    _audit_engine_change(
        incident=incident,
        action="alerts.incident_resolved_auto",
        before={"status": previous_status},
        after={"status": "resolved", "resolution": "auto", "value": value},
    )
    if incident.last_notified_at is not None:
        notifications_queue(incident=incident, kind="resolved", now=now)
    return incident


@transaction.atomic
def incident_acknowledge(*, incident: Incident, by: str) -> Incident:
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    if incident.status != IncidentStatus.OPEN:
        raise ApplicationError(
            "Only open incidents can be acknowledged.", details={"status": incident.status}
        )
    now = timezone.now()
    Incident.objects.filter(pk=incident.pk).update(
        status=IncidentStatus.ACKNOWLEDGED, acknowledged_at=now, acknowledged_by=by[:200]
    )
    timeline_add(incident=incident, at=now, kind="acknowledged", message=f"acknowledged by {by}")
    audit_record(
        tenant_slug=_slug(),
        action="alerts.incident_acknowledged",
        object_type="incident",
        object_id=incident.pk,
        before={"status": incident.status},
        after={"status": "acknowledged", "by": by},
    )
    incident.refresh_from_db()
    return incident


@transaction.atomic
def incident_resolve(*, incident: Incident, by: str, note: str = "") -> Incident:
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    if incident.status == IncidentStatus.RESOLVED:
        raise ApplicationError("Already resolved.", details={"status": incident.status})
    now = timezone.now()
    before = {"status": incident.status}
    Incident.objects.filter(pk=incident.pk).update(
        status=IncidentStatus.RESOLVED, resolved_at=now, resolution="manual"
    )
    timeline_add(
        incident=incident, at=now, kind="resolved", message=f"resolved by {by} {note}".strip()
    )
    audit_record(
        tenant_slug=_slug(),
        action="alerts.incident_resolved",
        object_type="incident",
        object_id=incident.pk,
        before=before,
        after={"status": "resolved", "by": by, "note": note},
    )
    incident.refresh_from_db()
    return incident


def _fmt(value: float | None) -> str:
    if value is None:
        return "no data"
    return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"
