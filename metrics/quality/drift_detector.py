"""The drift detector: a one-sided lower CUSUM on standardized daily quality means.

Pure Python with no Django imports, so the benchmark (benchmarks/drift.py) runs
exactly this code on simulated traffic.

Method (docs/quality.md, "Drift detection"):

1. Baseline: the `baseline_days` days before the monitored window. From its
   graded events we estimate the mean quality mu0, the within-day variance of
   one score sigma_e^2 (pooled from per-day sums of squares) and the
   between-day variance tau^2 (day-to-day swings beyond sampling noise:
   traffic mix, weekdays), by the method of moments.
2. Consecutive monitored days are pooled into blocks spanning a fixed number
   of days, set from the baseline's volume so a block holds about
   `min_block_n` grades (one day for a busy category, several for a small
   one), because a pass rate near 94% from a few dozen grades is far too
   skewed for normal tails; a block also waits until it has `min_block_n`
   grades. Each block b gives
   z_b = (mean_b - mu0') / sqrt(sigma_e^2 / n_b + tau^2 / days_b + SE(mu0)^2)
   (every block is compared with the same estimated baseline), clipped to
   +-z_clip (a robust CUSUM: one freak day cannot raise an alarm alone), where
   mu0' = mu0 - guard x SE(mu0) protects small categories from a baseline that
   came out high by chance.
3. Lower CUSUM: S_b = max(0, S_{b-1} - z_b - k). A decline of delta standard
   units adds about delta - k per block, so a slow drift accumulates until
   S > h.
4. False alarms across many series: h is chosen so that the in-control
   average run length (Siegmund's approximation), converted from blocks to
   days, is at least series x horizon / target false alarms, i.e. the
   expected number of false alarms across all of a tenant's series stays
   under the target (an ARL-calibrated, Bonferroni-style split of the
   false-alarm budget). A finding closes when S falls to h/4 (hysteresis).
5. Adaptive sampling: once S reaches `at_risk_fraction` x h the result says
   `at_risk`, and the daily job grades that series more from the next day
   (sampling_rates.py). z is standardized by each block's own count and the
   count depends only on the past, so in control its sampling noise stays
   standard normal; the baseline's error, common to all blocks, is bounded by
   SE(mu0)^2 above; and blocks of fixed length in days keep their number per
   day. So the false-alarm calibration holds, while under a drift the extra
   grades make S climb faster.
6. At an alarm the change is estimated over the current excursion (from the
   day after the CUSUM last stood at zero): the weighted mean of those days
   minus mu0, with a normal 95% interval from the same variance model, and
   the excursion's first day is reported as the start date.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

SIEGMUND_OFFSET = 1.166
Z95 = 1.959964


@dataclass(frozen=True)
class DayStat:
    day: date
    n: int
    total: float  # sum of the day's per-event quality scores (0..1)
    total_sq: float  # sum of squares

    @property
    def mean(self) -> float:
        return self.total / self.n


@dataclass(frozen=True)
class DriftParams:
    k: float = 0.5
    series: int = 1  # how many series the tenant watches (false-alarm budget split)
    false_alarms_per_year: float = 0.5
    horizon_days: int = 365  # the period the false-alarm target applies to
    window_days: int = 60
    baseline_days: int = 90
    min_baseline_days: int = 14
    min_baseline_n: int = 100
    min_block_n: int = 300  # pool days until a block has this many grades (normality)
    z_clip: float = 3.0  # robust CUSUM: one block moves S by at most this
    baseline_guard_se: float = 1.5  # shift mu0 down by this many standard errors
    at_risk_fraction: float = 0.3  # S >= this x h marks the series at risk (more sampling)


@dataclass(frozen=True)
class Baseline:
    mean: float
    var_event: float
    var_day: float
    n: int
    days: int


@dataclass(frozen=True)
class DriftResult:
    alarm: bool
    statistic: float  # S on the last day
    threshold: float
    baseline: Baseline | None
    started_on: date | None = None
    current_mean: float | None = None
    delta_points: float = 0.0  # estimated change, percentage points (negative = worse)
    ci_low: float = 0.0
    ci_high: float = 0.0
    days_in_excursion: int = 0
    at_risk: bool = False  # S is past at_risk_fraction x h: grade more of this series


def arl0_siegmund(k: float, h: float) -> float:
    """In-control average run length of a one-sided CUSUM on N(0, 1) data."""
    if k <= 0:
        return (h + SIEGMUND_OFFSET) ** 2
    b = h + SIEGMUND_OFFSET
    x = 2 * k * b
    return (math.exp(x) - x - 1) / (2 * k * k)


def threshold_for(*, k: float, target_arl0: float) -> float:
    """The smallest h (bisection) whose ARL0 reaches `target_arl0`."""
    lo, hi = 0.0, 200.0
    for _ in range(80):
        mid = (lo + hi) / 2
        if arl0_siegmund(k, mid) >= target_arl0:
            hi = mid
        else:
            lo = mid
    return hi


def threshold_for_series(
    *, k: float, series: int, false_alarms_per_year: float, horizon_days: int = 365
) -> float:
    """h so that `series` CUSUMs watched for `horizon_days` raise at most the target on average."""
    target = max(1, series) * horizon_days / max(false_alarms_per_year, 1e-6)
    return threshold_for(k=k, target_arl0=target)


def baseline_estimate(days: list[DayStat], *, min_days: int, min_n: int) -> Baseline | None:
    used = [d for d in days if d.n > 0]
    n = sum(d.n for d in used)
    if len(used) < min_days or n < min_n:
        return None
    mean = sum(d.total for d in used) / n
    within_ss = sum(d.total_sq - d.total * d.total / d.n for d in used)
    dof = n - len(used)
    var_event = within_ss / dof if dof > 0 else mean * (1 - mean)
    # Scores in [0, 1] with mean m have variance at most m(1 - m); a floor keeps a
    # perfect baseline (all 1.0) from dividing by zero.
    var_event = max(var_event, 1e-4)
    excess = [(d.mean - mean) ** 2 - var_event / d.n for d in used]
    var_day = max(0.0, sum(excess) / len(excess))
    return Baseline(mean=mean, var_event=var_event, var_day=var_day, n=n, days=len(used))


def block_days(baseline: Baseline, min_block_n: int) -> int:
    """Days a block spans on average: 1 for busy series, more for small ones."""
    per_day = baseline.n / max(1, baseline.days)
    return max(1, math.ceil(min_block_n / max(per_day, 1e-9)))


def threshold(baseline: Baseline, params: DriftParams) -> float:
    """h for this series: the false-alarm budget in days, converted to blocks."""
    target_days = max(1, params.series) * params.horizon_days / params.false_alarms_per_year
    return threshold_for(
        k=params.k, target_arl0=target_days / block_days(baseline, params.min_block_n)
    )


def cusum_run(
    days: list[DayStat],
    baseline: Baseline,
    *,
    k: float,
    min_block_n: int = 1,
    min_block_days: int = 1,
    z_clip: float = math.inf,
    guard_se: float = 0.0,
) -> tuple[float, int | None, list[float]]:
    """(S on the last day, index of the first day of the current excursion, S per day).

    Days are pooled into blocks of at least `min_block_days` days and
    `min_block_n` grades; S moves when a block completes (an incomplete last
    block waits for more data). Spanning a fixed number of days keeps the
    in-control number of blocks per day, and so the false-alarm calibration,
    unchanged when sampling raises a series' grades (adaptive sampling makes
    each block more informative, not more frequent).
    """
    # The baseline mean's own variance: every block is compared with the same estimate.
    var_mu0 = baseline.var_event / baseline.n + baseline.var_day / baseline.days
    mu0 = baseline.mean - guard_se * math.sqrt(var_mu0)
    s = 0.0
    start: int | None = None
    path = []
    block_start, n, total, block_len = 0, 0, 0.0, 0
    for i, d in enumerate(days):
        if n == 0:
            block_start, block_len = i, 0
        block_len += 1
        n += d.n
        total += d.total
        if n >= min_block_n and n > 0 and block_len >= min_block_days:
            sd = math.sqrt(baseline.var_event / n + baseline.var_day / block_len + var_mu0)
            z = max(-z_clip, min(z_clip, (total / n - mu0) / sd))
            s_new = max(0.0, s - z - k)
            if s == 0.0 and s_new > 0.0:
                start = block_start
            if s_new == 0.0:
                start = None
            s = s_new
            n, total = 0, 0.0
        path.append(s)
    return s, start, path


def drift_evaluate(
    series: dict[date, DayStat],
    *,
    today: date,
    params: DriftParams,
    baseline_end: date | None = None,
    monitor_start: date | None = None,
) -> DriftResult:
    """Test the window ending `today` against the baseline before it.

    `baseline_end`/`monitor_start` (a deployment day) freeze the baseline to the
    days before a release instead of the rolling one.
    """
    monitor_start = monitor_start or today - timedelta(days=params.window_days - 1)
    baseline_end = baseline_end or monitor_start
    base_days = [
        series[d]
        for d in (baseline_end - timedelta(days=i) for i in range(1, params.baseline_days + 1))
        if d in series
    ]
    baseline = baseline_estimate(
        base_days, min_days=params.min_baseline_days, min_n=params.min_baseline_n
    )
    if baseline is None:
        return DriftResult(False, 0.0, math.inf, None)
    h = threshold(baseline, params)
    span = (today - monitor_start).days + 1
    window = [
        series.get(monitor_start + timedelta(days=i))
        or DayStat(monitor_start + timedelta(days=i), 0, 0.0, 0.0)
        for i in range(max(0, span))
    ]
    s, start, _ = cusum_run(
        window,
        baseline,
        k=params.k,
        min_block_n=params.min_block_n,
        min_block_days=block_days(baseline, params.min_block_n),
        z_clip=params.z_clip,
        guard_se=params.baseline_guard_se,
    )
    at_risk = s >= params.at_risk_fraction * h
    if s <= h or start is None:
        return DriftResult(False, s, h, baseline, at_risk=at_risk)
    excursion = [d for d in window[start:] if d.n > 0]
    n = sum(d.n for d in excursion)
    current = sum(d.total for d in excursion) / n
    delta = current - baseline.mean
    se = math.sqrt(
        baseline.var_event / n
        + baseline.var_day / len(excursion)
        + baseline.var_event / baseline.n
        + baseline.var_day / baseline.days
    )
    return DriftResult(
        alarm=True,
        statistic=s,
        threshold=h,
        baseline=baseline,
        started_on=window[start].day,
        current_mean=current,
        delta_points=100 * delta,
        ci_low=100 * (delta - Z95 * se),
        ci_high=100 * (delta + Z95 * se),
        days_in_excursion=len(window) - start,
        at_risk=True,
    )


RESOLVE_FRACTION = 0.25


def drift_resolved(result: DriftResult) -> bool:
    """An open drift finding closes once S falls back to a quarter of h (hysteresis)."""
    return not result.alarm and result.statistic <= RESOLVE_FRACTION * result.threshold
