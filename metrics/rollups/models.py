"""Derived data: hourly rollups (tenant schema) and daily usage (public).

Imported by metrics/models.py so Django registers them in the metrics app.
Everything here is rebuilt from the raw events by metrics.rollups.services;
nothing else writes these tables.
"""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models

ROLLUP_DIMENSIONS = (
    "feature",
    "endpoint",
    "model",
    "provider",
    "query_type",
    "customer",
    "content_category",
    "environment",
)
# CoarseRollup projections: the dimensions each keeps (the others are summed over and
# stored as ""). A read uses the smallest projection that keeps every dimension it
# filters or groups on (metrics.selectors._query.coarse_projection). Percentiles merge
# histograms bucket by bucket, so their cost grows with the rows read: "total" and the
# one-dimension projections make the common reads (no filter, one filter, one
# breakdown) a few rows per hour or day. Customers are the high-cardinality dimension,
# so the wide projection drops them and "by_customer" keeps them next to the dimensions
# dashboards filter on. Adding a projection needs its rows built for past hours: mark
# them dirty in a migration (as metrics migration 0009 does).
COARSE_PROJECTIONS: dict[str, tuple[str, ...]] = {
    "total": (),
    **{dimension: (dimension,) for dimension in ROLLUP_DIMENSIONS},
    "all_but_customer": (
        "feature",
        "endpoint",
        "model",
        "provider",
        "query_type",
        "content_category",
        "environment",
    ),
    "by_customer": ("customer", "feature", "model", "environment"),
}
DEFAULT_TAIL_THRESHOLD_MS = 2000.0


def _int_array() -> ArrayField:
    return ArrayField(models.IntegerField(), default=list, blank=True)


class RollupMetrics(models.Model):
    """What a rollup row counts; latency and TTFT histograms are sparse.

    `*_buckets` holds bucket indexes (metrics.histogram) and `*_counts` the
    matching counts, so histograms merge by adding counts of equal buckets.
    """

    requests = models.BigIntegerField(default=0)
    input_tokens = models.BigIntegerField(default=0)
    output_tokens = models.BigIntegerField(default=0)
    cached_input_tokens = models.BigIntegerField(default=0)
    cost_usd = models.DecimalField(max_digits=20, decimal_places=10, default=0)

    ok_count = models.BigIntegerField(default=0)
    error_count = models.BigIntegerField(default=0)
    timeout_count = models.BigIntegerField(default=0)
    rate_limited_count = models.BigIntegerField(default=0)
    cancelled_count = models.BigIntegerField(default=0)
    fallback_count = models.BigIntegerField(default=0)
    retry_count = models.BigIntegerField(default=0)  # sum of retries
    refusal_count = models.BigIntegerField(default=0)
    violation_count = models.BigIntegerField(default=0)  # sum of violations
    violating_requests = models.BigIntegerField(default=0)  # events with >= 1 violation
    tail_count = models.BigIntegerField(default=0)
    quality_sum = models.FloatField(default=0)
    quality_count = models.BigIntegerField(default=0)

    latency_sum_ms = models.FloatField(default=0)
    latency_count = models.BigIntegerField(default=0)
    latency_buckets = _int_array()
    latency_counts = _int_array()
    ttft_buckets = _int_array()
    ttft_counts = _int_array()

    class Meta:
        abstract = True


class HourlyRollup(RollupMetrics):
    """One hour of one combination of all eight dimensions (tenant schema).

    The source of truth for every derived number; exact for any filter.
    """

    hour = models.DateTimeField()
    feature = models.CharField(max_length=128)
    endpoint = models.CharField(max_length=256, blank=True, default="")
    model = models.CharField(max_length=128)
    provider = models.CharField(max_length=64, blank=True, default="")
    query_type = models.CharField(max_length=128, blank=True, default="")
    customer = models.CharField(max_length=128, blank=True, default="")
    content_category = models.CharField(max_length=128, blank=True, default="")
    environment = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["hour", *ROLLUP_DIMENSIONS], name="hourlyrollup_unique_key"
            )
        ]
        indexes = [
            models.Index(fields=["hour"], name="hourlyrollup_hour"),
            models.Index(fields=["customer", "hour"], name="hourlyrollup_customer_hour"),
        ]

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H}h {self.feature}/{self.model}"


