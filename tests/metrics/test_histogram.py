"""Histogram percentiles against PostgreSQL's exact percentile_cont."""

from __future__ import annotations

import math
import random

import pytest
from django.db import connection

from metrics import histogram


def _exact(values: list[float], q: float) -> float:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT percentile_cont(%s) WITHIN GROUP (ORDER BY v) FROM unnest(%s::float8[]) v",
            [q, values],
        )
        return float(cursor.fetchone()[0])


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_percentiles_within_two_percent_of_percentile_cont(db: None, seed: int) -> None:
    rng = random.Random(seed)
    values = [rng.lognormvariate(5.3, 0.6) for _ in range(5000)]
    values += [rng.uniform(2500, 6000) for _ in range(150)]  # a slow path
    hist = histogram.from_values(values)
    for q in (0.5, 0.9, 0.95, 0.99, 0.999):
        exact = _exact(values, q)
        estimate = histogram.percentile(hist, q)
        assert estimate is not None
        assert abs(estimate - exact) / exact < 0.02, q


def test_merge_equals_histogram_of_all_values() -> None:
    rng = random.Random(7)
    a = [rng.expovariate(1 / 300) for _ in range(1000)]
    b = [rng.expovariate(1 / 900) for _ in range(500)]
    merged = histogram.merge(histogram.from_values(a), histogram.from_values(b))
    assert merged == histogram.from_values(a + b)
    assert histogram.total(merged) == 1500


def test_arrays_round_trip_and_sql_bucket_matches_python(db: None) -> None:
    values = [0.2, 1.0, 1.5, 199.9, 200.0, 4000.0, 7_200_000.0]
    hist = histogram.from_values(values)
    assert histogram.from_arrays(*histogram.to_arrays(hist)) == hist
    sql = histogram.BUCKET_SQL.format(col="v")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {sql} FROM unnest(%s::float8[]) v", [values])  # noqa: S608
        assert [row[0] for row in cursor.fetchall()] == [histogram.bucket_of(v) for v in values]


def test_bucket_bounds_and_odd_values() -> None:
    assert histogram.bucket_of(0) == 0
    assert histogram.bucket_of(-5) == 0
    assert histogram.bucket_of(float("nan")) == histogram.LAST
    assert histogram.bucket_of(1e12) == histogram.LAST
    for value in (1.0, 3.3, 250.0, 12_345.0):
        index = histogram.bucket_of(value)
        assert histogram.bucket_upper(index - 1) <= value < histogram.bucket_upper(index)
        assert abs(histogram.bucket_value(index) - value) / value < 0.011
    assert histogram.percentile({}, 0.5) is None
    assert histogram.percentile({5: 1}, 0.99) == histogram.bucket_value(5)
    assert math.isinf(histogram.bucket_upper(histogram.LAST))
    with pytest.raises(ValueError, match="quantile"):
        histogram.percentile({1: 1}, 1.5)


def test_cumulative_le_counts() -> None:
    hist = histogram.from_values([10, 20, 30, 500, 5000])
    cumulative = dict(histogram.cumulative_le(hist, [100.0, 1000.0, 10_000.0]))
    assert cumulative == {100.0: 3, 1000.0: 4, 10_000.0: 5}
