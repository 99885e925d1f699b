"""Drift benchmark: the field guide's "94% drifting 1.2 points a month" case.

Simulates graded traffic (100,000 requests a day, 0.5% graded) and runs the
production detector, metrics.quality.drift_detector, exactly as the daily job
does: every simulated day, each category's window is tested against its
rolling baseline.

Reports:
- days from the drift's onset to the first alarm, for several shares of the
  graded traffic falling in the drifting category and two score models
  (pass/fail judge labels and continuous 0..1 judge scores);
- the estimated change at the alarm against the true one;
- false alarms per year on a year of stable traffic across 20 categories.

Usage:  .venv/bin/python benchmarks/drift.py [--quick] [--append-docs]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from metrics.quality.drift_detector import (
    DayStat,
    DriftParams,
    drift_evaluate,
    drift_resolved,
)

REQUESTS_PER_DAY = 100_000
GRADED_SHARE = 0.005
BASE_QUALITY = 0.94
DECLINE_PER_MONTH = 0.012
DAYS_PER_MONTH = 30.44
WARMUP_DAYS = 150  # stable history before the onset (baseline + window)
DAY0 = date(2025, 1, 1)
DAY_NOISE_SD = 0.003  # day-to-day swings of true quality (traffic mix), 0.3 points
WEEKDAY_AMPLITUDE = 0.002  # weekend traffic is a little different
CONTINUOUS_SD = 0.15  # per-event sd of a continuous judge score


@dataclass
class Scenario:
    share: float  # the drifting category's graded volume, as a share of the 0.5% budget
    scores: str  # "binary" | "continuous"


def true_quality(day: int, onset: int | None, rng: np.random.Generator) -> float:
    q = BASE_QUALITY + WEEKDAY_AMPLITUDE * (1 if day % 7 in (5, 6) else -0.4)
    q += rng.normal(0, DAY_NOISE_SD)
    if onset is not None and day >= onset:
        q -= DECLINE_PER_MONTH * (day - onset) / DAYS_PER_MONTH
    return float(min(max(q, 0.0), 1.0))


def day_stat(day: int, n: int, q: float, scores: str, rng: np.random.Generator) -> DayStat:
    if n <= 0:
        return DayStat(DAY0 + timedelta(days=day), 0, 0.0, 0.0)
    if scores == "binary":
        passed = int(rng.binomial(n, q))
        return DayStat(DAY0 + timedelta(days=day), n, float(passed), float(passed))
    # Beta scores with mean q and sd CONTINUOUS_SD.
    var = min(CONTINUOUS_SD**2, q * (1 - q) * 0.95)
    common = q * (1 - q) / var - 1
    x = rng.beta(q * common, (1 - q) * common, size=n)
    return DayStat(DAY0 + timedelta(days=day), n, float(x.sum()), float((x * x).sum()))


def graded_per_day(share: float, rng: np.random.Generator) -> int:
    return int(rng.poisson(REQUESTS_PER_DAY * GRADED_SHARE * share))


def detection_run(
    sc: Scenario, params: DriftParams, rng: np.random.Generator, max_days: int = 240
) -> tuple[int | None, float, float, float]:
    """(days to alarm or None, estimated delta, true mean delta over excursion, true delta now)."""
    onset = WARMUP_DAYS
    series: dict[date, DayStat] = {}
    true_q: dict[int, float] = {}
    for day in range(onset + max_days):
        q = true_quality(day, onset, rng)
        true_q[day] = q
        stat = day_stat(day, graded_per_day(sc.share, rng), q, sc.scores, rng)
        series[stat.day] = stat
        if day < onset:
            continue
        result = drift_evaluate(series, today=stat.day, params=params)
        if result.alarm:
            first = (result.started_on - DAY0).days if result.started_on else onset
            span = range(first, day + 1)
            true_mean = statistics.fmean(
                DECLINE_PER_MONTH * max(0, d - onset) / DAYS_PER_MONTH for d in span
            )
            true_now = DECLINE_PER_MONTH * (day - onset) / DAYS_PER_MONTH
            return day - onset, result.delta_points, -100 * true_mean, -100 * true_now
    return None, 0.0, 0.0, 0.0


def false_alarm_year(
    categories: int, scores: str, params: DriftParams, rng: np.random.Generator
) -> int:
    """Alarm episodes (a new alarm once the last resolved): 365 stable days x categories."""
    alarms = 0
    for _ in range(categories):
        series: dict[date, DayStat] = {}
        in_alarm = False
        for day in range(WARMUP_DAYS + 365):
            q = true_quality(day, None, rng)
            stat = day_stat(day, graded_per_day(1 / categories, rng), q, scores, rng)
            series[stat.day] = stat
            if day < WARMUP_DAYS:
                continue
            result = drift_evaluate(series, today=stat.day, params=params)
            if result.alarm and not in_alarm:
                alarms += 1
                in_alarm = True
            elif in_alarm and drift_resolved(result):
                in_alarm = False
    return alarms


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer replications")
    parser.add_argument("--append-docs", action="store_true", help="append to docs/benchmarks.md")
    parser.add_argument("--seed", type=int, default=20261127)
    parser.add_argument("--categories", type=int, default=20)
    parser.add_argument("--target", type=float, default=0.5, help="false alarms/year budget")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    reps = 20 if args.quick else 100
    years = 2 if args.quick else 10
    params = DriftParams(series=args.categories, false_alarms_per_year=args.target)
    started = time.monotonic()
    lines = [
        f"Detector: one-sided robust CUSUM (metrics/quality/drift_detector.py), k={params.k}, "
        f"blocks of >= {params.min_block_n} grades, z clipped at {params.z_clip}, baseline "
        f"guard {params.baseline_guard_se} SE, h ARL0-calibrated for {args.categories} series "
        f"and a target of {args.target} false alarms/year, window {params.window_days} d, "
        f"rolling baseline {params.baseline_days} d.",
        f"Traffic: {REQUESTS_PER_DAY:,} requests/day, {GRADED_SHARE:.1%} graded "
        f"({REQUESTS_PER_DAY * GRADED_SHARE:.0f}/day), quality {BASE_QUALITY:.0%} declining "
        f"{DECLINE_PER_MONTH * 100:.1f} points/month from a known day; day-to-day noise sd "
        f"{DAY_NOISE_SD * 100:.1f} pt, weekday effect {WEEKDAY_AMPLITUDE * 100:.1f} pt.",
        "",
        "| scores | drifting category's graded volume (x the 0.5% budget) | graded/day in it | "
        "detected | "
        "days to alarm median (p10-p90) | estimated change at alarm (median) | "
        "true mean change over the flagged span | true change on alarm day |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for scores in ("binary", "continuous"):
        for share in (2.0, 1.0, 0.5, 0.25, 0.05):
            results = [detection_run(Scenario(share, scores), params, rng) for _ in range(reps)]
            hits = [r for r in results if r[0] is not None]
            days = [float(r[0]) for r in hits if r[0] is not None]
            lines.append(
                f"| {scores} | {share:g}x | {REQUESTS_PER_DAY * GRADED_SHARE * share:.0f} | "
                f"{len(hits)}/{reps} | {pct(days, 50):.0f} "
                f"({pct(days, 10):.0f}-{pct(days, 90):.0f})"
                f" | {statistics.median([r[1] for r in hits]) if hits else float('nan'):+.2f} pt"
                f" | {statistics.median([r[2] for r in hits]) if hits else float('nan'):+.2f} pt"
                f" | {statistics.median([r[3] for r in hits]) if hits else float('nan'):+.2f} pt |"
            )
            print(lines[-1], flush=True)
    lines += [
        "",
        "| scores | categories | simulated years | false alarms | per year |",
        "|---|---|---|---|---|",
    ]
    for scores in ("binary", "continuous"):
        total = sum(false_alarm_year(args.categories, scores, params, rng) for _ in range(years))
        lines.append(
            f"| {scores} | {args.categories} (equal shares, "
            f"{REQUESTS_PER_DAY * GRADED_SHARE / args.categories:.0f} graded/day each) | {years} | "
            f"{total} | {total / years:.2f} |"
        )
        print(lines[-1], flush=True)
    lines.append("")
    lines.append(
        f"Run time {time.monotonic() - started:.0f} s, seed {args.seed}, {reps} replications."
    )
    report = "\n".join(lines)
    print(report)
    if args.append_docs:
        path = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
        with path.open("a", encoding="utf-8") as fh:
            fh.write("\n\n## Quality drift detection (benchmarks/drift.py)\n\n" + report + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
