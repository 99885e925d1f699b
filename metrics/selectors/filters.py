"""The filter every metrics page and read-API call shares: a time range and dimensions.

Ranges are hour-aligned so that rollups (hourly) and raw events agree exactly:
a preset range ends at the end of the current hour; a custom range runs from
the start of `from` to the end of `to` (dates are whole UTC days).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from core.exceptions import ApplicationError

PRESET_RANGES = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30)}
DEFAULT_RANGE = "7d"
MAX_SPAN = timedelta(days=400)
# The common filters (pages and API) and the extra ones drill-downs may add.
FILTER_DIMENSIONS = (
    "feature",
    "model",
    "environment",
    "customer",
    "endpoint",
    "provider",
    "query_type",
    "content_category",
)
MAX_VALUE_LENGTH = 256
HOUR = timedelta(hours=1)


def floor_hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def ceil_hour(moment: datetime) -> datetime:
    floored = floor_hour(moment)
    return floored if floored == moment else floored + HOUR


@dataclass(frozen=True)
class MetricsFilter:
    start: datetime
    end: datetime
    range: str = DEFAULT_RANGE  # "24h" | "7d" | "30d" | "custom"
    feature: str | None = None
    model: str | None = None
    environment: str | None = None
    customer: str | None = None
    endpoint: str | None = None
    provider: str | None = None
    query_type: str | None = None
    content_category: str | None = None
    resolution: str | None = None  # force "hour" or "day" time buckets; None picks by span

    @property
    def span(self) -> timedelta:
        return self.end - self.start

    @property
    def bucket(self) -> str:
        """Time-series resolution: hours up to 7 days, days beyond."""
        if self.resolution in ("hour", "day"):
            return self.resolution
        return "hour" if self.span <= timedelta(days=7) else "day"

    @property
    def step(self) -> timedelta:
        return HOUR if self.bucket == "hour" else timedelta(days=1)

    def dimensions(self) -> dict[str, str]:
        """The dimension filters that are set."""
        values = {name: getattr(self, name) for name in FILTER_DIMENSIONS}
        return {name: value for name, value in values.items() if value is not None}

    def previous(self) -> MetricsFilter:
        """The same filter over the period just before this one."""
        return replace(self, start=self.start - self.span, end=self.start)

    def with_dimensions(self, **values: str | None) -> MetricsFilter:
        return replace(self, **values)  # type: ignore[arg-type]

    def as_params(self) -> dict[str, str]:
        """Query-string parameters that rebuild this filter (for links and htmx)."""
        params: dict[str, str] = {"range": self.range}
        if self.range == "custom":
            params["from"] = self.start.isoformat()
            params["to"] = self.end.isoformat()
        params.update(self.dimensions())
        return params

    def bucket_starts(self) -> list[datetime]:
        """Start of every time-series bucket in the range (UTC days or hours)."""
        first = self.start if self.bucket == "hour" else self.start.replace(hour=0)
        out: list[datetime] = []
        moment = first
        while moment < self.end:
            out.append(moment)
            moment += self.step
        return out


def _parse_moment(raw: str, *, field: str, is_end: bool) -> datetime:
    value = raw.strip()
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
            return moment + timedelta(days=1) if is_end else moment
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ApplicationError(
            "Invalid filter.", details={field: "Use a date (YYYY-MM-DD) or an ISO 8601 time."}
        ) from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    parsed = parsed.astimezone(UTC)
    return ceil_hour(parsed) if is_end else floor_hour(parsed)


def metrics_filter_from_params(
    params: Mapping[str, Any], *, now: datetime | None = None, default_range: str = DEFAULT_RANGE
) -> MetricsFilter:
    """Parse `range`, `from`, `to` and the dimension filters; ApplicationError names the field."""
    errors: dict[str, str] = {}
    range_name = str(params.get("range") or "").strip()
    has_custom = bool(params.get("from") or params.get("to"))
    if not range_name:
        range_name = "custom" if has_custom else default_range
    now = now or datetime.now(tz=UTC)
    start = end = None
    if range_name in PRESET_RANGES:
        end = floor_hour(now) + HOUR
        start = end - PRESET_RANGES[range_name]
    elif range_name == "custom":
        for field in ("from", "to"):
            if not params.get(field):
                errors[field] = "Required for a custom range."
        if not errors:
            try:
                start = _parse_moment(str(params["from"]), field="from", is_end=False)
                end = _parse_moment(str(params["to"]), field="to", is_end=True)
            except ApplicationError as exc:
                errors.update(exc.details)
        if start is not None and end is not None:
            if end <= start:
                errors["to"] = "Must be after 'from'."
            elif end - start > MAX_SPAN:
                errors["to"] = f"A range may span at most {MAX_SPAN.days} days."
    else:
        errors["range"] = "Choose one of 24h, 7d, 30d or custom."
    dimensions: dict[str, str] = {}
    for name in FILTER_DIMENSIONS:
        raw = params.get(name)
        if raw is None or raw == "":
            continue
        value = str(raw)
        if len(value) > MAX_VALUE_LENGTH:
            errors[name] = f"At most {MAX_VALUE_LENGTH} characters."
        elif "\x00" in value:
            errors[name] = "Contains a NUL character."
        else:
            dimensions[name] = value
    if errors or start is None or end is None:
        raise ApplicationError("Invalid filter.", details=errors)
    return MetricsFilter(start=start, end=end, range=range_name, **dimensions)


def metrics_filter_for(
    *, range_name: str = DEFAULT_RANGE, now: datetime | None = None, **dimensions: str | None
) -> MetricsFilter:
    """A filter built in code (tests, benchmarks, ops): a preset range and dimensions."""
    params: dict[str, Any] = {"range": range_name, **dimensions}
    return metrics_filter_from_params(params, now=now)
