"""The one validator of incoming events (REST batches, OTLP spans, the Python client).

Hand-written rather than DRF serializers: it runs for every event on the hot
path, collects every error of an event (not just the first), and turns a raw
dict into the column values of metrics.Event. Limits are documented in
docs/api.md ("Validation"); change both together.

Conventions: `null` means "not given" for optional fields; unknown top-level
fields are kept in `attributes`; naive ISO timestamps are UTC; numeric epoch
timestamps may be seconds, milliseconds, microseconds or nanoseconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec

from metrics.models import EventStatus

MAX_PAST = timedelta(days=30)
MAX_FUTURE = timedelta(minutes=15)
MAX_TOKENS = 100_000_000  # per call
MAX_LATENCY_MS = 86_400_000.0  # one day
MAX_RETRIES = 1_000
MAX_COST_USD = Decimal(100_000)
MAX_CONTENT_CHARS = 32_000  # input/output are cut (not refused) beyond this
MAX_ATTRIBUTES_BYTES = 16_384
MAX_ATTRIBUTES_KEYS = 128
MAX_LIST_ITEMS = 100  # policy_violations, scores, retrieval
MAX_LIST_BYTES = 32_768  # policy_violations, scores, retrieval (each, as JSON)
SEVERITIES = ("low", "medium", "high", "critical")
NUL_MESSAGE = "must not contain NUL (\\u0000) characters."
JSON_FIELDS = ("policy_violations", "scores", "retrieval", "attributes")

REQUIRED = ("event_id", "timestamp", "feature", "model")
# Optional string fields and their maximum length (the Event column sizes).
STRINGS: dict[str, int] = {
    "endpoint": 256,
    "query_type": 128,
    "customer": 128,
    "user_id": 128,
    "session_id": 128,
    "environment": 64,
    "release": 128,
    "content_category": 128,
    "trace_id": 64,
    "span_id": 32,
    "parent_span_id": 32,
    "provider": 64,
    "response_model": 128,
    "error_type": 128,
    "fallback_from": 128,
}
INTEGERS: dict[str, int] = {
    "input_tokens": MAX_TOKENS,
    "output_tokens": MAX_TOKENS,
    "cached_input_tokens": MAX_TOKENS,
    "reasoning_tokens": MAX_TOKENS,
    "retries": MAX_RETRIES,
}
FLOATS = ("latency_ms", "time_to_first_token_ms")
BOOLEANS = ("fallback_used", "refused")
STATUSES = frozenset(EventStatus.values)
SPECIAL = frozenset(
    {
        *REQUIRED,
        "cost_usd",
        "status",
        "start_time",
        "end_time",
        "policy_violations",
        "scores",
        "retrieval",
        "input",
        "output",
        "attributes",
    }
)
KNOWN = SPECIAL | set(STRINGS) | set(INTEGERS) | set(FLOATS) | set(BOOLEANS)
_encode = msgspec.json.Encoder().encode


@dataclass
class Checked:
    """A validated event: Event column values (`row`) or the errors (field -> why)."""

    event_id: str | None
    row: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    content_truncated: bool = False
    json: dict[str, str] = field(default_factory=dict)  # JSON columns, already encoded


def _string(value: Any, name: str, limit: int, errors: dict[str, str]) -> str | None:
    if not isinstance(value, str):
        errors[name] = f"must be a string, got {type(value).__name__}."
        return None
    if len(value) > limit:
        errors[name] = f"is {len(value)} characters long; at most {limit} are allowed."
        return None
    if "\x00" in value:
        errors[name] = NUL_MESSAGE
        return None
    return value


def _integer(value: Any, name: str, limit: int, errors: dict[str, str]) -> int | None:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        errors[name] = "must be a whole number."
        return None
    if not 0 <= value <= limit:
        errors[name] = f"must be between 0 and {limit}, got {value}."
        return None
    return value


def _number(value: Any, name: str, limit: float, errors: dict[str, str]) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        errors[name] = "must be a number."
        return None
    if not 0 <= value <= limit:
        errors[name] = f"must be between 0 and {limit:g}, got {value:g}."
        return None
    return float(value)


def parse_time(value: Any) -> datetime | None:
    """An aware UTC datetime from ISO 8601 or an epoch number, or None if unreadable."""
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
            return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
        except (ValueError, OverflowError):  # "0001-01-01T00:00+05:00" overflows in UTC
            return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    seconds = float(value)
    for scale in (1e9, 1e6, 1e3):  # ns, us, ms
        if abs(seconds) >= scale * 1e8:
            seconds /= scale
            break
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _time(value: Any, name: str, now: datetime, errors: dict[str, str]) -> datetime | None:
    moment = parse_time(value)
    if moment is None:
        errors[name] = "must be an ISO 8601 date-time or a Unix epoch number."
    elif moment < now - MAX_PAST:
        errors[name] = f"is more than {MAX_PAST.days} days in the past."
    elif moment > now + MAX_FUTURE:
        minutes = int(MAX_FUTURE.total_seconds() // 60)
        errors[name] = f"is more than {minutes} minutes in the future."
    else:
        return moment
    return None


def _cost(value: Any, errors: dict[str, str]) -> Decimal | None:
    try:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise TypeError
        cost = Decimal(repr(value) if isinstance(value, float) else value)
    except (TypeError, InvalidOperation):
        errors["cost_usd"] = "must be a number (or a decimal string) of US dollars."
        return None
    if not cost.is_finite() or not 0 <= cost <= MAX_COST_USD:
        errors["cost_usd"] = f"must be between 0 and {MAX_COST_USD} US dollars."
        return None
    return cost.quantize(Decimal("0.0000000001"))


def _object_list(
    value: Any, name: str, keys: dict[str, str], errors: dict[str, str]
) -> list[dict[str, Any]] | None:
    """A list of objects; `keys` maps each known key to 'str!' (required), 'str', 'num!'."""
    if not isinstance(value, list):
        errors[name] = "must be a list of objects."
        return None
    if len(value) > MAX_LIST_ITEMS:
        errors[name] = f"has {len(value)} items; at most {MAX_LIST_ITEMS} are allowed."
        return None
    clean: list[dict[str, Any]] = []
    for index, item in enumerate(value):
        where = f"{name}[{index}]"
        if not isinstance(item, dict):
            errors[where] = "must be an object."
            continue
        for key, kind in keys.items():
            got = item.get(key)
            if got is None:
                if kind.endswith("!"):
                    errors[f"{where}.{key}"] = "is required."
            elif kind.startswith("str") and (not isinstance(got, str) or not 0 < len(got) <= 128):
                errors[f"{where}.{key}"] = "must be a non-empty string of at most 128 characters."
            elif kind.startswith("num") and (
                isinstance(got, bool) or not isinstance(got, int | float) or not math.isfinite(got)
            ):
                errors[f"{where}.{key}"] = "must be a number."
        clean.append(item)
    return clean


def _content(value: Any, name: str, checked: Checked) -> str:
    if isinstance(value, list | dict):  # chat messages: kept as their JSON text
        value = _encode(value).decode()
    if not isinstance(value, str):
        checked.errors[name] = "must be a string (or a list of chat messages)."
        return ""
    if "\x00" in value:
        value = value.replace("\x00", "")
    if len(value) > MAX_CONTENT_CHARS:
        checked.content_truncated = True
        return value[:MAX_CONTENT_CHARS]
    return value


def _check_lists(raw: dict[str, Any], row: dict[str, Any], errors: dict[str, str]) -> None:
    violations = raw.get("policy_violations")
    if violations is not None:
        clean = _object_list(
            violations,
            "policy_violations",
            {"policy": "str!", "severity": "str", "action": "str"},
            errors,
        )
        for index, item in enumerate(clean or ()):
            severity = item.get("severity")
            if isinstance(severity, str) and severity.lower() not in SEVERITIES:
                errors[f"policy_violations[{index}].severity"] = (
                    f"must be one of {', '.join(SEVERITIES)}."
                )
        row["policy_violations"] = clean or []
    scores = raw.get("scores")
    if scores is not None:
        row["scores"] = _object_list(scores, "scores", {"name": "str!", "value": "num!"}, errors)
    retrieval = raw.get("retrieval")
    if retrieval is not None:
        row["retrieval"] = _object_list(
            retrieval, "retrieval", {"id": "str", "score": "num"}, errors
        )


def _check_attributes(raw: dict[str, Any], row: dict[str, Any], errors: dict[str, str]) -> None:
    attributes = raw.get("attributes")
    if attributes is None:
        attributes = {}
    elif not isinstance(attributes, dict):
        errors["attributes"] = "must be an object."
        return
    unknown = {key: value for key, value in raw.items() if key not in KNOWN}
    if unknown:
        attributes = {**unknown, **attributes}
    if len(attributes) > MAX_ATTRIBUTES_KEYS:
        errors["attributes"] = f"has {len(attributes)} keys; at most {MAX_ATTRIBUTES_KEYS}."
    row["attributes"] = attributes
    if unknown:
        row["_unknown_fields"] = len(unknown)


def _encode_json(row: dict[str, Any], checked: Checked) -> None:
    """Encode the JSON columns once: size and NUL checks here, the COPY reuses the text."""
    errors = checked.errors
    unknown = row.pop("_unknown_fields", 0)
    for name in JSON_FIELDS:
        value = row.get(name)
        if not value or name in errors:
            continue
        text = _encode(value).decode()
        limit = MAX_ATTRIBUTES_BYTES if name == "attributes" else MAX_LIST_BYTES
        if len(text) > limit:
            extra = ""
            if name == "attributes" and unknown:
                extra = f" (including {unknown} unknown top-level fields)"
            errors[name] = f"is larger than {limit} bytes as JSON{extra}."
        elif "\\u0000" in text:
            errors[name] = NUL_MESSAGE
        else:
            checked.json[name] = text


# Simple optional fields: kind (0 string, 1 whole number, 2 number, 3 boolean) and limit.
_SIMPLE: dict[str, tuple[int, float]] = {
    **{name: (0, limit) for name, limit in STRINGS.items()},
    **{name: (1, limit) for name, limit in INTEGERS.items()},
    **dict.fromkeys(FLOATS, (2, MAX_LATENCY_MS)),
    **dict.fromkeys(BOOLEANS, (3, 0)),
}


def _check_simple(raw: dict[str, Any], row: dict[str, Any], errors: dict[str, str]) -> None:
    """One pass over the event's keys; exact-type fast paths, the helpers explain failures."""
    for name, value in raw.items():
        spec = _SIMPLE.get(name)
        if spec is None or value is None:
            continue
        kind, limit = spec
        kind_of = type(value)
        if kind == 0:
            if kind_of is str and len(value) <= limit and "\x00" not in value:
                row[name] = value
            else:
                row[name] = _string(value, name, int(limit), errors)
        elif kind == 1:
            if kind_of is int and 0 <= value <= limit:
                row[name] = value
            else:
                row[name] = _integer(value, name, int(limit), errors)
        elif kind == 2:
            if (kind_of is float or kind_of is int) and 0 <= value <= limit:
                row[name] = float(value)
            else:
                row[name] = _number(value, name, limit, errors)
        elif kind_of is bool:
            row[name] = value
        else:
            errors[name] = "must be true or false."


