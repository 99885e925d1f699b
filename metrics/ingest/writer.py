"""The write path: COPY a batch into metrics_event; on a duplicate id, through a stage.

Normally a batch holds only new events and one COPY stores it. A retry (an id
already stored, or being stored by a concurrent request) makes the COPY fail
on the unique index; its savepoint is rolled back and the batch goes through a
per-connection temporary stage with `INSERT ... SELECT ... ON CONFLICT
(event_id) DO NOTHING RETURNING event_id`, which answers which events are new.
Two transactions writing the same event id serialise on the unique index: the
second waits for the first to commit and then skips (or fails over to the
stage path), so concurrent retries store each event once. Both paths write in
event_id order, so overlapping batches take their locks in the same order and
cannot deadlock.

The stage lives in pg_temp (invisible to other sessions), is created once per
connection and emptied before every use. Its name carries a hash of the column
list so a deploy that changes the columns never reuses a stale stage.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from operator import itemgetter
from typing import Any

from django.db import IntegrityError, connection, transaction

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
    Fast path: COPY straight into metrics_event inside a savepoint. When an id is
    already stored (a retry) the unique index refuses the COPY, the savepoint is
    rolled back and the stage path sorts new from duplicate. Rows go in event_id
    order (code points, = COLLATE "C") on both paths, so batches never deadlock.
    """
    if not rows:
        return set()
    ordered = sorted(rows, key=itemgetter(0))
    try:
        with (
            transaction.atomic(),
            connection.cursor() as cursor,
            connection.wrap_database_errors,  # raw psycopg errors -> django.db errors
            cursor.cursor.copy(f"COPY metrics_event ({_COLS}) FROM STDIN") as copy,
        ):
            for row in ordered:
                copy.write_row(row)
    except IntegrityError:
        return _insert_via_stage(ordered)
    return {str(row[0]) for row in ordered}


def _insert_via_stage(rows: Sequence[Sequence[Any]]) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {STAGE} AS "  # noqa: S608
            f"SELECT {_COLS} FROM metrics_event WITH NO DATA"
        )
        cursor.execute(f"TRUNCATE {STAGE}")
        with (
            connection.wrap_database_errors,
            cursor.cursor.copy(f"COPY {STAGE} ({_COLS}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
        cursor.execute(
            f"INSERT INTO metrics_event ({_COLS}) SELECT {_COLS} FROM {STAGE} "  # noqa: S608
            'ORDER BY event_id COLLATE "C" ON CONFLICT (event_id) DO NOTHING RETURNING event_id'
        )
        return {event_id for (event_id,) in cursor.fetchall()}
