"""OTLP/HTTP bodies (protobuf, JSON, gzip) -> span dicts. No database."""

from __future__ import annotations

import gzip
import json
import zlib

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

from metrics.otel.decode import (
    MAX_BODY_BYTES,
    MAX_DECODED_BYTES,
    OtlpDecodeError,
    decode_traces,
)

TRACE = bytes.fromhex("0af7651916cd43dd8448eb211c80319c")
SPAN = bytes.fromhex("b7ad6b7169203331")


def kv(key: str, value: AnyValue) -> KeyValue:
    return KeyValue(key=key, value=value)


def request_with(*spans: Span) -> ExportTraceServiceRequest:
    resource_spans = ResourceSpans(
        scope_spans=[ScopeSpans(spans=list(spans))],
    )
    resource_spans.resource.attributes.append(kv("service.name", AnyValue(string_value="svc")))
    return ExportTraceServiceRequest(resource_spans=[resource_spans])


def a_span(**overrides: object) -> Span:
    fields: dict[str, object] = {
        "trace_id": TRACE,
        "span_id": SPAN,
        "name": "chat",
        "kind": Span.SPAN_KIND_CLIENT,
        "start_time_unix_nano": 1_780_000_000_000_000_000,
        "end_time_unix_nano": 1_780_000_001_000_000_000,
        "attributes": [
            kv("gen_ai.request.model", AnyValue(string_value="gpt-4o")),
            kv("gen_ai.usage.input_tokens", AnyValue(int_value=7)),
            kv("ratio", AnyValue(double_value=0.5)),
            kv("stream", AnyValue(bool_value=True)),
            kv("reasons", AnyValue(array_value=ArrayValue(values=[AnyValue(string_value="stop")]))),
            kv("raw", AnyValue(bytes_value=b"\x01\x02")),
        ],
        "status": Status(code=Status.STATUS_CODE_ERROR, message="boom"),
    }
    fields.update(overrides)
    return Span(**fields)  # type: ignore[arg-type]


def test_protobuf_body_decodes_every_field() -> None:
    body = request_with(a_span()).SerializeToString()
    decoded = decode_traces(body, content_type="application/x-protobuf")
    assert decoded.rejected == []
    [span] = decoded.spans
    assert span["trace_id"] == TRACE.hex() and span["span_id"] == SPAN.hex()
    assert span["parent_span_id"] == ""
    assert span["kind"] == "client"
    assert span["status_code"] == "error" and span["status_message"] == "boom"
    assert span["resource"] == {"service.name": "svc"}
    assert span["attributes"] == {
        "gen_ai.request.model": "gpt-4o",
        "gen_ai.usage.input_tokens": 7,
        "ratio": 0.5,
        "stream": True,
        "reasons": ["stop"],
        "raw": "0102",
    }


def test_gzip_and_deflate_bodies() -> None:
    body = request_with(a_span()).SerializeToString()
    for encoded, encoding in ((gzip.compress(body), "gzip"), (zlib.compress(body), "deflate")):
        decoded = decode_traces(
            encoded, content_type="application/x-protobuf", content_encoding=encoding
        )
        assert len(decoded.spans) == 1


def test_json_body_with_hex_ids_and_string_ints() -> None:
    payload = {
        "resourceSpans": [
            {
                "resource": {
                    "attributes": [{"key": "service.name", "value": {"stringValue": "svc"}}]
                },
                "scopeSpans": [
                    {
                        "scope": {"name": "manual"},
                        "spans": [
                            {
                                "traceId": TRACE.hex(),
                                "spanId": SPAN.hex(),
                                "parentSpanId": "00f067aa0ba902b7",
                                "name": "chat",
                                "kind": 3,
                                "startTimeUnixNano": "1780000000000000000",
                                "endTimeUnixNano": "1780000000500000000",
                                "attributes": [
                                    {
                                        "key": "gen_ai.usage.input_tokens",
                                        "value": {"intValue": "12"},
                                    }
                                ],
                                "status": {"code": 2},
                                "unknownField": "ignored",
                            }
                        ],
                    }
                ],
            }
        ]
    }
    decoded = decode_traces(
        json.dumps(payload).encode(), content_type="application/json; charset=utf-8"
    )
    [span] = decoded.spans
    assert span["trace_id"] == TRACE.hex()
    assert span["parent_span_id"] == "00f067aa0ba902b7"
    assert span["attributes"] == {"gen_ai.usage.input_tokens": 12}
    assert span["status_code"] == "error" and span["kind"] == "client"
    assert span["scope"]["name"] == "manual"


