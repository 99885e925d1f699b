"""Alert rules, their per-split evaluation state, and notification channels (tenant schema)."""

from __future__ import annotations

from django.db import models

SCOPE_DIMENSIONS = ("feature", "endpoint", "model", "provider", "customer", "content_category")


class Metric(models.TextChoices):
    SPEND = "spend", "Spend (USD)"
    COST_PER_REQUEST = "cost_per_request", "Cost per request (USD)"
    TOKENS = "tokens", "Tokens (input + output)"
    REQUESTS = "requests", "Request count"
    LATENCY_P50 = "latency_p50", "Latency p50 (ms)"
    LATENCY_P95 = "latency_p95", "Latency p95 (ms)"
    LATENCY_P99 = "latency_p99", "Latency p99 (ms)"
    TTFT_P50 = "ttft_p50", "Time to first token p50 (ms)"
    TTFT_P95 = "ttft_p95", "Time to first token p95 (ms)"
    TAIL_COUNT = "tail_count", "Tail events (count)"
    ERROR_RATE = "error_rate", "Error rate (%)"
    TIMEOUT_RATE = "timeout_rate", "Timeout rate (%)"
    FALLBACK_RATE = "fallback_rate", "Fallback rate (%)"
    AVAILABILITY = "availability", "Provider availability (%)"
    QUALITY = "quality_score", "Quality score (mean)"
    REFUSAL_RATE = "refusal_rate", "Refusal rate (%)"
    VIOLATIONS = "violation_count", "Policy violations (count)"
    SPEND_VS_PROJECTION = "spend_vs_projection", "Spend above projection (%)"
    BUDGET_USED = "budget_used", "Budget used (%)"
    MONTHLY_FORECAST = "monthly_forecast", "Month-end forecast (% of monthly budget)"
    SLO_BURN = "slo_burn", "SLO burn rate (multi-window)"
    QUALITY_FINDING = "quality_finding", "Quality drift finding (points)"


class Comparison(models.TextChoices):
    GT = "gt", "above"
    GTE = "gte", "at or above"
    LT = "lt", "below"
    LTE = "lte", "at or below"


class NoData(models.TextChoices):
    OK = "ok", "Treat as OK (resolve)"
    KEEP = "keep", "Keep the last state"
    ALERT = "alert", "Alert (warning)"


class SplitBy(models.TextChoices):
    NONE = "", "One incident for the whole scope"
    FEATURE = "feature", "One per feature"
    ENDPOINT = "endpoint", "One per endpoint"
    MODEL = "model", "One per model"
    PROVIDER = "provider", "One per provider"
    CUSTOMER = "customer", "One per customer"
    CONTENT_CATEGORY = "content_category", "One per content category"


class ChannelKind(models.TextChoices):
    EMAIL = "email", "E-mail"
    WEBHOOK = "webhook", "Signed webhook"
    SLACK = "slack", "Slack incoming webhook"


class Channel(models.Model):
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=16, choices=ChannelKind.choices)
    # E-mail: comma-separated addresses; webhook and Slack: the URL.
    target = models.CharField(max_length=1000)
    secret = models.CharField(max_length=128, blank=True, default="")  # webhook HMAC key
    enabled = models.BooleanField(default=True)
    last_status = models.CharField(max_length=16, blank=True, default="")  # ok | failing
    last_error = models.CharField(max_length=500, blank=True, default="")
    last_delivery_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"


class AlertRule(models.Model):
    name = models.CharField(max_length=200)
    description = models.CharField(max_length=500, blank=True, default="")
    metric = models.CharField(max_length=32, choices=Metric.choices)
    feature = models.CharField(max_length=128, blank=True, default="")
    endpoint = models.CharField(max_length=256, blank=True, default="")
    model = models.CharField(max_length=128, blank=True, default="")
    provider = models.CharField(max_length=64, blank=True, default="")
    customer = models.CharField(max_length=128, blank=True, default="")
    content_category = models.CharField(max_length=128, blank=True, default="")
    split_by = models.CharField(max_length=32, choices=SplitBy.choices, blank=True, default="")
    window_minutes = models.PositiveIntegerField(default=15)
    comparison = models.CharField(max_length=4, choices=Comparison.choices, default="gt")
    warning_threshold = models.FloatField(null=True, blank=True)
    critical_threshold = models.FloatField(null=True, blank=True)
    for_evaluations = models.PositiveIntegerField(default=1)
    min_samples = models.PositiveIntegerField(default=0)
    no_data = models.CharField(max_length=8, choices=NoData.choices, default="ok")
    repeat_minutes = models.PositiveIntegerField(default=240)  # 0: never repeat
    hysteresis_pct = models.FloatField(default=10.0)
    channels = models.ManyToManyField(Channel, blank=True, related_name="rules")
    budget = models.ForeignKey(
        "alerts.Budget", null=True, blank=True, on_delete=models.CASCADE, related_name="rules"
    )
    slo = models.ForeignKey(
        "alerts.Slo", null=True, blank=True, on_delete=models.CASCADE, related_name="rules"
    )
    enabled = models.BooleanField(default=True)
    is_default = models.BooleanField(default=False)
    last_evaluated_at = models.DateTimeField(null=True, blank=True)  # the evaluation minute
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name

    def scope(self) -> dict[str, str]:
        return {d: getattr(self, d) for d in SCOPE_DIMENSIONS if getattr(self, d)}


class RuleState(models.Model):
    """Where each (rule, split key) stands between evaluations: the `for` and clear counters."""

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="states")
    split_key = models.CharField(max_length=256, blank=True, default="")
    level = models.CharField(max_length=16, blank=True, default="ok")  # ok|warning|critical
    consecutive = models.PositiveIntegerField(default=0)
    clear_consecutive = models.PositiveIntegerField(default=0)
    last_value = models.FloatField(null=True, blank=True)
    last_evaluated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["rule", "split_key"], name="rulestate_unique")
        ]

    def __str__(self) -> str:
        return f"{self.rule_id}/{self.split_key}: {self.level}"


class AlertSettings(models.Model):
    """One row per tenant: when its default rule set was created (so it is created once)."""

    defaults_created_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"alert settings (defaults {self.defaults_created_at})"
