"""Billing benchmark: closing a month, month-to-date, meters and streaming exports.

Inserts about N demo events for one past month (COPY), builds the rollups, then
times: chargeback from raw events (the close path) and from rollups (the page),
statement_close, hourly meter amounts for the month, and the raw cost-line
exports (CSV streamed, XLSX write-only) with the process's peak memory.
Everything runs in one transaction that is rolled back. Point DATABASE_URL at a
scratch or test database with a migrated tenant (default `alpha`).

Usage:  DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test_vigil_billing \\
        .venv/bin/python benchmarks/billing.py [--events 200000] [--tenant alpha]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "core.settings")

import django

django.setup()

from django.db import transaction  # noqa: E402
from django_tenants.utils import tenant_context  # noqa: E402

from billing.exports.services import cost_lines_export, statement_export  # noqa: E402
from billing.ratecards.services import rate_card_create  # noqa: E402
from billing.statements.compute import chargeback_compute, day_start  # noqa: E402
from billing.statements.services import statement_close  # noqa: E402
from billing.stripe.meters import hourly_micros  # noqa: E402
from core.request_context import acting_as  # noqa: E402
from metrics.demo_traffic import generate_bulk_traffic  # noqa: E402
from metrics.rollups.services import dirty_hours_process  # noqa: E402
from tenants.models import Tenant  # noqa: E402

MONTH = date(2026, 10, 1)
END = date(2026, 11, 1)


T = TypeVar("T")


class Rollback(Exception):
    pass


def timed(label: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    began = time.perf_counter()
    result = fn(*args, **kwargs)
    print(f"{label:<52} {time.perf_counter() - began:8.2f} s")
    return result


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--tenant", default="alpha")
    args = parser.parse_args()
    tenant = Tenant.objects.get(schema_name=args.tenant)
    period: dict[str, Any] = {"tenant": tenant, "start": MONTH, "end": END}
    try:
        with transaction.atomic(), acting_as("benchmark"):
            n = timed(
                f"insert ~{args.events:,} events (COPY)",
                generate_bulk_traffic,
                tenant,
                events=args.events,
                days=31,
                now=day_start(END) - timedelta(hours=1),
            )
            with tenant_context(tenant):
                timed("build hourly rollups", dirty_hours_process, max_hours=100_000,
                      time_budget_s=3600)  # fmt: skip
            rate_card_create(
                tenant=tenant,
                effective_from=date(2000, 1, 1),
                mode="per_token",
                prices={"*": {"input": "0.5", "output": "1.5"}},
                minimum_usd="100",
            )
            cb = timed("chargeback of the month from raw events", chargeback_compute, **period)
            timed("chargeback of the month from rollups", chargeback_compute, **period,
                  source="rollups")  # fmt: skip
            statement = timed(
                "statement_close (raw events, lines, audit)",
                statement_close,
                tenant=tenant,
                month=MONTH,
                now=datetime(2026, 11, 2, tzinfo=UTC),
            )
            timed("hourly meter amounts for the month", hourly_micros, tenant=tenant,
                  start=day_start(MONTH), end=day_start(END))  # fmt: skip
            print(f"  {n:,} events inserted, {cb.requests:,} in the month, "
                  f"{len(cb.lines)} statement lines, total {statement.total_charge}")  # fmt: skip

            export = statement_export(statement=statement, fmt="csv")
            size = timed("statement CSV export", lambda: sum(len(c) for c in export.chunks or []))
            print(f"  {size:,} bytes")
            before = peak_mb()
            export = cost_lines_export(fmt="csv", **period)
            began = time.perf_counter()
            size = sum(len(c) for c in export.chunks or [])
            spent = time.perf_counter() - began
            print(f"{'raw cost lines CSV (streamed)':<52} {spent:8.2f} s  "
                  f"{cb.requests / spent:,.0f} rows/s, {size / 1e6:,.1f} MB, "
                  f"peak RSS {before:.0f} -> {peak_mb():.0f} MB")  # fmt: skip
            began = time.perf_counter()
            export = cost_lines_export(fmt="xlsx", **period)
            spent = time.perf_counter() - began
            if export.handle is not None:
                export.handle.seek(0, 2)
                print(f"{'raw cost lines XLSX (write-only)':<52} {spent:8.2f} s  "
                      f"{cb.requests / spent:,.0f} rows/s, {export.handle.tell() / 1e6:,.1f} MB, "
                      f"peak RSS {peak_mb():.0f} MB")  # fmt: skip
            raise Rollback
    except Rollback:
        print("rolled back")


if __name__ == "__main__":
    main()
