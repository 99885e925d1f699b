"""GET /api/v1/metrics/prometheus: the tenant's metrics for a Prometheus scrape (scope read)."""

from __future__ import annotations

from django.core.cache import cache
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.views import APIView

from metrics.api.common import READ
from metrics.selectors.export import prometheus_exposition, prometheus_version

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
CACHE_SECONDS = 60  # the key changes whenever rollups are rebuilt


class PrometheusView(APIView):
    """Prometheus text exposition of the key's tenant: counters and a latency histogram.

    Scrape with `authorization: {type: Bearer, credentials: <key>}` or basic auth
    with the key as password. Labels: feature, model, provider (+ status, type, le).
    """

    permission_classes = READ

    @extend_schema(
        summary="Prometheus metrics of this tenant",
        responses={
            (200, "text/plain"): OpenApiResponse(
                OpenApiTypes.STR,
                description="vigil_requests_total, vigil_errors_total, vigil_cost_usd_total, "
                "vigil_tokens_total, vigil_latency_seconds (histogram).",
            ),
            403: OpenApiTypes.OBJECT,
        },
        tags=["metrics"],
    )
    def get(self, request: Request) -> HttpResponse:
        key = f"metrics:prometheus:{prometheus_version()}"
        body = cache.get(key)
        if body is None:
            body = prometheus_exposition()
            cache.set(key, body, CACHE_SECONDS)
        return HttpResponse(body, content_type=CONTENT_TYPE)
