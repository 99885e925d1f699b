"""Read API of the five layers: /api/v1/metrics/{overview,cost,latency,reliability,safety,quality}.

Each view validates its own parameters and the shared filter, calls selectors
and serializes; the numbers are exactly what the dashboard pages show. Each
endpoint declares its own input and output serializers (named after it, so the
OpenAPI components stay distinct).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from metrics import selectors as sel
from metrics.api.common import (
    ERROR_RESPONSES,
    FILTER_PARAMETERS,
    READ,
    FilterEchoSerializer,
    SeriesSerializer,
    filter_echo,
    request_filter,
    series_data,
    validated,
)

DIMENSIONS = list(sel.BREAKDOWN_DIMENSIONS)
MONEY: dict[str, Any] = {"max_digits": 24, "decimal_places": 10}
RATE: dict[str, Any] = {"allow_null": True}


def _schema(summary: str, output: type, params: type | None = None) -> Any:
    return extend_schema(
        summary=summary,
        parameters=[*([params] if params else []), *FILTER_PARAMETERS],
        responses={200: output, **ERROR_RESPONSES},
        tags=["metrics"],
    )


# --- overview -------------------------------------------------------------------------------
class OverviewHeadlineOutput(serializers.Serializer):
    layer = serializers.ChoiceField(choices=["cost", "latency", "quality", "reliability", "safety"])
    name = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # Field.label is its own label
    value = serializers.FloatField(allow_null=True)
    previous = serializers.FloatField(allow_null=True)
    change = serializers.FloatField(allow_null=True, help_text="Relative change, 0.1 = +10%.")
    unit = serializers.ChoiceField(choices=["usd", "ms", "ratio", "score", "count"])
    better = serializers.ChoiceField(choices=["lower", "higher"])


class OverviewOutput(serializers.Serializer):
    filter = FilterEchoSerializer()
    requests = serializers.IntegerField()
    previous_requests = serializers.IntegerField()
    headlines = OverviewHeadlineOutput(many=True)


class OverviewView(APIView):
    """Headline numbers of the five layers against the previous period of equal length."""

    permission_classes = READ

    @_schema("Overview: five layers vs the previous period", OverviewOutput)
    def get(self, request: Request) -> Response:
        f = request_filter(request)
        ov = sel.overview(f)
        data = {
            "filter": filter_echo(f),
            "requests": ov.requests,
            "previous_requests": ov.previous_requests,
            "headlines": [asdict(h) for h in ov.headlines],
        }
        return Response(OverviewOutput(data).data)


# --- cost -----------------------------------------------------------------------------------
class CostInput(serializers.Serializer):
    by = serializers.ChoiceField(choices=DIMENSIONS, default="feature")
    top = serializers.IntegerField(min_value=1, max_value=20, default=3)


class CostRowOutput(serializers.Serializer):
    key = serializers.CharField(allow_blank=True)
    requests = serializers.IntegerField()
    request_share = serializers.FloatField(**RATE)
    cost_usd = serializers.DecimalField(**MONEY)
    cost_share = serializers.FloatField(**RATE)
    cost_per_request = serializers.DecimalField(**MONEY, allow_null=True)
    relative_cost_per_request = serializers.FloatField(
        allow_null=True, help_text="Cost per request over the average request's (3.0 = 3x)."
    )
    input_tokens = serializers.IntegerField()
    output_tokens = serializers.IntegerField()


class CostOutput(serializers.Serializer):
    filter = FilterEchoSerializer()
    by = serializers.CharField()
    requests = serializers.IntegerField()
    cost_usd = serializers.DecimalField(**MONEY)
    cost_per_request = serializers.DecimalField(**MONEY, allow_null=True)
    previous_cost_usd = serializers.DecimalField(**MONEY)
    cost_change = serializers.FloatField(**RATE)
    input_tokens = serializers.IntegerField()
    output_tokens = serializers.IntegerField()
    cached_input_tokens = serializers.IntegerField()
    top_cost_share = serializers.FloatField(**RATE, help_text="Share of cost of the `top` rows.")
    top_request_share = serializers.FloatField(**RATE)
    breakdown = CostRowOutput(many=True)
    series = SeriesSerializer()


class CostView(APIView):
    """Spend, cost per request, a breakdown by one dimension, concentration and spend over time."""

    permission_classes = READ

    @_schema("Cost: totals, breakdown by a dimension, concentration", CostOutput, CostInput)
    def get(self, request: Request) -> Response:
        params = validated(CostInput, request)
        f = request_filter(request)
        rows = sel.cost_breakdown(f, by=params["by"])
        top = rows[: params["top"]]
        data = {
            "filter": filter_echo(f),
            "by": params["by"],
            **asdict(sel.cost_summary(f)),
            "top_cost_share": sum(r.cost_share or 0.0 for r in top) if rows else None,
            "top_request_share": sum(r.request_share or 0.0 for r in top) if rows else None,
            "breakdown": [asdict(r) for r in rows],
            "series": series_data(sel.cost_series(f, by=params["by"], top=5)),
        }
        return Response(CostOutput(data).data)


# --- latency --------------------------------------------------------------------------------
class LatencyInput(serializers.Serializer):
    by = serializers.ChoiceField(choices=DIMENSIONS, default="endpoint")
    metric = serializers.ChoiceField(choices=["latency", "ttft"], default="latency")


class LatencyStatsOutput(serializers.Serializer):
    key = serializers.CharField(allow_blank=True)
    requests = serializers.IntegerField()
    measured = serializers.IntegerField(help_text="Events that reported a latency.")
    p50_ms = serializers.FloatField(allow_null=True)
    p95_ms = serializers.FloatField(allow_null=True)
    p99_ms = serializers.FloatField(allow_null=True)
    mean_ms = serializers.FloatField(allow_null=True)
    ttft_p50_ms = serializers.FloatField(allow_null=True)
    ttft_p95_ms = serializers.FloatField(allow_null=True)
    ttft_p99_ms = serializers.FloatField(allow_null=True)
    tail_count = serializers.IntegerField()
    tail_rate = serializers.FloatField(**RATE)


class LatencyOutput(serializers.Serializer):
    filter = FilterEchoSerializer()
    by = serializers.CharField()
    summary = LatencyStatsOutput()
    previous_p99_ms = serializers.FloatField(allow_null=True)
    p99_change = serializers.FloatField(**RATE)
    breakdown = LatencyStatsOutput(many=True)
    series = SeriesSerializer(help_text="Lines p50, p95, p99 of `metric` in ms.")


class LatencyView(APIView):
    """p50/p95/p99 and time to first token, per dimension, and percentiles over time."""

    permission_classes = READ

    @_schema("Latency percentiles (merged histograms, ~1% error)", LatencyOutput, LatencyInput)
    def get(self, request: Request) -> Response:
        params = validated(LatencyInput, request)
        f = request_filter(request)
        summary = sel.latency_summary(f)
        data = {
            "filter": filter_echo(f),
            "by": params["by"],
            "summary": asdict(summary.current),
            "previous_p99_ms": summary.previous_p99_ms,
            "p99_change": summary.p99_change,
            "breakdown": [asdict(r) for r in sel.latency_breakdown(f, by=params["by"])],
            "series": series_data(sel.latency_series(f, metric=params["metric"])),
        }
        return Response(LatencyOutput(data).data)


# --- reliability ----------------------------------------------------------------------------
class ReliabilityInput(serializers.Serializer):
    by = serializers.ChoiceField(choices=DIMENSIONS, default="provider")


class ReliabilityStatsOutput(serializers.Serializer):
    key = serializers.CharField(allow_blank=True)
    requests = serializers.IntegerField()
    ok = serializers.IntegerField()
    failures = serializers.IntegerField(help_text="Every status but ok.")
    error_rate = serializers.FloatField(**RATE)
    availability = serializers.FloatField(**RATE, help_text="ok / requests")
    by_status = serializers.DictField(child=serializers.IntegerField())
    status_rates = serializers.DictField(child=serializers.FloatField(allow_null=True))
    fallbacks = serializers.IntegerField()
    fallback_rate = serializers.FloatField(**RATE)
    retries = serializers.IntegerField()
    retries_per_request = serializers.FloatField(**RATE)


class ReliabilityOutput(serializers.Serializer):
    filter = FilterEchoSerializer()
    by = serializers.CharField()
    summary = ReliabilityStatsOutput()
    previous_error_rate = serializers.FloatField(**RATE)
    breakdown = ReliabilityStatsOutput(many=True)
    failure_series = SeriesSerializer(help_text="Failed calls per bucket, one line per status.")
    provider_availability = SeriesSerializer(help_text="Success rate per provider and bucket.")


class ReliabilityView(APIView):
    """Error rate by status, fallbacks, retries, and provider availability over time."""

    permission_classes = READ

    @_schema(
        "Reliability: errors, fallbacks, provider availability", ReliabilityOutput, ReliabilityInput
    )
    def get(self, request: Request) -> Response:
        params = validated(ReliabilityInput, request)
        f = request_filter(request)
        summary = sel.reliability_summary(f)
        data = {
            "filter": filter_echo(f),
            "by": params["by"],
            "summary": asdict(summary.current),
            "previous_error_rate": summary.previous_error_rate,
            "breakdown": [asdict(r) for r in sel.reliability_breakdown(f, by=params["by"])],
            "failure_series": series_data(sel.error_series(f)),
            "provider_availability": series_data(sel.provider_availability_series(f)),
        }
        return Response(ReliabilityOutput(data).data)


# --- safety ---------------------------------------------------------------------------------
class SafetyViolationOutput(serializers.Serializer):
    policy = serializers.CharField(allow_blank=True)
    severity = serializers.CharField(allow_blank=True)
    count = serializers.IntegerField()
    share = serializers.FloatField(**RATE)


class SafetyOutput(serializers.Serializer):
    filter = FilterEchoSerializer()
    requests = serializers.IntegerField()
    refusals = serializers.IntegerField()
    refusal_rate = serializers.FloatField(**RATE)
    violations = serializers.IntegerField()
    violating_requests = serializers.IntegerField()
    violation_rate = serializers.FloatField(**RATE)
    previous_violations = serializers.IntegerField()
    violations_change = serializers.FloatField(**RATE)
    previous_refusal_rate = serializers.FloatField(**RATE)
    by_policy = SafetyViolationOutput(many=True)
    series = SeriesSerializer(help_text="Lines refusal_rate and violations.")


class SafetyView(APIView):
    """Refusal rate and policy violations by policy and severity."""

    permission_classes = READ

    @_schema("Safety: refusals and violations by policy and severity", SafetyOutput)
    def get(self, request: Request) -> Response:
        f = request_filter(request)
        data = {
            "filter": filter_echo(f),
            **asdict(sel.safety_summary(f)),
            "by_policy": [asdict(r) for r in sel.violations_breakdown(f)],
            "series": series_data(sel.safety_series(f)),
        }
        return Response(SafetyOutput(data).data)


# --- quality --------------------------------------------------------------------------------
class QualityInput(serializers.Serializer):
    by = serializers.ChoiceField(choices=DIMENSIONS, default="content_category")


class QualityStatsOutput(serializers.Serializer):
    key = serializers.CharField(allow_blank=True)
    scored = serializers.IntegerField()
    average = serializers.FloatField(allow_null=True)
    previous_average = serializers.FloatField(allow_null=True)
    change = serializers.FloatField(**RATE)


class QualityOutput(serializers.Serializer):
    filter = FilterEchoSerializer()
    by = serializers.CharField()
    requests = serializers.IntegerField()
    scored_share = serializers.FloatField(**RATE)
    summary = QualityStatsOutput()
    breakdown = QualityStatsOutput(many=True)
    series = SeriesSerializer(help_text="Average score per bucket, one line per value of `by`.")


class QualityView(APIView):
    """Average client-supplied quality score, per content category and over time."""

    permission_classes = READ

    @_schema("Quality score per content category over time", QualityOutput, QualityInput)
    def get(self, request: Request) -> Response:
        params = validated(QualityInput, request)
        f = request_filter(request)
        summary = sel.quality_summary(f)
        data = {
            "filter": filter_echo(f),
            "by": params["by"],
            "requests": summary.requests,
            "scored_share": summary.scored_share,
            "summary": asdict(summary.current),
            "breakdown": [asdict(r) for r in sel.quality_breakdown(f, by=params["by"])],
            "series": series_data(sel.quality_series(f, by=params["by"])),
        }
        return Response(QualityOutput(data).data)
