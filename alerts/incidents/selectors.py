"""Reads of incidents for the pages and the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.db.models import QuerySet
from django.urls import reverse

from alerts.evaluation.series import MetricSeries, metric_series
from alerts.incidents.models import Incident, IncidentEvent, Notification

STATUSES = ("open", "acknowledged", "resolved")


def incident_list(*, status: str | None = None, rule_id: int | None = None) -> QuerySet[Incident]:
    qs = Incident.objects.all().order_by("-opened_at", "-pk")
    if status == "active":
        qs = qs.exclude(status="resolved")
    elif status in STATUSES:
        qs = qs.filter(status=status)
    if rule_id is not None:
        qs = qs.filter(rule_id=rule_id)
    return qs


def incident_counts() -> dict[str, int]:
    counts = dict.fromkeys(STATUSES, 0)
    for status in Incident.objects.exclude(status="resolved").values_list("status", flat=True):
        counts[status] += 1
    return counts


def events_link(incident: Incident, *, now: datetime | None = None) -> str:
    """The dashboard's events list narrowed to the incident's scope and time."""
    end = incident.resolved_at or now or datetime.now(tz=UTC)
    start = incident.opened_at - timedelta(minutes=incident.window_minutes)
    params: dict[str, Any] = {
        "range": "custom",
        "from": start.isoformat(),
        "to": end.isoformat(),
        **{k: v for k, v in incident.filters.items() if v},
    }
    if incident.metric in ("error_rate", "availability", "timeout_rate"):
        params["failed"] = "1"
    elif incident.metric == "fallback_rate":
        params["fallback"] = "1"
    elif incident.metric in ("latency_p95", "latency_p99", "tail_count"):
        params["tail"] = "1"
    elif incident.metric == "violation_count":
        params["violations"] = "1"
    elif incident.metric == "refusal_rate":
        params["refused"] = "1"
    return f"{reverse('dash-events')}?{urlencode(params)}"


@dataclass(frozen=True)
class IncidentDetail:
    incident: Incident
    timeline: list[IncidentEvent]
    notifications: list[Notification]
    series: MetricSeries
    events_url: str


def incident_detail(*, incident: Incident, now: datetime | None = None) -> IncidentDetail:
    now = now or datetime.now(tz=UTC)
    window = timedelta(minutes=incident.window_minutes)
    start = incident.opened_at - max(timedelta(hours=1), 3 * window)
    end = min(now, (incident.resolved_at or now) + timedelta(minutes=30))
    split_by = next(
        (k for k in incident.filters if incident.rule and k == incident.rule.split_by), ""
    )
    scope = {k: v for k, v in incident.filters.items() if k != split_by}
    series = metric_series(
        metric=incident.metric,
        scope=scope,
        split_by=split_by,
        window_minutes=incident.window_minutes,
        start=start,
        end=end,
        only_key=incident.split_key if split_by else None,
    )
    return IncidentDetail(
        incident=incident,
        timeline=list(incident.timeline.all()),
        notifications=list(incident.notifications.select_related("channel")),
        series=series,
        events_url=events_link(incident, now=now),
    )
