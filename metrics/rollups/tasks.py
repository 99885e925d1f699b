"""Celery entry points of the rollup queue (task names start with "metrics.rollup.")."""

from __future__ import annotations

from celery import shared_task

from metrics.rollups.services import dirty_hours_process


@shared_task(name="metrics.rollup.process_dirty_hours", time_limit=300, soft_time_limit=270)
def process_dirty_hours() -> int:
    """Runs in each tenant's schema every minute (beat fan-out): rebuild its dirty hours.

    Safe to run twice: a second worker waits on the hour's lock and rebuilds the
    same result. After an outage the dirty hours have simply piled up; each run
    works through them newest first within its time budget.
    """
    return dirty_hours_process(max_hours=2000, time_budget_s=240).hours
