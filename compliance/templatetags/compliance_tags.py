"""Small display helpers of the compliance pages."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from django import template

register = template.Library()


@register.filter
def changes(entry: Any) -> list[dict[str, Any]]:
    """Field-by-field before/after of an audit entry, as display strings."""
    before = entry.before if isinstance(entry.before, dict) else {}
    after = entry.after if isinstance(entry.after, dict) else {}
    return [
        {
            "field": name,
            "before": _show(before[name]) if name in before else "",
            "after": _show(after[name]) if name in after else "",
            "unchanged": name in before and name in after and before[name] == after[name],
        }
        for name in sorted(set(before) | set(after))
    ]


def _show(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 120 else text[:119] + "…"


@register.filter
def severity_class(severity: str) -> str:
    return {"critical": "status-bad", "high": "status-bad", "medium": "status-warn"}.get(
        severity, "status-ok"
    )


@register.filter
def review_class(state: str) -> str:
    return {
        "confirmed": "status-bad",
        "false_positive": "status-ok",
        "remediated": "status-ok",
    }.get(state, "status-warn")


@register.filter
def human_state(state: str) -> str:
    return str(state).replace("_", " ")


@register.filter
def inclusive_end(value: datetime | None) -> datetime | None:
    """Periods are stored half-open [start, end); show the last day they include."""
    return value - timedelta(microseconds=1) if value else value
