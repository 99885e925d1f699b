"""Number formatting and drill-down links for the metrics pages.

Every number is formatted here once, so a page and its browser test agree on
how "$1,234.56", "212 ms" or "4.2%" are written.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django import template
from django.urls import reverse

from metrics.selectors import MetricsFilter

register = template.Library()

DASH = "\u2013"


def _number(value: Any) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


@register.filter
def usd(value: Any) -> str:
    """$1,234.56 for dollars, four decimals below a dollar, two significant digits below a cent."""
    if value is None or value == "":
        return DASH
    amount = value if isinstance(value, Decimal) else Decimal(str(value))
    magnitude = abs(amount)
    if magnitude == 0:
        return "$0.00"
    if magnitude >= 1:
        return f"${amount:,.2f}"
    if magnitude >= Decimal("0.01"):
        return f"${amount:.4f}"
    # Two significant digits, trailing zeros kept: $0.0040, $0.00033.
    digits = -magnitude.adjusted() + 1
    if digits > 8:
        return f"${float(amount):.1e}"
    return f"${amount:.{digits}f}"


@register.filter
def ms(value: Any) -> str:
    number = _number(value)
    if number is None:
        return DASH
    if number >= 10_000:
        return f"{number / 1000:,.1f} s"
    if number >= 1000:
        return f"{number / 1000:.2f} s"
    return f"{number:,.0f} ms"


@register.filter
def pct(value: Any, digits: int = 1) -> str:
    """A fraction as a percentage: 0.0423 -> 4.2%."""
    number = _number(value)
    if number is None:
        return DASH
    percent = number * 100
    if 0 < abs(percent) < 0.1:
        return "<0.1%"
    return f"{percent:.{int(digits)}f}%"


@register.filter
def score(value: Any) -> str:
    number = _number(value)
    return DASH if number is None else f"{number:.3f}"


@register.filter
def count(value: Any) -> str:
    number = _number(value)
    return DASH if number is None else f"{round(number):,}"


@register.filter
def compact(value: Any) -> str:
    """1,234,567 -> 1.2M (for token totals)."""
    number = _number(value)
    if number is None:
        return DASH
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e4, "k")):
        if abs(number) >= limit:
            return f"{number / limit:.1f}{suffix}"
    return f"{round(number):,}"


@register.filter
def times(value: Any) -> str:
    """A ratio to the average: 4.8 -> 4.8x."""
    number = _number(value)
    return DASH if number is None else f"{number:.1f}\u00d7"


@register.filter
def share_width(value: Any) -> str:
    """A fraction as a CSS width (0..100%)."""
    number = _number(value) or 0.0
    return f"{max(0.0, min(number, 1.0)) * 100:.1f}%"


@register.filter
def raw(value: Any) -> str:
    """The machine value behind a formatted cell (data-value for sorting)."""
    number = _number(value)
    return "" if number is None else repr(number)


@register.filter
def display(value: Any) -> str:
    """A dimension value as shown: empty values are "(none)"."""
    return "(none)" if value in (None, "") else str(value)


@register.filter
def get_item(mapping: Any, key: str) -> Any:
    return mapping.get(key) if hasattr(mapping, "get") else None


@register.filter
def costly(row: Any) -> bool:
    """A costly, little-used row: 10%+ of the spend on under 10% of the requests, at three
    times the average cost per request or more (the field guide's newsletter feature)."""
    share = getattr(row, "cost_share", None) or 0.0
    requests = getattr(row, "request_share", None) or 0.0
    relative = getattr(row, "relative_cost_per_request", None) or 0.0
    return share >= 0.1 and requests < 0.1 and relative >= 3.0


def format_value(value: Any, unit: str) -> str:
    formats = {"usd": usd, "ms": ms, "ratio": pct, "score": score, "count": count}
    return formats.get(unit, count)(value)


@register.filter
def formatted(value: Any, unit: str) -> str:
    return format_value(value, unit)


@register.simple_tag
def delta(change: float | None, better: str = "lower") -> dict[str, str]:
    """Relative change against the previous period, classed good or bad for the reader."""
    if change is None:
        return {"text": "no previous data", "css": "delta-flat", "arrow": ""}
    if abs(change) < 0.005:
        return {"text": "±0%", "css": "delta-flat", "arrow": "→"}
    rising = change > 0
    good = rising == (better == "higher")
    magnitude = abs(change) * 100
    text = f"{magnitude:.0f}%" if magnitude >= 10 else f"{magnitude:.1f}%"
    if magnitude >= 1000:
        text = f"{change + 1:.0f}\u00d7" if rising else text
    return {
        "text": text,
        "css": "delta-good" if good else "delta-bad",
        "arrow": "▲" if rising else "▼",
    }


def filter_params(f: MetricsFilter, **extra: Any) -> dict[str, str]:
    params = f.as_params()
    for key, value in extra.items():
        if value is None or value == "" or value is False:
            params.pop(key, None)
        else:
            params[key] = "1" if value is True else str(value)
    return params


@register.simple_tag
def events_url(f: MetricsFilter, **narrow: Any) -> str:
    """The events behind a number: the same filter, narrowed (feature=..., status=..., tail=1).

    `dim=<name> value=<v>` narrows by a dimension named in a variable (a breakdown row).
    """
    if "dim" in narrow:
        narrow[str(narrow.pop("dim"))] = narrow.pop("value", None)
    return f"{reverse('dash-events')}?{urlencode(filter_params(f, **narrow))}"


@register.simple_tag
def page_url(name: str, f: MetricsFilter, **extra: Any) -> str:
    """Another dashboard page with the same range and filters."""
    return f"{reverse(name)}?{urlencode(filter_params(f, **extra))}"
