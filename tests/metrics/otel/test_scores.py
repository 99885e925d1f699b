"""Langfuse scores: validation, idempotency, attachment (POST /api/public/scores in-process)."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

from django.test import Client
from django_tenants.utils import tenant_context
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from metrics.models import Event
from metrics.otel.models import ClientScore
from tenants.models import Tenant

from .test_otlp_api import body

URL = "/api/public/scores"


def basic_client(raw_key: str) -> Client:
    token = base64.b64encode(f"{raw_key[:12]}:{raw_key}".encode()).decode()
    return Client(HTTP_AUTHORIZATION=f"Basic {token}")


def send(client: Client, scores: Any) -> Any:
    return client.post(URL, json.dumps(scores), content_type="application/json")


def test_score_before_and_after_its_event(tenant: Tenant, api_key_factory: Any) -> None:
    client = basic_client(api_key_factory(tenant, ["ingest"]))
    content = body(1)
    span = ExportTraceServiceRequest.FromString(content).resource_spans[0].scope_spans[0].spans[0]
    trace_id, span_id = span.trace_id.hex(), span.span_id.hex()
    early = {
        "id": uuid.uuid4().hex,
        "traceId": trace_id,
        "observationId": span_id,
        "name": "q",
        "value": 0.5,
    }
    assert send(client, [early]).status_code == 202
    assert send(client, [early]).status_code == 202  # the SDK retrying: counted once
    with tenant_context(tenant):
        assert ClientScore.objects.filter(trace_id=trace_id, applied_at__isnull=True).count() == 1

    exported = client.generic(
        "POST", "/api/public/otel/v1/traces", content, content_type="application/x-protobuf"
    )
    assert exported.status_code == 200
    late = {"traceId": trace_id, "observationId": span_id, "name": "r", "value": 1}
    assert send(client, late).status_code == 202  # a single object is accepted too
    with tenant_context(tenant):
        event = Event.objects.get(event_id=f"otel-{trace_id}-{span_id}")
        assert [(s["name"], s["value"]) for s in event.scores] == [("q", 0.5), ("r", 1.0)]
        assert not ClientScore.objects.filter(trace_id=trace_id, applied_at__isnull=True).exists()


def test_invalid_scores_are_named_and_the_valid_ones_kept(
    tenant: Tenant, api_key_factory: Any
) -> None:
    client = basic_client(api_key_factory(tenant, ["ingest"]))
    trace_id = uuid.uuid4().hex
    answer = send(
        client,
        [
            {"traceId": trace_id, "name": "ok", "value": 0.1},
            {"traceId": trace_id, "name": "cat", "value": "good", "dataType": "CATEGORICAL"},
            {"sessionId": "s-1", "name": "session-only", "value": 1},
            {"traceId": trace_id, "name": "nan", "value": float("inf")},
            "not an object",
        ],
    )
    assert answer.status_code == 207
    data = answer.json()
    assert (data["accepted"], data["rejected"]) == (1, 4)
    messages = " | ".join(error["message"] for error in data["errors"])
    assert "only NUMERIC and BOOLEAN" in messages and "traceId" in messages
    assert "finite number" in messages and "JSON object" in messages


def test_bad_bodies_and_keys(tenant: Tenant, other_tenant: Tenant, api_key_factory: Any) -> None:
    client = basic_client(api_key_factory(tenant, ["ingest"]))
    assert client.post(URL, "{nope", content_type="application/json").status_code == 400
    deep = "[" * 100_000 + "]" * 100_000
    assert client.post(URL, deep, content_type="application/json").status_code == 400
    assert (
        client.post(URL, "x" * (1024 * 1024 + 1), content_type="application/json").status_code
        == 413
    )
    assert client.get(URL).status_code == 405
    read_only = basic_client(api_key_factory(tenant, ["read"]))
    assert send(read_only, [{"traceId": "0" * 32, "name": "a", "value": 1}]).status_code == 403
    assert Client().post(URL, "[]", content_type="application/json").status_code == 401


def test_beta_scores_never_touch_alpha_events(
    tenant: Tenant, other_tenant: Tenant, api_key_factory: Any
) -> None:
    alpha = basic_client(api_key_factory(tenant, ["ingest"]))
    content = body(1)
    span = ExportTraceServiceRequest.FromString(content).resource_spans[0].scope_spans[0].spans[0]
    trace_id, span_id = span.trace_id.hex(), span.span_id.hex()
    alpha.generic(
        "POST", "/api/public/otel/v1/traces", content, content_type="application/x-protobuf"
    )
    beta = basic_client(api_key_factory(other_tenant, ["ingest"]))
    assert (
        send(
            beta, [{"traceId": trace_id, "observationId": span_id, "name": "x", "value": 1}]
        ).status_code
        == 202
    )
    with tenant_context(tenant):
        assert Event.objects.get(event_id=f"otel-{trace_id}-{span_id}").scores == []
    with tenant_context(other_tenant):
        assert ClientScore.objects.filter(trace_id=trace_id).count() == 1
