"""Prometheus text exposition of a tenant's metrics (all time, from the daily coarse rollups).

Counters are sums over every day row, so they only grow while events are
kept; the latency histogram uses Prometheus' usual `le` bounds in seconds,
counted from the fixed log buckets (a bucket is counted under a bound when it
lies entirely below it).
"""

from __future__ import annotations

from collections import defaultdict

from django.db import connection
from django.db.models import Sum

from metrics import histogram
from metrics.rollups.models import CoarseRollup, HourlyRollup

LABELS = ("feature", "model", "provider")
LE_SECONDS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0)
_SUMS = (
    "requests",
    "input_tokens",
    "output_tokens",
    "cached_input_tokens",
    "cost_usd",
    "ok_count",
    "error_count",
    "timeout_count",
    "rate_limited_count",
    "cancelled_count",
    "latency_sum_ms",
    "latency_count",
)
_ERROR_STATUSES = {
    "error": "error_count",
    "timeout": "timeout_count",
    "rate_limited": "rate_limited_count",
    "cancelled": "cancelled_count",
}


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(key: tuple[str, ...], **extra: str) -> str:
    pairs = [*zip(LABELS, key, strict=True), *extra.items()]
    return "{" + ",".join(f'{name}="{_escape(value)}"' for name, value in pairs) + "}"


def _latency_histograms() -> dict[tuple[str, ...], histogram.Histogram]:
    sql = (
        "SELECT r.feature, r.model, r.provider, u.b, sum(u.c) FROM metrics_coarserollup r, "
        "unnest(r.latency_buckets, r.latency_counts) AS u(b, c) WHERE r.period = 'day' "
        "AND r.projection = 'all_but_customer' "
        "GROUP BY 1, 2, 3, 4"
    )
    out: dict[tuple[str, ...], histogram.Histogram] = defaultdict(dict)
    with connection.cursor() as cursor:
        cursor.execute(sql)
        for feature, model, provider, bucket, count in cursor.fetchall():
            out[(feature, model, provider)][int(bucket)] = int(count)
    return out


def prometheus_version() -> str:
    """Changes whenever the tenant's rollups change (rebuilds insert rows with new ids).

    With the database name (and the tenant-aware cache key function) it makes a
    cache key that is never stale and never shared between deployments.
    """
    latest = HourlyRollup.objects.order_by("-id").values_list("id", flat=True).first()
    return f"{connection.settings_dict['NAME']}:{latest or 0}"


def prometheus_exposition() -> str:
    """The current tenant's counters and latency histogram in Prometheus text format 0.0.4."""
    rows = (
        CoarseRollup.objects.filter(period="day", projection="all_but_customer")
        .values(*LABELS)
        .annotate(**{f"s_{n}": Sum(n) for n in _SUMS})
        .order_by(*LABELS)
    )
    totals = {tuple(r[label] for label in LABELS): r for r in rows}
    hists = _latency_histograms()
    lines: list[str] = []

    def family(name: str, kind: str, help_text: str) -> None:
        lines.append(f"# HELP {name} {help_text}")
        lines.append(f"# TYPE {name} {kind}")

    family("vigil_requests_total", "counter", "LLM calls reported to Vigil.")
    for key, r in totals.items():
        lines.append(f"vigil_requests_total{_labels(key)} {r['s_requests']}")
    family("vigil_errors_total", "counter", "LLM calls that did not succeed, by status.")
    for key, r in totals.items():
        for status, col in _ERROR_STATUSES.items():
            lines.append(f"vigil_errors_total{_labels(key, status=status)} {r[f's_{col}']}")
    family("vigil_cost_usd_total", "counter", "Cost of the LLM calls in US dollars.")
    for key, r in totals.items():
        lines.append(f"vigil_cost_usd_total{_labels(key)} {r['s_cost_usd'].normalize():f}")
    family("vigil_tokens_total", "counter", "Tokens by type (input, output, cached_input).")
    lines.extend(
        f"vigil_tokens_total{_labels(key, type=kind)} {r[f's_{kind}_tokens']}"
        for key, r in totals.items()
        for kind in ("input", "output", "cached_input")
    )
    family("vigil_latency_seconds", "histogram", "Latency of the LLM calls in seconds.")
    for key, r in totals.items():
        hist = hists.get(key, {})
        for bound, count in histogram.cumulative_le(hist, [s * 1000 for s in LE_SECONDS]):
            lines.append(
                f"vigil_latency_seconds_bucket{_labels(key, le=f'{bound / 1000:g}')} {count}"
            )
        lines.append(
            f"vigil_latency_seconds_bucket{_labels(key, le='+Inf')} {r['s_latency_count']}"
        )
        lines.append(f"vigil_latency_seconds_sum{_labels(key)} {r['s_latency_sum_ms'] / 1000:.6f}")
        lines.append(f"vigil_latency_seconds_count{_labels(key)} {r['s_latency_count']}")
    return "\n".join(lines) + "\n"
