"""Reads of rules and channels for the pages and the API."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from alerts.rules.models import AlertRule, Channel


def rule_list() -> QuerySet[AlertRule]:
    return (
        AlertRule.objects.prefetch_related("channels")
        .annotate(active_incidents=Count("incidents", filter=~Q(incidents__status="resolved")))
        .order_by("name", "pk")
    )


def channel_list() -> QuerySet[Channel]:
    return Channel.objects.annotate(rule_count=Count("rules")).order_by("name", "pk")
