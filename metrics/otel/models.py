"""Trace context: the spans around LLM calls (HTTP handlers, retrieval, tools, agents).

Lives in each tenant's schema (metrics is a dual app; TraceSpan is not a public
model). LLM spans are stored as metrics.Event, not here; `selectors.trace_spans`
joins both to show a trace whole. Imported by metrics/models.py so Django sees it.
"""

from __future__ import annotations

from django.db import models


class TraceSpan(models.Model):
    trace_id = models.CharField(max_length=64)
    span_id = models.CharField(max_length=32)
    parent_span_id = models.CharField(max_length=32, blank=True, default="")
    name = models.CharField(max_length=256, blank=True, default="")
    kind = models.CharField(max_length=16, blank=True, default="")
    service_name = models.CharField(max_length=128, blank=True, default="")
    start = models.DateTimeField()
    end = models.DateTimeField(null=True, blank=True)
    duration_ms = models.FloatField(null=True, blank=True)
    status = models.CharField(max_length=16, default="unset")  # unset | ok | error
    status_message = models.CharField(max_length=512, blank=True, default="")
    attributes = models.JSONField(default=dict, blank=True)
    received_at = models.DateTimeField()

    class Meta:
        app_label = "metrics"
        constraints = [
            models.UniqueConstraint(fields=["trace_id", "span_id"], name="tracespan_unique_span"),
        ]
        indexes = [models.Index(fields=["start"], name="tracespan_start")]

    def __str__(self) -> str:
        return f"{self.trace_id}/{self.span_id} {self.name}"


class ClientScore(models.Model):
    """A score sent through the Langfuse scores API, kept until its LLM event is known.

    Langfuse's SDK sends scores separately from (and often before) the spans they
    rate. A score is stored here, then appended to its event's `scores` as soon as
    the event exists (at once, or when the span arrives); `score_id` makes a
    re-sent score count once.
    """

    score_id = models.CharField(max_length=64, unique=True)
    trace_id = models.CharField(max_length=64)
    observation_id = models.CharField(max_length=32, blank=True, default="")
    name = models.CharField(max_length=128)
    value = models.FloatField()
    comment = models.CharField(max_length=512, blank=True, default="")
    received_at = models.DateTimeField()
    applied_at = models.DateTimeField(null=True, blank=True)
    applied_event_id = models.CharField(max_length=128, blank=True, default="")

    class Meta:
        app_label = "metrics"
        indexes = [
            models.Index(
                fields=["trace_id"],
                condition=models.Q(applied_at__isnull=True),
                name="clientscore_pending",
            ),
            models.Index(fields=["received_at"], name="clientscore_received"),
        ]

    def __str__(self) -> str:
        return f"{self.name}={self.value} on {self.trace_id}/{self.observation_id}"
