"""OTLP/HTTP trace bodies -> plain span dicts.

Accepts `application/x-protobuf` and `application/json` (the OTLP JSON mapping,
where trace and span ids are hex strings, not base64), each optionally
`Content-Encoding: gzip` or `deflate`. Limits are enforced before and while
decompressing so a small compressed bomb cannot exhaust memory.
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

MAX_BODY_BYTES = 5 * 1024 * 1024  # as sent (maybe compressed)
MAX_DECODED_BYTES = 32 * 1024 * 1024  # after decompression
PROTOBUF = "application/x-protobuf"
JSON = "application/json"
SPAN_KINDS = {
    0: "unspecified",
    1: "internal",
    2: "server",
    3: "client",
    4: "producer",
    5: "consumer",
}
STATUS_CODES = {0: "unset", 1: "ok", 2: "error"}
MAX_ATTRIBUTE_DEPTH = 8


class OtlpDecodeError(Exception):
    """The body as a whole cannot be used; `status` is the HTTP answer (400, 413, 415)."""

    def __init__(self, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass
class DecodedTraces:
    spans: list[dict[str, Any]] = field(default_factory=list)
    # Spans that cannot be used at all (bad ids, no start time): (span label, why).
    rejected: list[tuple[str, str]] = field(default_factory=list)


def media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def decompress(body: bytes, encoding: str) -> bytes:
    encoding = encoding.strip().lower()
    if encoding in {"", "identity"}:
        return body
    if encoding not in {"gzip", "deflate", "x-gzip"}:
        raise OtlpDecodeError(f"Unsupported Content-Encoding '{encoding}': use gzip.", status=415)
    # wbits 47 = auto-detect zlib or gzip header; raw deflate falls back to -15.
    for wbits in (47, -15):
        decompressor = zlib.decompressobj(wbits)
        try:
            data = decompressor.decompress(body, MAX_DECODED_BYTES + 1)
        except zlib.error:
            continue
        if len(data) > MAX_DECODED_BYTES or decompressor.unconsumed_tail:
            raise OtlpDecodeError(
                f"Body exceeds {MAX_DECODED_BYTES} bytes once decompressed.", status=413
            )
        if not decompressor.eof:
            raise OtlpDecodeError(f"Truncated {encoding} body.")
        return data
    raise OtlpDecodeError(f"Body is not valid {encoding} data.")


def _hex_to_base64(value: Any) -> str:
    if not isinstance(value, str):
        return ""
    try:
        return base64.b64encode(bytes.fromhex(value)).decode()
    except ValueError:
        return ""


def _json_ids_to_base64(payload: dict[str, Any]) -> None:
    """The OTLP JSON mapping writes ids as hex; protobuf's JSON parser expects base64."""
    for resource_spans in payload.get("resourceSpans") or payload.get("resource_spans") or []:
        if not isinstance(resource_spans, dict):
            continue
        for scope_spans in (
            resource_spans.get("scopeSpans") or resource_spans.get("scope_spans") or []
        ):
            if not isinstance(scope_spans, dict):
                continue
            for span in scope_spans.get("spans") or []:
                if not isinstance(span, dict):
                    continue
                for key in (
                    "traceId",
                    "spanId",
                    "parentSpanId",
                    "trace_id",
                    "span_id",
                    "parent_span_id",
                ):
                    if key in span:
                        span[key] = _hex_to_base64(span[key])
                for link in span.get("links") or []:
                    if isinstance(link, dict):
                        for key in ("traceId", "spanId", "trace_id", "span_id"):
                            if key in link:
                                link[key] = _hex_to_base64(link[key])


