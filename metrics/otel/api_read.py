"""GET /api/v1/traces/<trace_id>: one trace whole (LLM calls and context spans), scope `read`."""

from __future__ import annotations

import re
from dataclasses import asdict

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.exceptions import NotFoundError
from metrics.otel.selectors import trace_spans
from tenants.api_auth import scope_required

TRACE_ID = re.compile(r"^[0-9a-fA-F]{32}$")


class TraceItemOutput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["llm", "span"])
    span_id = serializers.CharField()
    parent_span_id = serializers.CharField()
    name = serializers.CharField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField(allow_null=True)
    duration_ms = serializers.FloatField(allow_null=True)
    offset_ms = serializers.FloatField()
    depth = serializers.IntegerField()
    status = serializers.CharField()
    service_name = serializers.CharField()
    event_id = serializers.CharField(allow_null=True)
    feature = serializers.CharField()
    model = serializers.CharField()
    provider = serializers.CharField()
    input_tokens = serializers.IntegerField()
    output_tokens = serializers.IntegerField()
    cost_usd = serializers.DecimalField(max_digits=18, decimal_places=10, allow_null=True)


class TraceOutput(serializers.Serializer):
    trace_id = serializers.CharField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    duration_ms = serializers.FloatField()
    llm_calls = serializers.IntegerField()
    total_tokens = serializers.IntegerField()
    total_cost_usd = serializers.DecimalField(max_digits=18, decimal_places=10)
    truncated = serializers.IntegerField()
    items = TraceItemOutput(many=True)


class TraceDetailView(APIView):
    permission_classes = [scope_required("read")]

    @extend_schema(
        responses={200: TraceOutput},
        summary="One trace: its LLM calls and other spans, depth-first, for a waterfall",
    )
    def get(self, request: Request, trace_id: str) -> Response:
        if not TRACE_ID.match(trace_id):
            raise NotFoundError("No such trace.")
        view = trace_spans(trace_id)
        if not view.items:
            raise NotFoundError("No such trace.")
        payload = asdict(view)
        return Response(TraceOutput(payload).data)
