"""POST /api/v1/events: a batch of LLM-call events, answered per event.

Thin: check the rate limit, read and parse the body within its limits, hand
the events to the pipeline, serialise the outcomes. Everything about the body
(size, gzip, JSON shape) lives in metrics.ingest.body, every rule about an
event in metrics.ingest.schema, the write in metrics.ingest.pipeline.
"""

from __future__ import annotations

import logging
from typing import Any

import msgspec
from django.db import DatabaseError
from django.http import HttpResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.views import APIView

from metrics.ingest.body import BodyError, parse_batch, read_body
from metrics.ingest.pipeline import REJECTED, EventOutcome, ingest_events, outcome_counts
from metrics.ingest.ratelimit import RateDecision, ingest_rate_check
from tenants.api_auth import request_api_key, scope_required

logger = logging.getLogger(__name__)
_encode = msgspec.json.Encoder().encode


def _json(payload: dict[str, Any], status: int) -> HttpResponse:
    return HttpResponse(_encode(payload), status=status, content_type="application/json")


def _error(message: str, status: int, details: dict[str, Any] | None = None) -> HttpResponse:
    return _json({"error": message, "details": details or {}}, status)


def _too_many(decision: RateDecision) -> HttpResponse:
    response = _error(decision.message, 429, {"retry_after_s": decision.retry_after_s})
    response["Retry-After"] = str(decision.retry_after_s)
    return response


def _result(outcome: EventOutcome) -> dict[str, Any]:
    item: dict[str, Any] = {
        "index": outcome.index,
        "event_id": outcome.event_id,
        "status": outcome.status,
    }
    if outcome.status == REJECTED:
        item["errors"] = outcome.errors
    return item


class EventBatchInput(serializers.Serializer):
    """Documentation only: the hot path validates with metrics.ingest.schema."""

    events = serializers.ListField(child=serializers.DictField(), max_length=1000)


RESULTS_SCHEMA = {
    "type": "object",
    "properties": {
        "accepted": {"type": "integer"},
        "duplicate": {"type": "integer"},
        "rejected": {"type": "integer"},
        "results": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "index": {"type": "integer"},
                    "event_id": {"type": "string", "nullable": True},
                    "status": {"type": "string", "enum": ["accepted", "duplicate", "rejected"]},
                    "errors": {"type": "object", "additionalProperties": {"type": "string"}},
                },
            },
        },
    },
}


class EventBatchView(APIView):
    """Report LLM calls. See docs/api.md ("Sending events") for fields and limits."""

    permission_classes = [scope_required("ingest")]
    # Declared for the schema only: request.data is never touched; metrics.ingest.body reads
    # the raw stream within its limits.
    parser_classes = [JSONParser]

    @extend_schema(
        request=EventBatchInput,
        responses={
            200: RESULTS_SCHEMA,
            207: RESULTS_SCHEMA,
            400: OpenApiResponse(description="Not JSON, not a batch, or no valid event"),
            413: OpenApiResponse(description="More than 5 MB or 1,000 events"),
            415: OpenApiResponse(description="Not JSON, or an unsupported Content-Encoding"),
            429: OpenApiResponse(description="Rate limit; see Retry-After"),
        },
        summary="Send a batch of events (accepted / duplicate / rejected per event)",
    )
    def post(self, request: Request) -> HttpResponse:
        tenant = request_api_key(request).tenant
        decision = ingest_rate_check(tenant_slug=tenant.schema_name, kind="requests")
        if not decision.allowed:
            return _too_many(decision)
        try:
            raw_events = parse_batch(read_body(request._request))
        except BodyError as exc:
            return _error(exc.message, exc.status_code, exc.details)
        decision = ingest_rate_check(
            tenant_slug=tenant.schema_name, kind="events", amount=len(raw_events)
        )
        if not decision.allowed:
            return _too_many(decision)
        try:
            outcomes = ingest_events(tenant=tenant, raw_events=raw_events, source="rest")
        except DatabaseError:
            logger.exception("ingest for tenant %s could not be stored", tenant.schema_name)
            response = _error("Storage is unavailable; nothing was stored. Retry later.", 503)
            response["Retry-After"] = "5"
            return response
        counts = outcome_counts(outcomes)
        if counts[REJECTED] == 0:
            status = 200
        elif counts[REJECTED] == len(outcomes):
            status = 400
        else:
            status = 207
        payload = {**counts, "results": [_result(outcome) for outcome in outcomes]}
        if status == 400:
            payload = {"error": "Every event was rejected; nothing was stored.", **payload}
        return _json(payload, status)
