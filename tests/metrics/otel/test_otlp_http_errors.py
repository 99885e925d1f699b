"""Every answer of the OTLP endpoints, through a plain HTTP client (httpx) against the live server."""

from __future__ import annotations

import base64
import gzip
import json
import time
import uuid
from typing import Any

import httpx
import pytest
from google.rpc.status_pb2 import Status
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

from metrics.otel.decode import MAX_BODY_BYTES

from .conftest import LiveKey, events_where, spans_where, unique

pytestmark = pytest.mark.usefixtures("committed_db")
PROTOBUF = {"Content-Type": "application/x-protobuf"}


def attr(key: str, value: Any) -> KeyValue:
    if isinstance(value, bool):
        return KeyValue(key=key, value=AnyValue(bool_value=value))
    if isinstance(value, int):
        return KeyValue(key=key, value=AnyValue(int_value=value))
    return KeyValue(key=key, value=AnyValue(string_value=str(value)))


def llm_span(trace_id: bytes, *, model: str | None = "gpt-4o-mini", age_s: float = 1) -> Span:
    start = time.time_ns() - int(age_s * 1e9)
    attributes = [
        attr("gen_ai.operation.name", "chat"),
        attr("gen_ai.usage.input_tokens", 10),
        attr("gen_ai.usage.output_tokens", 2),
    ]
    if model:
        attributes.append(attr("gen_ai.request.model", model))
    return Span(
        trace_id=trace_id,
        span_id=uuid.uuid4().bytes[:8],
        name=f"chat {model}",
        start_time_unix_nano=start,
        end_time_unix_nano=start + 300_000_000,
        attributes=attributes,
    )


def body_of(*spans: Span, feature: str = "") -> ExportTraceServiceRequest:
    resource_spans = ResourceSpans(scope_spans=[ScopeSpans(spans=list(spans))])
    resource_spans.resource.attributes.append(attr("service.name", feature or unique("svc")))
    return ExportTraceServiceRequest(resource_spans=[resource_spans])


def post(url: str, key: str | None, content: bytes, **headers: str) -> httpx.Response:
    sent = dict(PROTOBUF)
    sent.update(headers)
    if key is not None:
        sent["Authorization"] = f"Bearer {key}"
    return httpx.post(f"{url}/api/otel/v1/traces", content=content, headers=sent, timeout=30)


def test_protobuf_success_answers_an_empty_export_response(
    live_server_url: str, alpha_key: LiveKey
) -> None:
    trace_id = uuid.uuid4().bytes
    response = post(live_server_url, alpha_key.raw, body_of(llm_span(trace_id)).SerializeToString())
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/x-protobuf"
    answer = ExportTraceServiceResponse.FromString(response.content)
    assert not answer.HasField("partial_success")
    assert len(events_where(alpha_key.tenant, trace_id=trace_id.hex())) == 1


