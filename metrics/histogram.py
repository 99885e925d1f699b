"""Mergeable latency histograms with fixed logarithmic buckets.

Bucket 0 holds values below 1 ms; bucket i (1..LAST) holds
[BASE**(i-1), BASE**i) milliseconds; the last bucket also takes everything
above ~10 minutes. With BASE = 1.02 the geometric middle of a bucket is within
1% of any value in it, so a percentile read from merged buckets is within ~1%
of the exact one. Because the buckets are fixed, histograms of different hours,
features or models merge by adding counts.

A histogram is stored sparsely as two parallel int arrays (bucket indexes in
ascending order, counts), which PostgreSQL can merge with
`unnest(buckets, counts)` and `GROUP BY`; BUCKET_SQL is the same bucket
function in SQL so that rollups are computed next to the data.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from itertools import accumulate

BASE = 1.02
LOG_BASE = math.log(BASE)
MAX_MS = 600_000.0  # ten minutes; slower calls share the last bucket
LAST = math.ceil(math.log(MAX_MS) / LOG_BASE)  # 672

# Same function in SQL; `{col}` is a float column in milliseconds (NULLs are filtered out).
# LEAST before the cast keeps NaN and infinity in the last bucket instead of failing.
BUCKET_SQL = (
    "CASE WHEN {col} < 1 THEN 0 "
    f"ELSE LEAST({LAST}, FLOOR(LN({{col}}) / {LOG_BASE!r}) + 1)::int END"
)

Histogram = dict[int, int]


def bucket_of(value_ms: float) -> int:
    if math.isnan(value_ms) or value_ms == math.inf:
        return LAST
    if value_ms < 1:
        return 0
    return min(LAST, math.floor(math.log(value_ms) / LOG_BASE) + 1)


def bucket_value(index: int) -> float:
    """The value that stands for a bucket: its geometric middle (0 for bucket 0)."""
    if index <= 0:
        return 0.5
    return float(BASE ** (index - 0.5))


def bucket_upper(index: int) -> float:
    """Upper bound of a bucket in ms (Prometheus `le`); +inf for the last one."""
    if index >= LAST:
        return math.inf
    return float(BASE**index)


def from_values(values: Iterable[float]) -> Histogram:
    hist: Histogram = {}
    for value in values:
        index = bucket_of(value)
        hist[index] = hist.get(index, 0) + 1
    return hist


def from_arrays(buckets: Iterable[int] | None, counts: Iterable[int] | None) -> Histogram:
    hist: Histogram = {}
    for index, count in zip(buckets or (), counts or (), strict=True):
        hist[index] = hist.get(index, 0) + int(count)
    return hist


def to_arrays(hist: Mapping[int, int]) -> tuple[list[int], list[int]]:
    indexes = sorted(i for i, c in hist.items() if c)
    return indexes, [int(hist[i]) for i in indexes]


def merge(*hists: Mapping[int, int]) -> Histogram:
    merged: Histogram = {}
    for hist in hists:
        for index, count in hist.items():
            merged[index] = merged.get(index, 0) + count
    return merged


def total(hist: Mapping[int, int]) -> int:
    return sum(hist.values())


def percentile(hist: Mapping[int, int], q: float) -> float | None:
    """The q-quantile (0..1) like PostgreSQL's percentile_cont, from bucket middles.

    percentile_cont interpolates between the order statistics at ranks
    floor(q*(n-1)) and ceil(q*(n-1)); we do the same with each rank's bucket value.
    """
    return percentiles(hist, (q,))[0]


def percentiles(hist: Mapping[int, int], qs: Iterable[float]) -> list[float | None]:
    items = sorted((i, c) for i, c in hist.items() if c > 0)
    quantiles = list(qs)
    if not items:
        return [None for _ in quantiles]
    indexes = [i for i, _ in items]
    cumulative = list(accumulate(c for _, c in items))  # events up to and including each bucket
    n = cumulative[-1]
    results: list[float | None] = []
    for q in quantiles:
        if not 0 <= q <= 1:
            raise ValueError("quantile must be between 0 and 1")
        rank = q * (n - 1)
        low, high = math.floor(rank), math.ceil(rank)
        low_value = _value_at_rank(indexes, cumulative, low)
        high_value = low_value if high == low else _value_at_rank(indexes, cumulative, high)
        results.append(low_value + (high_value - low_value) * (rank - low))
    return results


def _value_at_rank(indexes: list[int], cumulative: list[int], rank: int) -> float:
    """Value of the event at 0-based `rank`: the first bucket whose running count passes it."""
    position = bisect_right(cumulative, rank)
    return bucket_value(indexes[min(position, len(indexes) - 1)])


def cumulative_le(hist: Mapping[int, int], bounds_ms: Iterable[float]) -> list[tuple[float, int]]:
    """Counts at or below each bound (for Prometheus `_bucket{le=...}`), by bucket upper bound.

    A bucket is counted under a bound when its whole range lies below it, so
    the counts are exact for bounds on bucket edges and conservative otherwise.
    """
    items = sorted(hist.items())
    return [
        (bound, sum(c for i, c in items if bucket_upper(i) <= bound * (1 + 1e-9)))
        for bound in sorted(bounds_ms)
    ]
