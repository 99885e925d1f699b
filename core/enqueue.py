"""Send a Celery task from a request without making the broker part of the answer.

A page that saved its change must not turn into a server error because Redis is
unreachable when the follow-up task is sent (after the commit). Each caller's
work is either picked up again by a periodic job (billing sends pending credits
and adjustments daily, chains are verified daily) or visible as pending on its
page where it can be retried; the failure is logged for operators.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)

# Publishing retries would hold the request while the broker is down; fail at once.
NO_RETRY: dict[str, Any] = {"retry": False}


def enqueue(task: Any, *args: Any, **options: Any) -> bool:
    """`task.apply_async(args, **options)`; False (and an error log) if the broker is down."""
    try:
        task.apply_async(args=args, **{**NO_RETRY, **options})
    except (OperationalError, OSError) as exc:
        logger.error("Could not queue %s%r: %s", getattr(task, "name", task), args, exc)
        return False
    return True


def enqueue_on_commit(task: Any, *args: Any, **options: Any) -> None:
    """`enqueue` once the current transaction commits (now, outside one)."""
    transaction.on_commit(lambda: enqueue(task, *args, **options))
