"""Replayed traffic for the alert tests, built with metrics.demo_traffic."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from metrics.demo_traffic import event_build, events_insert
from metrics.models import Event
from metrics.rollups.services import dirty_hours_process


def traffic(
    *,
    start: datetime,
    end: datetime,
    every_s: float,
    fields: Callable[[datetime, int], dict[str, Any]] | None = None,
    **static: Any,
) -> list[Event]:
    """One event every `every_s` seconds in [start, end); `fields(ts, n)` varies each one."""
    events: list[Event] = []
    moment, n = start, 0
    while moment < end:
        data = {**static, **(fields(moment, n) if fields else {})}
        if "cost_usd" in data and not isinstance(data["cost_usd"], Decimal):
            data["cost_usd"] = Decimal(str(round(float(data["cost_usd"]), 10)))
        events.append(event_build(timestamp=moment, received_at=moment, **data))
        moment += timedelta(seconds=every_s)
        n += 1
    return events


def load(events: list[Event]) -> None:
    """Insert (marking hours dirty) and build the rollups, as ingestion + the rollup job do."""
    events_insert(events)
    dirty_hours_process(max_hours=100_000, time_budget_s=3600)


def seeded(seed: int) -> random.Random:
    return random.Random(seed)
