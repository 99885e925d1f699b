"""In-process checks of the OTLP view (Django test client): rate limits and the 503 path."""

from __future__ import annotations

import time
import uuid
from typing import Any

from django.db import connection
from django.test import Client
from google.rpc.status_pb2 import Status
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

URL = "/api/otel/v1/traces"


def body(n_spans: int = 1) -> bytes:
    start = time.time_ns()
    spans = [
        Span(
            trace_id=uuid.uuid4().bytes,
            span_id=uuid.uuid4().bytes[:8],
            name="chat",
            start_time_unix_nano=start,
            end_time_unix_nano=start + 1000,
            attributes=[
                KeyValue(key="gen_ai.operation.name", value=AnyValue(string_value="chat")),
                KeyValue(key="gen_ai.request.model", value=AnyValue(string_value="gpt-4o")),
            ],
        )
        for _ in range(n_spans)
    ]
    resource_spans = ResourceSpans(scope_spans=[ScopeSpans(spans=spans)])
    resource_spans.resource.attributes.append(
        KeyValue(key="service.name", value=AnyValue(string_value="api-test"))
    )
    return ExportTraceServiceRequest(resource_spans=[resource_spans]).SerializeToString()


def post(client: Client, content: bytes) -> Any:
    return client.generic("POST", URL, content, content_type="application/x-protobuf")


def test_requests_over_the_rate_limit_get_429_with_retry_after(
    api_client: Client, settings: Any
) -> None:
    settings.VIGIL_INGEST_RATE_REQUESTS = 0.2  # 2 requests per 10 s window
    settings.VIGIL_INGEST_RATE_WINDOW_S = 10
    # 6 requests: even if a window boundary splits them, at most 4 pass.
    answers = [post(api_client, body()) for _ in range(6)]
    limited = [answer for answer in answers if answer.status_code == 429]
    assert len(limited) >= 2
    assert int(limited[0]["Retry-After"]) in range(1, 11)
    assert "Rate limit exceeded" in Status.FromString(limited[0].content).message


def test_spans_over_the_event_rate_get_429(api_client: Client, settings: Any) -> None:
    settings.VIGIL_INGEST_RATE_EVENTS = 1  # 10 events per 10 s window
    answer = post(api_client, body(11))
    assert answer.status_code == 429
    assert int(answer["Retry-After"]) >= 1


def test_accepted_in_process(api_client: Client) -> None:
    answer = post(api_client, body(3))
    assert answer.status_code == 200
    assert not ExportTraceServiceResponse.FromString(answer.content).HasField("partial_success")


def test_database_failure_is_503_for_the_exporter_to_retry(api_client: Client) -> None:
    # A real storage failure: the events table is gone (renamed inside this test's
    # transaction, which is rolled back afterwards).
    with connection.cursor() as cursor:
        cursor.execute('ALTER TABLE "alpha"."metrics_event" RENAME TO "metrics_event_gone"')
    answer = post(api_client, body())
    assert answer.status_code == 503
    assert answer["Retry-After"] == "5"
    assert "retry later" in Status.FromString(answer.content).message.lower()


def test_trace_read_api_returns_the_trace_whole(
    api_client: Client, other_tenant: Any, api_key_factory: Any, tenant: Any
) -> None:
    content = body(2)
    request = ExportTraceServiceRequest.FromString(content)
    trace_id = request.resource_spans[0].scope_spans[0].spans[0].trace_id.hex()
    assert post(api_client, content).status_code == 200

    answer = api_client.get(f"/api/v1/traces/{trace_id}")
    assert answer.status_code == 200
    data = answer.json()
    assert data["trace_id"] == trace_id and data["llm_calls"] == 1
    [item] = data["items"]
    assert item["kind"] == "llm" and item["model"] == "gpt-4o" and item["depth"] == 0
    assert item["event_id"] == f"otel-{trace_id}-{item['span_id']}"

    beta = Client(HTTP_AUTHORIZATION=f"Bearer {api_key_factory(other_tenant, ['read'])}")
    assert beta.get(f"/api/v1/traces/{trace_id}").status_code == 404
    ingest_only = Client(HTTP_AUTHORIZATION=f"Bearer {api_key_factory(tenant, ['ingest'])}")
    assert ingest_only.get(f"/api/v1/traces/{trace_id}").status_code == 403
    assert api_client.get("/api/v1/traces/not-a-trace-id").status_code == 404
    assert api_client.get(f"/api/v1/traces/{'0' * 32}").json()["error"] == "No such trace."


def test_an_export_larger_than_one_pipeline_batch(api_client: Client, tenant: Any) -> None:
    from django_tenants.utils import tenant_context

    from metrics.models import Event

    content = body(1500)
    request = ExportTraceServiceRequest.FromString(content)
    trace_ids = [span.trace_id.hex() for span in request.resource_spans[0].scope_spans[0].spans]
    answer = post(api_client, content)
    assert answer.status_code == 200
    assert not ExportTraceServiceResponse.FromString(answer.content).HasField("partial_success")
    with tenant_context(tenant):
        assert Event.objects.filter(trace_id__in=trace_ids).count() == 1500
