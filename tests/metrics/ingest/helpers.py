"""Event builders shared by the ingest tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any


def uid(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex}"


def good(**fields: Any) -> dict[str, Any]:
    """A valid event (gpt-4o-mini, 1000 in / 500 out tokens) with a fresh id."""
    return {
        "event_id": uid(),
        "timestamp": datetime.now(tz=UTC).isoformat(),
        "feature": "chat",
        "model": "gpt-4o-mini",
        "input_tokens": 1000,
        "output_tokens": 500,
        **fields,
    }
