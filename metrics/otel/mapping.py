"""One span (a plain dict, see `decode.span_dict`) -> an event dict or a trace-span dict.

A span is an LLM call when it says so in one of three dialects:
- OpenTelemetry GenAI semantic conventions (`gen_ai.*`, also OpenLLMetry),
- OpenInference (`openinference.span.kind` = LLM/EMBEDDING, `llm.*`),
- the Langfuse SDK (`langfuse.observation.type` = generation/embedding).
Such a span becomes an event in the schema of DESIGN.md "The event"; every other
span is kept as trace context. The attribute table lives in docs/otel.md.
"""

from __future__ import annotations

from typing import Any

import msgspec

from metrics.otel.attrs import (
    Attrs,
    as_bool,
    as_float,
    as_int,
    as_str,
    content_text,
    first,
    indexed_messages,
    iso_to_datetime,
    nanos_to_datetime,
    prefixed,
)
from metrics.otel.usage import seconds_to_ms, span_usage
from metrics.redaction import redact_content

_encode = msgspec.json.Encoder(enc_hook=str).encode

EVENT_ID_PREFIX = "otel"
CONTENT_MAX_CHARS = 64_000
SPAN_ATTRIBUTES_MAX = 64
SPAN_ATTRIBUTE_VALUE_MAX = 1_000
# The ingest pipeline refuses event attributes over 16 KiB as JSON: stay well inside.
EVENT_ATTRIBUTES_BUDGET = 12_000
EVENT_ATTRIBUTE_VALUE_MAX = 256

LANGFUSE_LLM_TYPES = {"generation", "embedding"}
OPENINFERENCE_LLM_KINDS = {"LLM", "EMBEDDING"}
GENAI_LLM_OPERATIONS = {
    "chat",
    "text_completion",
    "completion",
    "generate_content",
    "embeddings",
    "embedding",
}
MODEL_KEYS = (
    "gen_ai.request.model",
    "llm.model_name",
    "embedding.model_name",
    "langfuse.observation.model.name",
    "gen_ai.response.model",
    "llm.request.model",
)
RESPONSE_MODEL_KEYS = ("gen_ai.response.model", "llm.response.model")
PROVIDER_KEYS = ("gen_ai.provider.name", "gen_ai.system", "llm.provider", "llm.system")
INPUT_KEYS = ("gen_ai.input.messages", "input.value", "langfuse.observation.input", "gen_ai.prompt")
OUTPUT_KEYS = (
    "gen_ai.output.messages",
    "output.value",
    "langfuse.observation.output",
    "gen_ai.completion",
)
FIRST_TOKEN_EVENTS = {"gen_ai.content.completion.chunk", "first token stream event", "first_token"}
# Keys whose content is the prompt/answer: never copied into `attributes` or span context.
CONTENT_KEY_MARKERS = (
    "gen_ai.input.messages",
    "gen_ai.output.messages",
    "gen_ai.prompt",
    "gen_ai.completion",
    "input.value",
    "output.value",
    "llm.input_messages",
    "llm.output_messages",
    "langfuse.observation.input",
    "langfuse.observation.output",
    "gen_ai.system_instructions",
)
# Event fields a user may set directly as `vigil.<field>` (span first, then resource),
# or as Langfuse metadata (`langfuse.observation.metadata.<field>`, then trace metadata).
LABEL_FIELDS = ("feature", "endpoint", "query_type", "customer", "content_category")
VIGIL_DIRECT_FIELDS = (
    *LABEL_FIELDS,
    "environment",
    "release",
    "user_id",
    "session_id",
    "fallback_from",
    "error_type",
)


def event_id_for(trace_id: str, span_id: str) -> str:
    """Deterministic: a re-exported span maps to the same event and never counts twice."""
    return f"{EVENT_ID_PREFIX}-{trace_id.lower()}-{span_id.lower()}"


def llm_dialect(attrs: Attrs) -> str | None:
    """'langfuse' | 'openinference' | 'genai' when the span is one LLM call, else None."""
    if str(attrs.get("vigil.kind", "")).lower() == "llm":
        return "genai"
    observation_type = attrs.get("langfuse.observation.type")
    if observation_type is not None:
        return "langfuse" if str(observation_type).lower() in LANGFUSE_LLM_TYPES else None
    span_kind = attrs.get("openinference.span.kind")
    if span_kind is not None:
        return "openinference" if str(span_kind).upper() in OPENINFERENCE_LLM_KINDS else None
    operation = attrs.get("gen_ai.operation.name") or attrs.get("llm.request.type")
    if operation is not None:
        return "genai" if str(operation).lower() in GENAI_LLM_OPERATIONS else None
    has_model = first(attrs, ("gen_ai.request.model", "gen_ai.response.model")) is not None
    has_usage = (
        first(attrs, ("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens")) is not None
    )
    return "genai" if has_model and has_usage else None


def _label(span_attrs: Attrs, resource: Attrs, metadata: dict[str, Any], field: str) -> Any:
    key = f"vigil.{field}"
    return first(span_attrs, (key,)) or first(resource, (key,)) or metadata.get(field)