class CoarseRollup(RollupMetrics):
    """HourlyRollup summed over some dimensions, per hour and per UTC day (tenant schema).

    Each row belongs to one projection (COARSE_PROJECTIONS); the dimensions a
    projection drops are "". With one row per hour (`period="hour"`) and per day
    (`period="day"`) a 30-day dashboard reads a few hundred rows instead of every
    hourly combination. Rebuilt from HourlyRollup in the same transaction; a day
    row is always the sum of that day's hour rows.
    """

    projection = models.CharField(max_length=32)
    period = models.CharField(max_length=4, choices=[("hour", "hour"), ("day", "day")])
    start = models.DateTimeField()
    feature = models.CharField(max_length=128, blank=True, default="")
    endpoint = models.CharField(max_length=256, blank=True, default="")
    model = models.CharField(max_length=128, blank=True, default="")
    provider = models.CharField(max_length=64, blank=True, default="")
    query_type = models.CharField(max_length=128, blank=True, default="")
    customer = models.CharField(max_length=128, blank=True, default="")
    content_category = models.CharField(max_length=128, blank=True, default="")
    environment = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["projection", "period", "start", *ROLLUP_DIMENSIONS],
                name="coarserollup_unique_key",
            )
        ]
        indexes = [
            models.Index(fields=["projection", "period", "start"], name="coarserollup_lookup"),
            # Customer filters read the customer projections; tenants have thousands of them.
            models.Index(
                fields=["projection", "customer", "period", "start"],
                name="coarserollup_customer",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.projection} {self.period} {self.start:%Y-%m-%d %H}h {self.feature}"


class ViolationRollup(models.Model):
    """Policy violations per hour by policy, severity and action (tenant schema)."""

    hour = models.DateTimeField()
    feature = models.CharField(max_length=128)
    model = models.CharField(max_length=128)
    customer = models.CharField(max_length=128, blank=True, default="")
    environment = models.CharField(max_length=64, blank=True, default="")
    policy = models.CharField(max_length=128)
    severity = models.CharField(max_length=32, blank=True, default="")
    action = models.CharField(max_length=32, blank=True, default="")
    count = models.BigIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["hour"], name="violationrollup_hour")]

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H}h {self.policy}/{self.severity}: {self.count}"


class EndpointThreshold(models.Model):
    """Latency above which an endpoint's call is a tail event (tenant schema).

    Endpoints without a row use DEFAULT_TAIL_THRESHOLD_MS. Changing a threshold
    affects rollups from their next rebuild (`manage.py rebuild_rollups`).
    """

    endpoint = models.CharField(max_length=256, unique=True)
    threshold_ms = models.FloatField()
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.endpoint} > {self.threshold_ms:g} ms"


class DailyUsage(models.Model):
    """Per tenant, day, feature and model: what ops, chargeback and Stripe read (public)."""

    tenant_slug = models.CharField(max_length=63)
    day = models.DateField()
    feature = models.CharField(max_length=128)
    model = models.CharField(max_length=128)
    requests = models.BigIntegerField(default=0)
    input_tokens = models.BigIntegerField(default=0)
    output_tokens = models.BigIntegerField(default=0)
    cached_input_tokens = models.BigIntegerField(default=0)
    cost_usd = models.DecimalField(max_digits=20, decimal_places=10, default=0)
    error_count = models.BigIntegerField(default=0)  # every status but ok
    violation_count = models.BigIntegerField(default=0)
    quality_sum = models.FloatField(default=0)
    quality_count = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant_slug", "day", "feature", "model"], name="dailyusage_unique_key"
            )
        ]
        indexes = [models.Index(fields=["day", "tenant_slug"], name="dailyusage_day_tenant")]

    def __str__(self) -> str:
        return f"{self.tenant_slug} {self.day} {self.feature}/{self.model}"
