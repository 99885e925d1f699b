"""How much of a content category is graded: the policy rate, raised where it matters.

Pure Python with no Django imports, so benchmarks/drift.py samples its
simulated traffic with exactly the rule the daily job applies
(sampling.sampling_rates_refresh):

- Stratification: a category whose last 7 days' volume x rate falls short of
  the policy's weekly minimum gets rate = minimum / volume, so small
  categories still get a usable number of grades.
- Adaptive sampling: a category the drift detector marks at risk (its CUSUM
  statistic has climbed past a fraction of the alarm threshold,
  DriftResult.at_risk) is graded AT_RISK_FACTOR times more until the
  statistic falls back. A decline is then measured with several times the
  grades exactly when it needs them, while stable categories keep the policy
  rate. The detector standardizes each block by its own count and its
  blocks span a fixed number of days, so the extra grades sharpen the test
  without changing its in-control false-alarm rate (docs/quality.md).

Both raises are capped at MAX_CATEGORY_RATE; the tenant's monthly judge-spend
cap still bounds what the extra grades cost.
"""

from __future__ import annotations

MAX_CATEGORY_RATE = 0.5
DEFAULT_WEEKLY_MINIMUM = 50
AT_RISK_FACTOR = 4.0


def category_rate(
    *, base_rate: float, weekly_volume: int, weekly_minimum: int, at_risk: bool = False
) -> float:
    """The sampling rate of one category for the coming day."""
    rate = base_rate
    if weekly_volume > 0 and weekly_volume * base_rate < weekly_minimum:
        rate = max(rate, min(MAX_CATEGORY_RATE, weekly_minimum / weekly_volume))
    if at_risk:
        rate = max(rate, min(MAX_CATEGORY_RATE, rate * AT_RISK_FACTOR))
    return rate
