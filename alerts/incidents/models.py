"""Incidents, their timeline, notifications and silences (tenant schema)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from alerts.rules.models import AlertRule, Channel


class IncidentStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    RESOLVED = "resolved", "Resolved"


class Severity(models.TextChoices):
    WARNING = "warning", "Warning"
    CRITICAL = "critical", "Critical"


class Incident(models.Model):
    rule = models.ForeignKey(
        AlertRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="incidents"
    )
    rule_name = models.CharField(max_length=200)
    metric = models.CharField(max_length=32)
    split_key = models.CharField(max_length=256, blank=True, default="")
    filters = models.JSONField(default=dict, blank=True)  # scope + split, for event links
    status = models.CharField(max_length=16, choices=IncidentStatus.choices, default="open")
    severity = models.CharField(max_length=16, choices=Severity.choices)
    value = models.FloatField(null=True, blank=True)
    peak_value = models.FloatField(null=True, blank=True)
    threshold = models.FloatField(null=True, blank=True)
    window_minutes = models.PositiveIntegerField(default=15)
    opened_at = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.CharField(max_length=200, blank=True, default="")
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.CharField(max_length=16, blank=True, default="")  # auto | manual
    last_notified_at = models.DateTimeField(null=True, blank=True)
    silenced = models.BooleanField(default=False)

    class Meta:
        ordering = ["-opened_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "split_key"],
                condition=~Q(status="resolved"),
                name="incident_one_active_per_rule_split",
            )
        ]
        indexes = [models.Index(fields=["status", "-opened_at"], name="incident_status_opened")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.rule_name} {self.split_key} {self.status}"


class IncidentEvent(models.Model):
    """One line of an incident's timeline."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="timeline")
    at = models.DateTimeField()
    kind = models.CharField(max_length=32)
    message = models.CharField(max_length=500)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.at:%H:%M} {self.kind}"


class NotificationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    SUPPRESSED = "suppressed", "Suppressed (silence)"


class Notification(models.Model):
    incident = models.ForeignKey(
        Incident, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=16)  # opened | escalated | repeat | resolved | test
    status = models.CharField(max_length=16, choices=NotificationStatus.choices, default="pending")
    attempts = models.PositiveIntegerField(default=0)
    response_code = models.IntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True, default="")
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.kind} via {self.channel_id}: {self.status}"


class SilenceKind(models.TextChoices):
    SILENCE = "silence", "Silence"
    MAINTENANCE = "maintenance", "Maintenance window"


class Silence(models.Model):
    """No notifications for matching incidents between starts_at and ends_at.

    `rule` empty matches every rule (a maintenance window); `split_key` empty
    matches every split of the rule.
    """

    rule = models.ForeignKey(
        AlertRule, null=True, blank=True, on_delete=models.CASCADE, related_name="silences"
    )
    split_key = models.CharField(max_length=256, blank=True, default="")
    kind = models.CharField(max_length=16, choices=SilenceKind.choices, default="silence")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=500, blank=True, default="")
    created_by = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.kind} {self.starts_at:%Y-%m-%d %H:%M}..{self.ends_at:%H:%M}"
