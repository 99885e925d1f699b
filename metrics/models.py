"""Event data in each tenant's schema. One Event is one LLM call (a "generation" span)."""

from __future__ import annotations

from django.db import models


class EventStatus(models.TextChoices):
    OK = "ok", "OK"
    ERROR = "error", "Error"
    TIMEOUT = "timeout", "Timeout"
    RATE_LIMITED = "rate_limited", "Rate limited"
    CANCELLED = "cancelled", "Cancelled"


class CostSource(models.TextChoices):
    CLIENT = "client", "Supplied by the client"
    PRICE_TABLE = "price_table", "Vigil price table"
    OVERRIDE = "override", "Tenant price override"
    UNPRICED = "unpriced", "Unpriced (unknown model)"


class Event(models.Model):
    """Field names follow ../shared/DESIGN.md ("The event") and OpenTelemetry GenAI."""

    event_id = models.CharField(max_length=128, unique=True)
    timestamp = models.DateTimeField()
    received_at = models.DateTimeField()

    feature = models.CharField(max_length=128)
    endpoint = models.CharField(max_length=256, blank=True, default="")
    query_type = models.CharField(max_length=128, blank=True, default="")
    customer = models.CharField(max_length=128, blank=True, default="")
    user_id = models.CharField(max_length=128, blank=True, default="")
    session_id = models.CharField(max_length=128, blank=True, default="")
    environment = models.CharField(max_length=64, blank=True, default="production")
    release = models.CharField(max_length=128, blank=True, default="")
    content_category = models.CharField(max_length=128, blank=True, default="")

    trace_id = models.CharField(max_length=64, blank=True, default="")
    span_id = models.CharField(max_length=32, blank=True, default="")
    parent_span_id = models.CharField(max_length=32, blank=True, default="")

    provider = models.CharField(max_length=64, blank=True, default="")
    model = models.CharField(max_length=128)
    response_model = models.CharField(max_length=128, blank=True, default="")

    input_tokens = models.BigIntegerField(default=0)
    output_tokens = models.BigIntegerField(default=0)
    cached_input_tokens = models.BigIntegerField(default=0)
    reasoning_tokens = models.BigIntegerField(default=0)
    cost_usd = models.DecimalField(max_digits=18, decimal_places=10, default=0)
    cost_source = models.CharField(max_length=16, choices=CostSource.choices)
    price_version = models.CharField(max_length=64, blank=True, default="")

    latency_ms = models.FloatField(null=True, blank=True)
    time_to_first_token_ms = models.FloatField(null=True, blank=True)

    status = models.CharField(max_length=16, choices=EventStatus.choices, default=EventStatus.OK)
    error_type = models.CharField(max_length=128, blank=True, default="")
    retries = models.IntegerField(default=0)
    fallback_used = models.BooleanField(default=False)
    fallback_from = models.CharField(max_length=128, blank=True, default="")

    refused = models.BooleanField(default=False)
    policy_violations = models.JSONField(default=list, blank=True)
    violation_count = models.IntegerField(default=0)

    scores = models.JSONField(default=list, blank=True)
    retrieval = models.JSONField(default=list, blank=True)

    # Content is kept only for sampled, tail, error and violating events, redacted first.
    input = models.TextField(blank=True, default="")
    output = models.TextField(blank=True, default="")
    content_expires_at = models.DateTimeField(null=True, blank=True)

    is_tail = models.BooleanField(default=False)
    is_sampled = models.BooleanField(default=False)
    attributes = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["timestamp"], name="event_timestamp"),
            models.Index(fields=["feature", "timestamp"], name="event_feature_time"),
            models.Index(fields=["trace_id"], name="event_trace"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} {self.feature}/{self.model}"


class DirtyHour(models.Model):
    """An hour whose events changed since its rollup was last built.

    Ingestion inserts the hours of every accepted batch (ON CONFLICT DO NOTHING);
    the rollup job rebuilds each dirty hour from the raw events and deletes the
    row, so late events land in their own hour and re-running never double counts.
    """

    hour = models.DateTimeField(unique=True)
    marked_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.hour.isoformat()


# Derived tables (rollups, daily usage, tail thresholds) live in their own module.
# Per-tenant price overrides and ingestion settings.
from metrics.ingest.models import IngestSettings  # noqa: E402, F401

# Trace context around LLM calls (non-LLM OpenTelemetry spans).
from metrics.otel.models import ClientScore, TraceSpan  # noqa: E402, F401
from metrics.pricing.models import PriceOverride  # noqa: E402, F401

# Quality: sampling policies, judges, rubrics, grades, calibration, deployments, findings.
from metrics.quality.models import (  # noqa: E402, F401
    CalibrationItem,
    Deployment,
    Grade,
    JudgeConfig,
    QualityFinding,
    Rubric,
    SamplingPolicy,
)
from metrics.rollups.models import (  # noqa: E402, F401
    CoarseRollup,
    DailyUsage,
    EndpointThreshold,
    HourlyRollup,
    ViolationRollup,
)
