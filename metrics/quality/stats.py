"""Small statistics with no dependencies: intervals, Cohen's kappa, a seeded bootstrap.

- Daily quality intervals are Wilson score intervals with n = graded events
  and p = mean quality. For pass/fail grades this is the usual binomial
  interval; for scores in [0, 1] it is conservative, because such a score's
  variance is at most p(1 - p).
- Agreement intervals are percentile bootstrap intervals (2,000 resamples of
  the reviewed items, fixed seed so a page shows the same numbers twice);
  the bias interval is the analytic normal one (mean difference +- 1.96 SE).
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable, Sequence

Z95 = 1.959964


def wilson(p: float, n: int, z: float = Z95) -> tuple[float, float]:
    if n <= 0:
        return (0.0, 1.0)
    p = min(max(p, 0.0), 1.0)
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def cohen_kappa(a: Sequence[str], b: Sequence[str]) -> float | None:
    """Cohen's kappa of two raters' labels on the same items (None when undefined)."""
    n = len(a)
    if n == 0 or n != len(b):
        return None
    observed = sum(1 for x, y in zip(a, b, strict=True) if x == y) / n
    ca, cb = Counter(a), Counter(b)
    expected = sum(ca[k] * cb.get(k, 0) for k in ca) / (n * n)
    if expected >= 1.0:
        return 1.0 if observed == 1.0 else None
    return (observed - expected) / (1 - expected)


def bootstrap_ci(
    n: int,
    statistic: Callable[[list[int]], float | None],
    *,
    resamples: int = 2000,
    seed: int = 20260101,
    level: float = 0.95,
) -> tuple[float, float] | None:
    """Percentile interval of `statistic(indexes)` over resampled item indexes."""
    if n < 2:
        return None
    rng = random.Random(seed)  # noqa: S311 - statistics, not security
    values = []
    for _ in range(resamples):
        idx = [rng.randrange(n) for _ in range(n)]
        value = statistic(idx)
        if value is not None:
            values.append(value)
    if len(values) < resamples // 2:
        return None
    values.sort()
    lo = values[int((1 - level) / 2 * (len(values) - 1))]
    hi = values[int((1 + level) / 2 * (len(values) - 1))]
    return (lo, hi)


def mean_ci(values: Sequence[float]) -> tuple[float, float, float] | None:
    """(mean, low, high): normal interval with the sample standard deviation."""
    n = len(values)
    if n == 0:
        return None
    m = sum(values) / n
    if n < 2:
        return (m, m, m)
    sd = math.sqrt(sum((v - m) ** 2 for v in values) / (n - 1))
    half = Z95 * sd / math.sqrt(n)
    return (m, m - half, m + half)
