"""Read API drill-down: /api/v1/metrics/events (filtered list) and /events/<event_id> (trace)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
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
    filter_echo,
    request_filter,
    validated,
)
from metrics.models import Event


class EventListInput(serializers.Serializer):
    status = serializers.ChoiceField(choices=list(sel.events.STATUSES), required=False)
    failed = serializers.BooleanField(default=False, help_text="Only calls whose status is not ok.")
    tail = serializers.BooleanField(default=False, help_text="Only calls above the tail threshold.")
    refused = serializers.BooleanField(default=False)
    violations = serializers.BooleanField(default=False, help_text="Only calls with violations.")
    fallback = serializers.BooleanField(default=False)
    scored = serializers.BooleanField(default=False, help_text="Only calls with quality scores.")
    cursor = serializers.CharField(required=False, max_length=100)
    limit = serializers.IntegerField(min_value=1, max_value=sel.events.MAX_LIMIT, default=50)


class EventListItemOutput(serializers.ModelSerializer):
    class Meta:
        model = Event
        fields = [
            "event_id", "timestamp", "feature", "endpoint", "query_type", "customer",
            "environment", "content_category", "provider", "model", "trace_id", "span_id",
            "input_tokens", "output_tokens", "cached_input_tokens", "cost_usd", "latency_ms",
            "time_to_first_token_ms", "status", "error_type", "retries", "fallback_used",
            "refused", "violation_count", "is_sampled",
        ]  # fmt: skip


class EventListOutput(serializers.Serializer):
    filter = FilterEchoSerializer()
    items = EventListItemOutput(many=True)
    next_cursor = serializers.CharField(allow_null=True, help_text="Pass as `cursor` for more.")


class EventListView(APIView):
    """The events behind any number: newest first, keyset-paginated."""

    permission_classes = READ

    @extend_schema(
        summary="Events for a filter (drill-down)",
        operation_id="metrics_events_list",
        parameters=[EventListInput, *FILTER_PARAMETERS],
        responses={200: EventListOutput, **ERROR_RESPONSES},
        tags=["metrics"],
    )
    def get(self, request: Request) -> Response:
        params = validated(EventListInput, request)
        f = request_filter(request)
        narrow: dict[str, Any] = {k: v for k, v in params.items() if k not in ("cursor", "limit")}
        page = sel.event_list(f, cursor=params.get("cursor"), limit=params["limit"], **narrow)
        data = {"filter": filter_echo(f), "items": page.items, "next_cursor": page.next_cursor}
        return Response(EventListOutput(data).data)


class EventDetailOutputEvent(serializers.ModelSerializer):
    class Meta:
        model = Event
        exclude = ["id"]


class EventDetailSpanOutput(serializers.Serializer):
    event_id = serializers.CharField(source="event.event_id")
    span_id = serializers.CharField(source="event.span_id")
    parent_span_id = serializers.CharField(source="event.parent_span_id")
    feature = serializers.CharField(source="event.feature")
    model = serializers.CharField(source="event.model")
    status = serializers.CharField(source="event.status")
    depth = serializers.IntegerField()
    offset_ms = serializers.FloatField()
    duration_ms = serializers.FloatField()


class EventDetailOutput(serializers.Serializer):
    event = EventDetailOutputEvent()
    threshold_ms = serializers.FloatField(help_text="Tail threshold of the event's endpoint.")
    is_tail = serializers.BooleanField()
    trace = EventDetailSpanOutput(many=True)
    trace_duration_ms = serializers.FloatField()


class EventDetailView(APIView):
    """One event with every span of its trace (a waterfall); 404 if not the key's tenant's."""

    permission_classes = READ

    @extend_schema(
        summary="One event and its trace",
        operation_id="metrics_event_detail",
        parameters=[OpenApiParameter("event_id", OpenApiTypes.STR, OpenApiParameter.PATH)],
        responses={200: EventDetailOutput, 404: OpenApiTypes.OBJECT, 403: OpenApiTypes.OBJECT},
        tags=["metrics"],
    )
    def get(self, request: Request, event_id: str) -> Response:
        return Response(EventDetailOutput(sel.event_detail(event_id=event_id)).data)
