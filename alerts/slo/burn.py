"""Burn rates of an SLO's error budget (Google SRE workbook, "Alerting on SLOs").

A burn rate of 1 spends exactly the whole budget over the SLO window. Pairs
(long window, short window, factor, severity) as in the workbook's table 5-8
for a 30-day SLO: 2% of the budget in one hour or 5% in six hours pages
(critical); 10% in a day or 10% in three days opens a ticket (warning). The
short window (1/12 of the long one) makes an alert stop soon after the
problem does.
"""

from __future__ import annotations

from alerts.evaluation.aggregates import Agg
from metrics import histogram

BURN_WINDOWS: tuple[tuple[int, int, float, str], ...] = (
    (60, 5, 14.4, "critical"),
    (360, 30, 6.0, "critical"),
    (1440, 120, 3.0, "warning"),
    (4320, 360, 1.0, "warning"),
)


def bad_and_total(kind: str, target: float, agg: Agg) -> tuple[int, int]:
    """Bad events and all events for the SLI: failed calls, or calls slower than the target."""
    if kind == "availability":
        return agg.failed, agg.requests
    total = histogram.total(agg.latency)
    slow = sum(c for i, c in agg.latency.items() if histogram.bucket_value(i) > target)
    return slow, total