def _langfuse_metadata(attrs: Attrs) -> dict[str, Any]:
    metadata = prefixed(attrs, "langfuse.trace.metadata")
    metadata.update(prefixed(attrs, "langfuse.observation.metadata"))
    return metadata


def _environment(attrs: Attrs, resource: Attrs, metadata: dict[str, Any]) -> str | None:
    direct = _label(attrs, resource, metadata, "environment")
    if direct:
        return as_str(direct)
    keys = ("deployment.environment.name", "deployment.environment")
    value = first(attrs, keys) or first(resource, keys)
    if value:
        return as_str(value)
    langfuse_env = as_str(
        first(attrs, ("langfuse.environment",)) or resource.get("langfuse.environment")
    )
    return langfuse_env if langfuse_env and langfuse_env != "default" else None


def _release(attrs: Attrs, resource: Attrs, metadata: dict[str, Any]) -> str | None:
    value = (
        _label(attrs, resource, metadata, "release")
        or first(attrs, ("langfuse.release", "langfuse.version", "service.version"))
        or first(resource, ("langfuse.release", "service.version"))
    )
    return as_str(value)


def _feature(attrs: Attrs, resource: Attrs, metadata: dict[str, Any]) -> str | None:
    value = (
        _label(attrs, resource, metadata, "feature")
        or first(attrs, ("langfuse.trace.name",))
        or first(resource, ("service.name",))
    )
    return as_str(value)


def _status(span: dict[str, Any], attrs: Attrs) -> tuple[str, str]:
    explicit = as_str(attrs.get("vigil.status"))
    if explicit in {"ok", "error", "timeout", "rate_limited", "cancelled"}:
        return explicit, as_str(attrs.get("vigil.error_type")) or ""
    error_type = as_str(first(attrs, ("error.type", "exception.type")), max_length=128) or ""
    http_status = as_int(first(attrs, ("http.response.status_code", "http.status_code")))
    is_error = (
        span.get("status_code") == "error"
        or str(attrs.get("langfuse.observation.level", "")).upper() == "ERROR"
        or bool(error_type)
        or (http_status is not None and http_status >= 400)
    )
    if not is_error:
        return "ok", ""
    if not error_type:
        for span_event in span.get("events") or []:
            if span_event.get("name") == "exception":
                error_type = as_str(span_event.get("attributes", {}).get("exception.type")) or ""
                break
    message = " ".join(
        part
        for part in (
            error_type,
            str(span.get("status_message") or ""),
            str(attrs.get("langfuse.observation.status_message") or ""),
        )
        if part
    ).lower()
    squashed = message.replace("_", "").replace(" ", "").replace("-", "")
    if http_status in {408, 504} or "timeout" in squashed or "timedout" in squashed:
        status = "timeout"
    elif http_status == 429 or "ratelimit" in squashed or "toomanyrequests" in squashed:
        status = "rate_limited"
    elif "cancel" in squashed:
        status = "cancelled"
    else:
        status = "error"
    return status, error_type[:128]


def _time_to_first_token_ms(span: dict[str, Any], attrs: Attrs) -> float | None:
    direct = as_float(attrs.get("vigil.time_to_first_token_ms"))
    if direct is not None:
        return direct
    seconds = first(
        attrs, ("gen_ai.server.time_to_first_token", "gen_ai.response.time_to_first_chunk")
    )
    if seconds is not None:
        return seconds_to_ms(seconds)
    start_ns = int(span["start_time_unix_nano"])
    completion_start = iso_to_datetime(attrs.get("langfuse.observation.completion_start_time"))
    if completion_start is not None:
        delta = (completion_start - nanos_to_datetime(start_ns)).total_seconds() * 1000.0
        return delta if delta >= 0 else None
    for span_event in span.get("events") or []:
        if str(span_event.get("name", "")).lower() in FIRST_TOKEN_EVENTS:
            delta_ns = int(span_event.get("time_unix_nano") or 0) - start_ns
            return delta_ns / 1_000_000 if delta_ns >= 0 else None
    return None


def _content(attrs: Attrs, keys: tuple[str, ...], indexed_prefix: str) -> str | None:
    value = first(attrs, keys)
    if value is None:
        messages = indexed_messages(attrs, indexed_prefix)
        value = messages or None
    return content_text(value, max_length=CONTENT_MAX_CHARS)


def is_content_key(key: str) -> bool:
    return key.startswith(CONTENT_KEY_MARKERS)


def bounded_attributes(
    attrs: Attrs,
    *,
    skip_prefixes: tuple[str, ...] = (),
    value_max: int = SPAN_ATTRIBUTE_VALUE_MAX,
    budget: int | None = None,
) -> dict[str, Any]:
    """Up to SPAN_ATTRIBUTES_MAX non-content attributes, long values cut, PII redacted.

    Free attributes are stored for every span, not only sampled ones, so string values
    pass the same redaction as event content (e-mails, cards, phones, IBANs, secrets).

    With `budget`, attributes stop once their JSON size would pass that many bytes.
    """
    kept: dict[str, Any] = {}
    used = 2
    for key in sorted(attrs):
        if len(kept) >= SPAN_ATTRIBUTES_MAX:
            break
        if is_content_key(key) or key.startswith(skip_prefixes):
            continue
        value = attrs[key]
        if isinstance(value, list | dict):
            value = as_str(value, max_length=value_max)
        if isinstance(value, str):
            value = redact_content(value[:value_max])
        if budget is not None:
            size = len(_encode(key[:128])) + len(_encode(value)) + 2  # "key":value,
            if used + size > budget:
                break
            used += size
        kept[key[:128]] = value
    return kept


