"""The write path: COPY a batch into a temporary stage, then one INSERT ... ON CONFLICT.

`INSERT ... SELECT ... ORDER BY event_id ON CONFLICT (event_id) DO NOTHING
RETURNING event_id` answers which events are new. Two transactions writing the
same event id serialise on the unique index: the second waits for the first
to commit and then skips the row, so concurrent retries store each event
once. Ordering by event_id makes every batch take its row locks in the same
order, so overlapping batches cannot deadlock.

The stage is a per-connection temporary table (pg_temp, invisible to other
sessions), created once per connection and emptied before every batch. Its
name carries a hash of the column list so a deploy that changes the columns
never reuses a stale stage on a long-lived connection.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from django.db import connection

COLUMNS: tuple[str, ...] = (
    "event_id",
    "timestamp",
    "received_at",
    "feature",
    "endpoint",
    "query_type",
    "customer",
    "user_id",
    "session_id",
    "environment",
    "release",
    "content_category",
    "trace_id",
    "span_id",
    "parent_span_id",
    "provider",
    "model",
    "response_model",
    "input_tokens",
    "output_tokens",
    "cached_input_tokens",
    "reasoning_tokens",
    "cost_usd",
    "cost_source",
    "price_version",
    "latency_ms",
    "time_to_first_token_ms",
    "status",
    "error_type",
    "retries",
    "fallback_used",
    "fallback_from",
    "refused",
    "policy_violations",
    "violation_count",
    "scores",
    "retrieval",
    "input",
    "output",
    "content_expires_at",
    "is_tail",
    "is_sampled",
    "attributes",
)
JSON_COLUMNS = frozenset({"policy_violations", "scores", "retrieval", "attributes"})
_COLS = ", ".join(f'"{name}"' for name in COLUMNS)
STAGE = "pg_temp.vigil_ingest_stage_" + hashlib.sha1(_COLS.encode()).hexdigest()[:10]  # noqa: S324


def events_copy_insert(rows: Sequence[Sequence[Any]]) -> set[str]:
    """Insert rows (values in COLUMNS order, JSON columns as text); return the new event ids.

    Runs in the current schema and transaction; the caller owns the transaction.
    """
    if not rows:
        return set()
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {STAGE} AS "  # noqa: S608
            f"SELECT {_COLS} FROM metrics_event WITH NO DATA"
        )
        cursor.execute(f"TRUNCATE {STAGE}")
        with cursor.cursor.copy(f"COPY {STAGE} ({_COLS}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(
            f"INSERT INTO metrics_event ({_COLS}) SELECT {_COLS} FROM {STAGE} "  # noqa: S608
            "ORDER BY event_id ON CONFLICT (event_id) DO NOTHING RETURNING event_id"
        )
        return {event_id for (event_id,) in cursor.fetchall()}
