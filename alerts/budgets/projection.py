"""Expected spend from the tenant's own history: same weekday, same hour-of-day shape.

For a day D the projection is, hour by hour, the median of the cumulative
spend curves of the last four same weekdays (D-7, D-14, D-21, D-28) that had
traffic; within an hour the curve is linear. The median of cumulative
curves is itself non-decreasing, so the expected spend of any interval is
the difference of two points, never negative; one anomalous week (an
incident, a holiday, a runaway batch job) moves a median of four by at most
one rank, where a mean would carry it whole. Without a same-weekday history
the last seven days stand in (same median, any weekday); with no history at
all there is no projection and the rule reports no data.

Profiles are built from the hourly rollups and cached for an hour per
(scope, split, day): history does not change during the day.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from alerts.cache import cache_key, cached
from alerts.evaluation.data import rollup_sums

WEEKS = 4
PROFILE_CACHE_S = 3600


@dataclass(frozen=True)
class Profile:
    """Expected cumulative spend (float USD) at each hour boundary 0..24 of one day."""

    cumulative: tuple[float, ...]  # 25 points
    days_used: int

    def at(self, moment: datetime, day: date) -> float:
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        hours = (moment - start).total_seconds() / 3600
        if hours <= 0:
            return 0.0
        if hours >= 24:
            return self.cumulative[24]
        whole = int(hours)
        frac = hours - whole
        low, high = self.cumulative[whole], self.cumulative[whole + 1]
        return low + (high - low) * frac

    @property
    def day_total(self) -> float:
        return self.cumulative[24]


def _curve(hourly: dict[int, float]) -> list[float]:
    out = [0.0]
    for hour in range(24):
        out.append(out[-1] + hourly.get(hour, 0.0))
    return out


def profiles_for_day(*, day: date, scope: dict[str, str], split_by: str) -> dict[str, Profile]:
    """Profiles per split key for `day` (one rollup query over the 28 days before it)."""
    key = cache_key("profile", day.isoformat(), sorted(scope.items()), split_by)
    return cached(key, PROFILE_CACHE_S, lambda: _profiles(day=day, scope=scope, split_by=split_by))


def _profiles(*, day: date, scope: dict[str, str], split_by: str) -> dict[str, Profile]:
    start_day = day - timedelta(days=7 * WEEKS)
    start = datetime(start_day.year, start_day.month, start_day.day, tzinfo=UTC)
    end = datetime(day.year, day.month, day.day, tzinfo=UTC)
    rows = rollup_sums(scope=scope, split_by=split_by, start=start, end=end, by_hour=True)
    # split -> day -> hour -> spend, and split -> days with traffic
    spend: dict[str, dict[date, dict[int, float]]] = {}
    for label, agg in rows.items():
        hour_iso, split_key = label.split("|", 1)
        moment = datetime.fromisoformat(hour_iso).astimezone(UTC)
        if agg.requests <= 0:
            continue
        per_day = spend.setdefault(split_key, {}).setdefault(moment.date(), {})
        per_day[moment.hour] = per_day.get(moment.hour, 0.0) + float(agg.cost)
    out: dict[str, Profile] = {}
    for split_key, days in spend.items():
        same = [day - timedelta(days=7 * k) for k in range(1, WEEKS + 1)]
        chosen = [d for d in same if d in days]
        if not chosen:
            chosen = [
                day - timedelta(days=k) for k in range(1, 8) if day - timedelta(days=k) in days
            ]
        if not chosen:
            continue
        curves = [_curve(days[d]) for d in chosen]
        cumulative = tuple(statistics.median(c[h] for c in curves) for h in range(25))
        out[split_key] = Profile(cumulative=cumulative, days_used=len(chosen))
    return out


def expected_between(
    *, start: datetime, end: datetime, scope: dict[str, str], split_by: str
) -> dict[str, float]:
    """Expected spend per split key over [start, end), across midnight if needed."""
    out: dict[str, float] = {}
    cursor = start
    while cursor < end:
        day = cursor.date()
        day_end = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)
        part_end = min(end, day_end)
        for split_key, profile in profiles_for_day(day=day, scope=scope, split_by=split_by).items():
            gained = profile.at(part_end, day) - profile.at(cursor, day)
            out[split_key] = out.get(split_key, 0.0) + gained
        cursor = part_end
    return out


def day_total_expected(*, day: date, scope: dict[str, str], split_by: str = "") -> dict[str, float]:
    return {
        k: p.day_total for k, p in profiles_for_day(day=day, scope=scope, split_by=split_by).items()
    }
