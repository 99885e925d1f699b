"""The category-rate rule shared by the daily job and the drift benchmark."""

from __future__ import annotations

import pytest

from metrics.quality.sampling_rates import AT_RISK_FACTOR, MAX_CATEGORY_RATE, category_rate


def test_a_busy_stable_category_keeps_the_policy_rate() -> None:
    assert category_rate(base_rate=0.005, weekly_volume=700_000, weekly_minimum=50) == 0.005


def test_a_small_category_is_raised_to_its_weekly_minimum() -> None:
    # 2,000 events a week at 0.5% would give 10 grades; 50 are wanted.
    rate = category_rate(base_rate=0.005, weekly_volume=2_000, weekly_minimum=50)
    assert rate == pytest.approx(0.025)
    assert category_rate(base_rate=0.005, weekly_volume=20, weekly_minimum=50) == MAX_CATEGORY_RATE


def test_an_at_risk_category_is_graded_more_on_top_of_stratification() -> None:
    busy = category_rate(base_rate=0.005, weekly_volume=700_000, weekly_minimum=50, at_risk=True)
    assert busy == pytest.approx(0.005 * AT_RISK_FACTOR)
    small = category_rate(base_rate=0.005, weekly_volume=2_000, weekly_minimum=50, at_risk=True)
    assert small == pytest.approx(0.025 * AT_RISK_FACTOR)
    tiny = category_rate(base_rate=0.005, weekly_volume=100, weekly_minimum=50, at_risk=True)
    assert tiny == MAX_CATEGORY_RATE
    # A category with no traffic last week has nothing to raise.
    assert category_rate(base_rate=0.0, weekly_volume=0, weekly_minimum=50, at_risk=True) == 0.0