def test_gzip_json_body_with_partial_success(live_server_url: str, alpha_key: LiveKey) -> None:
    trace_id = uuid.uuid4().hex
    start = time.time_ns() - 2_000_000_000
    span_base = {
        "traceId": trace_id,
        "startTimeUnixNano": str(start),
        "endTimeUnixNano": str(start + 10**8),
    }
    genai = [
        {"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}},
        {"key": "gen_ai.usage.input_tokens", "value": {"intValue": "5"}},
    ]
    payload = {
        "resourceSpans": [
            {
                "resource": {
                    "attributes": [{"key": "service.name", "value": {"stringValue": "json-svc"}}]
                },
                "scopeSpans": [
                    {
                        "spans": [
                            {
                                **span_base,
                                "spanId": "1111111111111111",
                                "name": "good",
                                "attributes": [
                                    *genai,
                                    {
                                        "key": "gen_ai.request.model",
                                        "value": {"stringValue": "gpt-4o"},
                                    },
                                ],
                            },
                            {
                                **span_base,
                                "spanId": "2222222222222222",
                                "name": "no model",
                                "attributes": genai,
                            },
                            {**span_base, "spanId": "33", "name": "bad id"},
                            {
                                **span_base,
                                "spanId": "4444444444444444",
                                "name": "GET /health",
                                "kind": 2,
                            },
                        ]
                    }
                ],
            }
        ]
    }
    response = post(
        live_server_url,
        alpha_key.raw,
        gzip.compress(json.dumps(payload).encode()),
        **{"Content-Type": "application/json", "Content-Encoding": "gzip"},
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    partial = response.json()["partialSuccess"]
    assert int(partial["rejectedSpans"]) == 2
    assert "2222222222222222 (no model): model:" in partial["errorMessage"]
    assert "span_id must be 8 non-zero bytes" in partial["errorMessage"]
    [event] = events_where(alpha_key.tenant, trace_id=trace_id)
    assert event.span_id == "1111111111111111" and event.model == "gpt-4o"
    [context] = spans_where(alpha_key.tenant, trace_id=trace_id)
    assert (context.name, context.kind) == ("GET /health", "server")


def test_out_of_range_timestamp_is_a_rejected_span(
    live_server_url: str, alpha_key: LiveKey
) -> None:
    trace_id = uuid.uuid4().bytes
    old = llm_span(trace_id, age_s=90 * 86400)
    response = post(live_server_url, alpha_key.raw, body_of(old).SerializeToString())
    answer = ExportTraceServiceResponse.FromString(response.content)
    assert response.status_code == 200
    assert answer.partial_success.rejected_spans == 1
    assert "timestamp" in answer.partial_success.error_message
    assert events_where(alpha_key.tenant, trace_id=trace_id.hex()) == []


@pytest.mark.parametrize(
    ("content", "headers", "status"),
    [
        (b"\xff\xff\xff not protobuf", {}, 400),
        (b"{broken json", {"Content-Type": "application/json"}, 400),
        (b"hello", {"Content-Type": "text/plain"}, 415),
        (b"x", {"Content-Encoding": "br"}, 415),
        (b"definitely not gzip", {"Content-Encoding": "gzip"}, 400),
    ],
)
def test_undecodable_bodies_get_a_status_message(
    live_server_url: str, alpha_key: LiveKey, content: bytes, headers: dict[str, str], status: int
) -> None:
    response = post(live_server_url, alpha_key.raw, content, **headers)
    assert response.status_code == status
    if response.headers["Content-Type"] == "application/x-protobuf":
        assert Status.FromString(response.content).message
    else:
        assert response.json()["message"]


def test_too_large_body_is_refused_before_parsing(live_server_url: str, alpha_key: LiveKey) -> None:
    response = post(live_server_url, alpha_key.raw, b"\x00" * (MAX_BODY_BYTES + 1))
    assert response.status_code == 413


def test_gzip_bomb_is_refused(live_server_url: str, alpha_key: LiveKey) -> None:
    bomb = gzip.compress(b"\x00" * (40 * 1024 * 1024))
    response = post(live_server_url, alpha_key.raw, bomb, **{"Content-Encoding": "gzip"})
    assert response.status_code == 413


def test_missing_unknown_and_wrong_scope_keys(
    live_server_url: str, alpha_read_key: LiveKey
) -> None:
    body = body_of(llm_span(uuid.uuid4().bytes)).SerializeToString()
    assert post(live_server_url, None, body).status_code == 401
    assert post(live_server_url, "vk_not-a-real-key", body).status_code == 401
    refused = post(live_server_url, alpha_read_key.raw, body)
    assert refused.status_code == 403
    assert "ingest" in Status.FromString(refused.content).message


def test_get_is_405(live_server_url: str, alpha_key: LiveKey) -> None:
    response = httpx.get(
        f"{live_server_url}/api/otel/v1/traces",
        headers={"Authorization": f"Bearer {alpha_key.raw}"},
    )
    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"


def test_alias_path_and_x_vigil_key_header(live_server_url: str, alpha_key: LiveKey) -> None:
    trace_id = uuid.uuid4().bytes
    response = httpx.post(
        f"{live_server_url}/api/v1/traces",
        content=body_of(llm_span(trace_id)).SerializeToString(),
        headers={**PROTOBUF, "X-Vigil-Key": alpha_key.raw},
    )
    assert response.status_code == 200
    assert len(events_where(alpha_key.tenant, trace_id=trace_id.hex())) == 1


def basic(public: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{public}:{secret}".encode()).decode()


def test_langfuse_path_checks_the_public_key(live_server_url: str, alpha_key: LiveKey) -> None:
    trace_id = uuid.uuid4().bytes
    body = body_of(llm_span(trace_id)).SerializeToString()
    url = f"{live_server_url}/api/public/otel/v1/traces"
    wrong = httpx.post(
        url, content=body, headers={**PROTOBUF, "Authorization": basic("pk-lf-x", alpha_key.raw)}
    )
    assert wrong.status_code == 401
    assert alpha_key.prefix in wrong.json()["error"]
    assert events_where(alpha_key.tenant, trace_id=trace_id.hex()) == []
    right = httpx.post(
        url,
        content=body,
        headers={**PROTOBUF, "Authorization": basic(alpha_key.prefix, alpha_key.raw)},
    )
    assert right.status_code == 200
    assert len(events_where(alpha_key.tenant, trace_id=trace_id.hex())) == 1


def test_langfuse_projects_shows_only_the_keys_tenant(
    live_server_url: str, alpha_key: LiveKey, beta_key: LiveKey
) -> None:
    for key in (alpha_key, beta_key):
        response = httpx.get(
            f"{live_server_url}/api/public/projects",
            headers={"Authorization": basic(key.prefix, key.raw)},
        )
        assert response.status_code == 200
        assert [project["id"] for project in response.json()["data"]] == [key.tenant.schema_name]


def test_same_body_from_beta_lands_in_beta_only(
    live_server_url: str, alpha_key: LiveKey, beta_key: LiveKey
) -> None:
    trace_id = uuid.uuid4().bytes
    body = body_of(llm_span(trace_id)).SerializeToString()
    assert post(live_server_url, beta_key.raw, body).status_code == 200
    assert events_where(alpha_key.tenant, trace_id=trace_id.hex()) == []
    assert len(events_where(beta_key.tenant, trace_id=trace_id.hex())) == 1
    # And alpha sending the very same span ids stores its own copy, not a "duplicate".
    assert post(live_server_url, alpha_key.raw, body).status_code == 200
    assert len(events_where(alpha_key.tenant, trace_id=trace_id.hex())) == 1
