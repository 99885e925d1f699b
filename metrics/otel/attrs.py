"""Small, pure helpers to read typed values out of span and resource attributes.

Attribute values arrive as OTLP AnyValue converted to Python (str, bool, int,
float, list, dict). Instrumentations disagree on types (a token count may be a
string, a Langfuse metadata value is JSON-encoded), so every reader here is
lenient and returns None when a value is absent or unusable.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

Attrs = Mapping[str, Any]


def first(attrs: Attrs, keys: Iterable[str]) -> Any:
    """The value of the first key present with a non-empty value."""
    for key in keys:
        value = attrs.get(key)
        if value is not None and value != "":
            return value
    return None


def as_str(value: Any, *, max_length: int | None = None) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        text = value
    elif isinstance(value, bool | int | float):
        text = str(value)
    else:
        text = json.dumps(value, default=str, ensure_ascii=False)
    text = text.strip()
    if not text:
        return None
    return text[:max_length] if max_length else text


def as_int(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if math.isfinite(value) else None
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            try:
                number = float(text)
            except ValueError:
                return None
            return int(number) if math.isfinite(number) else None
    return None


def as_float(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in {"true", "1", "yes"}:
            return True
        if lowered in {"false", "0", "no"}:
            return False
    if isinstance(value, int):
        return bool(value)
    return None


def maybe_json(value: Any) -> Any:
    """Decode a JSON-encoded attribute (Langfuse encodes metadata and usage); else unchanged."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    looks_like_json = bool(text) and (
        text[0] in '{["-' or text[0].isdigit() or text in {"true", "false", "null"}
    )
    if not looks_like_json:
        return value
    try:
        return json.loads(text)
    except ValueError:
        return value


def prefixed(attrs: Attrs, prefix: str) -> dict[str, Any]:
    """`{suffix: decoded value}` for every `prefix.suffix` key (e.g. Langfuse metadata)."""
    dotted = prefix + "."
    found: dict[str, Any] = {}
    for key, value in attrs.items():
        if key.startswith(dotted):
            found[key[len(dotted) :]] = maybe_json(value)
        elif key == prefix:
            decoded = maybe_json(value)
            if isinstance(decoded, dict):
                for inner_key, inner_value in decoded.items():
                    found.setdefault(str(inner_key), inner_value)
    return found


def nanos_to_datetime(nanos: int) -> datetime:
    return datetime.fromtimestamp(nanos / 1_000_000_000, tz=UTC)


def iso_to_datetime(value: Any) -> datetime | None:
    """An ISO-8601 timestamp (maybe JSON-quoted, maybe with Z) as an aware UTC datetime."""
    decoded = maybe_json(value)
    if not isinstance(decoded, str):
        return None
    try:
        parsed = datetime.fromisoformat(decoded.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def content_text(value: Any, *, max_length: int) -> str | None:
    """Prompt/completion content as text: strings kept, structures as compact JSON."""
    if value is None:
        return None
    text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    return text[:max_length] if text else None


def indexed_messages(attrs: Attrs, prefix: str) -> list[dict[str, Any]]:
    """Rebuild `prefix.N.role` / `prefix.N.content` flattened messages (older OpenLLMetry)."""
    messages: dict[int, dict[str, Any]] = {}
    dotted = prefix + "."
    for key, value in attrs.items():
        if not key.startswith(dotted):
            continue
        index_text, _, field = key[len(dotted) :].partition(".")
        if not index_text.isdigit() or field not in {"role", "content"}:
            continue
        messages.setdefault(int(index_text), {})[field] = value
    return [messages[index] for index in sorted(messages)]