def test_spans_with_bad_ids_or_no_start_are_rejected_individually() -> None:
    body = request_with(
        a_span(),
        a_span(trace_id=b"\x00" * 16),
        a_span(span_id=b"\x01\x02"),
        a_span(start_time_unix_nano=0),
    ).SerializeToString()
    decoded = decode_traces(body, content_type="application/x-protobuf")
    assert len(decoded.spans) == 1
    reasons = [reason for _, reason in decoded.rejected]
    assert reasons == [
        "trace_id must be 16 non-zero bytes.",
        "span_id must be 8 non-zero bytes.",
        "start_time_unix_nano is required.",
    ]


def test_invalid_hex_id_in_json_rejects_that_span_only() -> None:
    payload = {
        "resourceSpans": [
            {
                "scopeSpans": [
                    {
                        "spans": [
                            {"traceId": "zz", "spanId": SPAN.hex(), "startTimeUnixNano": "1"},
                        ]
                    }
                ]
            }
        ]
    }
    decoded = decode_traces(json.dumps(payload).encode(), content_type="application/json")
    assert decoded.spans == [] and len(decoded.rejected) == 1


@pytest.mark.parametrize(
    ("body", "content_type", "encoding", "status"),
    [
        (b"\xff\xff\xff garbage", "application/x-protobuf", "", 400),
        (b"{not json", "application/json", "", 400),
        (b"[" * 100_000 + b"]" * 100_000, "application/json", "", 400),
        (
            b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"name": 5}]}]}]}',
            "application/json",
            "",
            400,
        ),
        (b'{"resourceSpans": [null]}', "application/json", "", 400),
        (b"[1, 2]", "application/json", "", 400),
        (b'{"resourceSpans": "nope"}', "application/json", "", 400),
        (b"x", "text/plain", "", 415),
        (b"x", "", "", 415),
        (b"x", "application/x-protobuf", "br", 415),
        (b"not gzip at all", "application/x-protobuf", "gzip", 400),
        (gzip.compress(b"x" * 100)[:-10], "application/x-protobuf", "gzip", 400),
    ],
)
def test_undecodable_bodies_raise_with_a_status(
    body: bytes, content_type: str, encoding: str, status: int
) -> None:
    with pytest.raises(OtlpDecodeError) as caught:
        decode_traces(body, content_type=content_type, content_encoding=encoding)
    assert caught.value.status == status
    assert caught.value.message


def test_size_limits_before_and_after_decompression() -> None:
    with pytest.raises(OtlpDecodeError) as too_big:
        decode_traces(b"\x00" * (MAX_BODY_BYTES + 1), content_type="application/x-protobuf")
    assert too_big.value.status == 413
    bomb = gzip.compress(b"\x00" * (MAX_DECODED_BYTES + 10))
    assert len(bomb) < MAX_BODY_BYTES
    with pytest.raises(OtlpDecodeError) as exploded:
        decode_traces(bomb, content_type="application/x-protobuf", content_encoding="gzip")
    assert exploded.value.status == 413


def test_empty_request_is_valid_and_empty() -> None:
    decoded = decode_traces(b"", content_type="application/x-protobuf")
    assert decoded.spans == [] and decoded.rejected == []
    decoded = decode_traces(b"{}", content_type="application/json")
    assert decoded.spans == []