def check_event(raw: Any, *, now: datetime) -> Checked:
    """Validate one raw event; `row` holds Event column values when `errors` is empty."""
    if not isinstance(raw, dict):
        return Checked(None, errors={"event": "must be a JSON object."})
    errors: dict[str, str] = {}
    row: dict[str, Any] = {}
    event_id = raw.get("event_id")
    checked = Checked(event_id if isinstance(event_id, str) else None, row, errors)

    for name in ("event_id", "feature", "model"):
        value = raw.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            errors[name] = "is required."
        else:
            row[name] = _string(value, name, 128, errors)
    stamp = raw.get("timestamp")
    if stamp is None:
        stamp = raw.get("start_time")
    if stamp is None:
        errors["timestamp"] = "is required."
    else:
        row["timestamp"] = _time(stamp, "timestamp", now, errors)

    _check_simple(raw, row, errors)

    status = raw.get("status")
    if status is not None:
        if status in STATUSES:
            row["status"] = status
        elif isinstance(status, str) and status.strip().lower() in STATUSES:
            row["status"] = status.strip().lower()  # "OK", "Error"
        else:
            errors["status"] = f"must be one of {', '.join(sorted(STATUSES))}."
    cost = raw.get("cost_usd")
    if cost is not None:
        row["cost_usd"] = _cost(cost, errors)
    if row.get("latency_ms") is None and raw.get("start_time") is not None:
        end = raw.get("end_time")
        start_at, end_at = parse_time(raw["start_time"]), parse_time(end)
        if end is not None and (start_at is None or end_at is None or end_at < start_at):
            errors["end_time"] = "must be a date-time not before start_time."
        elif start_at is not None and end_at is not None:
            row["latency_ms"] = min((end_at - start_at).total_seconds() * 1000.0, MAX_LATENCY_MS)

    _check_lists(raw, row, errors)
    _check_attributes(raw, row, errors)
    _encode_json(row, checked)
    for name in ("input", "output"):
        value = raw.get(name)
        if value is not None:
            row[name] = _content(value, name, checked)
    return checked
