"""What every metrics read endpoint shares: the key scope, the filter and its documentation."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers
from rest_framework.request import Request

from metrics.selectors import FILTER_DIMENSIONS, MetricsFilter, Series, metrics_filter_from_params
from tenants.api_auth import scope_required

READ = [scope_required("read")]

FILTER_PARAMETERS = [
    OpenApiParameter(
        "range",
        OpenApiTypes.STR,
        enum=["24h", "7d", "30d", "custom"],
        description="Time range ending with the current hour (default 7d); 'custom' uses from/to.",
    ),
    OpenApiParameter(
        "from", OpenApiTypes.STR, description="Custom range start: YYYY-MM-DD (UTC) or ISO 8601."
    ),
    OpenApiParameter(
        "to", OpenApiTypes.STR, description="Custom range end (a date includes the whole day)."
    ),
    *[
        OpenApiParameter(name, OpenApiTypes.STR, description=f"Only events with this {name}.")
        for name in FILTER_DIMENSIONS
    ],
]
ERROR_RESPONSES = {
    400: OpenApiTypes.OBJECT,
    403: OpenApiTypes.OBJECT,
}


def request_filter(request: Request) -> MetricsFilter:
    """The MetricsFilter of the query string; ApplicationError (400) names the bad field."""
    return metrics_filter_from_params(request.query_params)


def validated(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    serializer = serializer_class(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def filter_echo(f: MetricsFilter) -> dict[str, Any]:
    return {
        "range": f.range,
        "start": f.start,
        "end": f.end,
        "bucket": f.bucket,
        "dimensions": f.dimensions(),
    }


def series_data(series: Series) -> dict[str, Any]:
    return {"bucket": series.bucket, "buckets": series.buckets, "lines": series.lines}


class FilterEchoSerializer(serializers.Serializer):
    """The filter that was applied (the range resolved to UTC times)."""

    range = serializers.CharField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    bucket = serializers.ChoiceField(choices=["hour", "day"])
    dimensions = serializers.DictField(child=serializers.CharField())


class SeriesSerializer(serializers.Serializer):
    """A time series: bucket starts and one list of values (or null) per line."""

    bucket = serializers.ChoiceField(choices=["hour", "day"])
    buckets = serializers.ListField(child=serializers.DateTimeField())
    lines = serializers.DictField(
        child=serializers.ListField(child=serializers.FloatField(allow_null=True))
    )
