"""Read an ingest request body within limits, before anything parses it.

The declared Content-Length is checked before a byte is read; the body is
read with a hard cap; a gzip body is inflated incrementally with the same cap
on its decompressed size, so a small gzip bomb cannot exhaust memory.
"""

from __future__ import annotations

import zlib
from typing import Any

import msgspec
from django.http import HttpRequest

from core.exceptions import ApplicationError

MAX_BODY_BYTES = 5 * 1024 * 1024  # as sent, and again after decompression
MAX_EVENTS = 1000
_decoder = msgspec.json.Decoder()


class BodyError(ApplicationError):
    """A request body refused as a whole (400, 411, 413, 415)."""


def _inflate(data: bytes, encoding: str) -> bytes:
    if encoding in {"", "identity"}:
        return data
    if encoding not in {"gzip", "x-gzip", "deflate"}:
        raise BodyError(
            f"Unsupported Content-Encoding '{encoding}': send identity or gzip.", status_code=415
        )
    inflater = zlib.decompressobj(47)  # gzip or zlib header, auto-detected
    try:
        out = inflater.decompress(data, MAX_BODY_BYTES + 1)
    except zlib.error as exc:
        raise BodyError(f"The body is not valid {encoding} data ({exc}).") from exc
    if len(out) > MAX_BODY_BYTES or inflater.unconsumed_tail:
        raise BodyError(
            f"The decompressed body exceeds {MAX_BODY_BYTES} bytes; send smaller batches.",
            status_code=413,
        )
    if not inflater.eof:
        raise BodyError(f"The {encoding} body is truncated.")
    return out


def read_body(request: HttpRequest) -> bytes:
    """The (decompressed) body, or BodyError. Call before anything touches request.body."""
    content_type = (request.content_type or "").lower()
    if content_type and "json" not in content_type:
        raise BodyError(
            f"Unsupported Content-Type '{content_type}': send application/json.", status_code=415
        )
    declared = str(request.META.get("CONTENT_LENGTH") or "0").strip()
    if not declared.isdigit() or (declared == "0" and request.META.get("HTTP_TRANSFER_ENCODING")):
        raise BodyError("A valid Content-Length header is required.", status_code=411)
    if int(declared) > MAX_BODY_BYTES:
        raise BodyError(
            f"The body is {declared} bytes; at most {MAX_BODY_BYTES} are accepted. "
            "Send smaller batches.",
            status_code=413,
        )
    data = request.read(MAX_BODY_BYTES + 1)
    if len(data) > MAX_BODY_BYTES:
        raise BodyError(f"The body exceeds {MAX_BODY_BYTES} bytes.", status_code=413)
    return _inflate(data, str(request.headers.get("Content-Encoding", "")).strip().lower())


def parse_batch(body: bytes) -> list[Any]:
    """The `events` list of a batch body, or BodyError naming what is wrong."""
    if not body.strip():
        raise BodyError('The body is empty; send {"events": [...]}.')
    try:
        payload = _decoder.decode(body)
    except (msgspec.MsgspecError, RecursionError) as exc:
        raise BodyError(f"The body is not valid JSON: {exc}.") from exc
    if not isinstance(payload, dict) or "events" not in payload:
        raise BodyError('The body must be a JSON object {"events": [...]}.')
    events = payload["events"]
    if not isinstance(events, list):
        raise BodyError('"events" must be a list of event objects.')
    if not events:
        raise BodyError('"events" is empty; send at least one event.')
    if len(events) > MAX_EVENTS:
        raise BodyError(
            f"The batch has {len(events)} events; at most {MAX_EVENTS} are accepted per request.",
            status_code=413,
        )
    return events