def parse_request(body: bytes, *, content_type: str) -> ExportTraceServiceRequest:
    kind = media_type(content_type)
    request = ExportTraceServiceRequest()
    if kind == PROTOBUF:
        try:
            request.ParseFromString(body)
        except (DecodeError, RuntimeError, ValueError) as exc:
            raise OtlpDecodeError(f"Body is not a valid OTLP protobuf message: {exc}") from exc
        return request
    if kind == JSON:
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            raise OtlpDecodeError(f"Body is not valid JSON: {exc}") from exc
        if not isinstance(payload, dict):
            raise OtlpDecodeError("Body must be a JSON object with 'resourceSpans'.")
        _json_ids_to_base64(payload)
        try:
            json_format.ParseDict(payload, request, ignore_unknown_fields=True)
        except (json_format.ParseError, ValueError, TypeError, RecursionError) as exc:
            raise OtlpDecodeError(f"Body is not a valid OTLP JSON message: {exc}") from exc
        return request
    raise OtlpDecodeError(
        f"Unsupported Content-Type '{kind or '(none)'}': send {PROTOBUF} or {JSON}.", status=415
    )


def any_value(value: AnyValue, depth: int = 0) -> Any:
    which = value.WhichOneof("value")
    if which is None or depth > MAX_ATTRIBUTE_DEPTH:
        return None
    if which == "array_value":
        return [any_value(item, depth + 1) for item in value.array_value.values]
    if which == "kvlist_value":
        return {kv.key: any_value(kv.value, depth + 1) for kv in value.kvlist_value.values}
    if which == "bytes_value":
        return binascii.hexlify(value.bytes_value).decode()
    return getattr(value, which)


def attributes_dict(key_values: Any) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for kv in key_values:
        if isinstance(kv, KeyValue) and kv.key:
            result[kv.key] = any_value(kv.value)
    return result


def _label(trace_id: bytes, span_id: bytes, name: str) -> str:
    return f"{trace_id.hex() or '?'}/{span_id.hex() or '?'} ({name[:64]})"


def spans_of(request: ExportTraceServiceRequest) -> DecodedTraces:
    decoded = DecodedTraces()
    for resource_spans in request.resource_spans:
        resource = attributes_dict(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            scope = {"name": scope_spans.scope.name, "version": scope_spans.scope.version}
            for span in scope_spans.spans:
                label = _label(span.trace_id, span.span_id, span.name)
                if len(span.trace_id) != 16 or not any(span.trace_id):
                    decoded.rejected.append((label, "trace_id must be 16 non-zero bytes."))
                    continue
                if len(span.span_id) != 8 or not any(span.span_id):
                    decoded.rejected.append((label, "span_id must be 8 non-zero bytes."))
                    continue
                if span.start_time_unix_nano == 0:
                    decoded.rejected.append((label, "start_time_unix_nano is required."))
                    continue
                decoded.spans.append(
                    {
                        "trace_id": span.trace_id.hex(),
                        "span_id": span.span_id.hex(),
                        "parent_span_id": span.parent_span_id.hex()
                        if len(span.parent_span_id) == 8
                        else "",
                        "name": span.name,
                        "kind": SPAN_KINDS.get(span.kind, "unspecified"),
                        "start_time_unix_nano": span.start_time_unix_nano,
                        "end_time_unix_nano": span.end_time_unix_nano,
                        "status_code": STATUS_CODES.get(span.status.code, "unset"),
                        "status_message": span.status.message,
                        "attributes": attributes_dict(span.attributes),
                        "resource": resource,
                        "scope": scope,
                        "events": [
                            {
                                "name": event.name,
                                "time_unix_nano": event.time_unix_nano,
                                "attributes": attributes_dict(event.attributes),
                            }
                            for event in span.events
                        ],
                    }
                )
    return decoded


def decode_traces(body: bytes, *, content_type: str, content_encoding: str = "") -> DecodedTraces:
    if len(body) > MAX_BODY_BYTES:
        raise OtlpDecodeError(f"Body exceeds {MAX_BODY_BYTES} bytes.", status=413)
    raw = decompress(body, content_encoding)
    return spans_of(parse_request(raw, content_type=content_type))