def span_to_event(span: dict[str, Any]) -> dict[str, Any]:
    """The event for an LLM span (call only when `llm_dialect` says it is one).

    Missing required values are left out, not invented: the ingest pipeline then
    rejects the event naming the field, and the OTLP answer reports the span.
    """
    attrs: Attrs = span.get("attributes") or {}
    resource: Attrs = span.get("resource") or {}
    metadata = _langfuse_metadata(attrs)
    start_ns = int(span["start_time_unix_nano"])
    end_ns = int(span.get("end_time_unix_nano") or 0)
    status, error_type = _status(span, attrs)
    event: dict[str, Any] = {
        "event_id": event_id_for(span["trace_id"], span["span_id"]),
        "timestamp": nanos_to_datetime(start_ns).isoformat(),
        "feature": _feature(attrs, resource, metadata),
        "model": as_str(first(attrs, MODEL_KEYS), max_length=128),
        "response_model": as_str(first(attrs, RESPONSE_MODEL_KEYS), max_length=128),
        "provider": as_str(first(attrs, PROVIDER_KEYS), max_length=64),
        "latency_ms": (end_ns - start_ns) / 1_000_000 if end_ns >= start_ns > 0 else None,
        "time_to_first_token_ms": _time_to_first_token_ms(span, attrs),
        "status": status,
        "error_type": error_type or None,
        "trace_id": span["trace_id"],
        "span_id": span["span_id"],
        "parent_span_id": span.get("parent_span_id") or None,
        "environment": _environment(attrs, resource, metadata),
        "release": _release(attrs, resource, metadata),
        "customer": as_str(
            _label(attrs, resource, metadata, "customer")
            or first(attrs, ("tenant.id",))
            or first(resource, ("tenant.id",))
        ),
        "user_id": as_str(
            _label(attrs, resource, metadata, "user_id")
            or first(attrs, ("user.id", "langfuse.user.id", "enduser.id", "gen_ai.user"))
        ),
        "session_id": as_str(
            _label(attrs, resource, metadata, "session_id")
            or first(attrs, ("session.id", "langfuse.session.id", "gen_ai.conversation.id"))
        ),
        "input": _content(attrs, INPUT_KEYS, "gen_ai.prompt"),
        "output": _content(attrs, OUTPUT_KEYS, "gen_ai.completion"),
        **span_usage(attrs).as_event_fields(),
    }
    for field in ("endpoint", "query_type", "content_category", "fallback_from"):
        event[field] = as_str(_label(attrs, resource, metadata, field))
    retries = as_int(first(attrs, ("vigil.retries",)))
    if retries is not None:
        event["retries"] = retries
    for flag in ("fallback_used", "refused"):
        value = as_bool(attrs.get(f"vigil.{flag}"))
        if value is not None:
            event[flag] = value
    origin = {
        "otel.span_name": as_str(span.get("name"), max_length=256),
        "otel.scope": as_str((span.get("scope") or {}).get("name"), max_length=256),
        "service.name": as_str(resource.get("service.name"), max_length=128),
    }
    event["attributes"] = {
        **{key: value for key, value in origin.items() if value is not None},
        **bounded_attributes(
            attrs,
            skip_prefixes=("vigil.", "langfuse.internal."),
            value_max=EVENT_ATTRIBUTE_VALUE_MAX,
            budget=EVENT_ATTRIBUTES_BUDGET,
        ),
    }
    return {key: value for key, value in event.items() if value is not None}


def span_to_context(span: dict[str, Any]) -> dict[str, Any]:
    """A non-LLM span as trace context (the fields of metrics.TraceSpan)."""
    attrs: Attrs = span.get("attributes") or {}
    resource: Attrs = span.get("resource") or {}
    start_ns = int(span["start_time_unix_nano"])
    end_ns = int(span.get("end_time_unix_nano") or 0)
    return {
        "trace_id": span["trace_id"],
        "span_id": span["span_id"],
        "parent_span_id": span.get("parent_span_id") or "",
        "name": (as_str(span.get("name")) or "")[:256],
        "kind": str(span.get("kind") or "")[:16],
        "service_name": (as_str(resource.get("service.name")) or "")[:128],
        "start": nanos_to_datetime(start_ns),
        "end": nanos_to_datetime(end_ns) if end_ns >= start_ns else None,
        "duration_ms": (end_ns - start_ns) / 1_000_000 if end_ns >= start_ns else None,
        "status": str(span.get("status_code") or "unset")[:16],
        "status_message": str(span.get("status_message") or "")[:512],
        "attributes": bounded_attributes(attrs),
    }
