"""A worker SIGKILLed in the middle of a rollup or of an evidence export; the re-run is
correct (issue 9, fault c).

The rollup rebuilds an hour as delete + insert in one transaction and clears the hour's
dirty mark in that same transaction, so a worker that dies half-way leaves the old rows
and the mark: the next run rebuilds the hour from the raw events. To kill it at a known
point (not at a lucky moment), the test holds a row lock on one of the hour's rollup rows,
so the worker's DELETE stops half-way inside its transaction; then it is killed.

An evidence export writes a hidden `.partial` file and renames it only when complete; a
worker killed after the first table leaves the export `running` and the partial file, and
the task run again (Celery redelivers it: acks_late + reject_on_worker_lost) produces a
bundle that verifies.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from compliance.bundle_verify import verify_bundle
from compliance.evidence.build import evidence_export_build
from compliance.evidence.requests import export_file_path, exports_dir
from compliance.models import EvidenceExport, ExportStatus
from compliance.signing import generate_signing_key
from metrics.demo_traffic import event_build, events_insert
from metrics.models import DirtyHour, Event
from metrics.rollups.services import dirty_hours_process
from tenants.models import Tenant
from tests.faults.conftest import delete_events
from tests.faults.support import (
    ROOT,
    database_url,
    rolled_requests,
    rollup_mismatches,
    wait_until,
)

pytestmark = pytest.mark.usefixtures("committed_db")


def _python(code: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """A Django process on the test database running `code` (a worker stand-in)."""
    prelude = "import django; django.setup()\n"
    return subprocess.Popen(
        [sys.executable, "-c", prelude + code],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "core.settings",
            "DATABASE_URL": database_url(),
            "LOG_LEVEL": "CRITICAL",
            **(env or {}),
        },
        stdout=subprocess.PIPE,
        text=True,
    )


def _blocked_rollup_delete(dbname: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND wait_event_type = "
            "'Lock' AND query LIKE 'DELETE FROM metrics_hourlyrollup%%'",
            [dbname],
        )
        return bool(cursor.fetchone()[0])


def test_rollup_killed_mid_hour_is_rebuilt_exactly(session_tenants: dict[str, Tenant]) -> None:
    tenant = Tenant.objects.get(schema_name="alpha")
    feature = f"fault-kill-{uuid.uuid4().hex[:8]}"
    hour = datetime.now(tz=UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)
    models = ["gpt-4o-mini", "claude-3-5-sonnet-20241022", "x-1"]

    def events(count: int, offset: int) -> list[Any]:
        return [
            event_build(
                feature=feature,
                model=models[n % 3],
                timestamp=hour + timedelta(seconds=(offset + n) % 3600),
                input_tokens=n,
                status="error" if n % 7 == 0 else "ok",
            )
            for n in range(count)
        ]

    blocker: psycopg.Connection[Any] | None = None
    try:
        with tenant_context(tenant):
            events_insert(events(600, 0))
            dirty_hours_process(max_hours=100_000)
            assert rollup_mismatches([feature]) == []
            events_insert(events(400, 600))  # late events: the hour is dirty again
            assert rollup_mismatches([feature])  # the rollup is behind the raw events

        # Hold one of the hour's rollup rows so the worker's DELETE waits half-way.
        params = connection.get_connection_params()
        blocker = psycopg.connect(**params)
        blocker.execute("SET search_path TO alpha")
        blocker.execute(
            "SELECT 1 FROM metrics_hourlyrollup WHERE hour = %s AND feature = %s "
            "ORDER BY id LIMIT 1 FOR UPDATE",
            [hour, feature],
        )
        worker = _python(
            "from django_tenants.utils import schema_context\n"
            "from metrics.rollups.services import dirty_hours_process\n"
            "with schema_context('alpha'):\n"
            "    dirty_hours_process(max_hours=100_000)\n"
        )
        dbname = str(connection.settings_dict["NAME"])
        wait_until(lambda: _blocked_rollup_delete(dbname), timeout_s=60, what="the worker's DELETE")
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(10)
        blocker.rollback()  # the dead worker's backend finishes its statement, then aborts

        with tenant_context(tenant):
            # Nothing half-done is visible: the old rows (600 events), the hour still dirty.
            assert rolled_requests([feature]) == 600
            assert Event.objects.filter(feature=feature).count() == 1000
            assert DirtyHour.objects.filter(hour=hour).exists()
            rerun = _python(
                "from django_tenants.utils import schema_context\n"
                "from metrics.rollups.services import dirty_hours_process\n"
                "with schema_context('alpha'):\n"
                "    print(dirty_hours_process(max_hours=100_000).hours)\n"
            )
            assert rerun.wait(120) == 0
            assert rollup_mismatches([feature]) == []
            assert rolled_requests([feature]) == 1000
            assert not DirtyHour.objects.filter(hour=hour).exists()
    finally:
        if blocker is not None:
            blocker.close()
        delete_events(tenant, feature)


def test_evidence_export_killed_mid_build_completes_on_rerun(
    session_tenants: dict[str, Tenant], tmp_path: Path, settings: Any
) -> None:
    tenant = Tenant.objects.get(schema_name="alpha")
    key_path = tmp_path / "signing_key.pem"
    generate_signing_key(path=key_path)
    settings.VIGIL_SIGNING_KEY_PATH = key_path
    settings.VIGIL_DATA_DIR = tmp_path / "data"
    env = {"VIGIL_SIGNING_KEY_PATH": str(key_path), "VIGIL_DATA_DIR": str(tmp_path / "data")}
    with tenant_context(tenant):
        export = EvidenceExport.objects.create(
            requested_by_id="faults",
            requested_by_label="fault tests",
            period_start=timezone.now() - timedelta(days=30),
            period_end=timezone.now() + timedelta(minutes=5),
            created_at=timezone.now(),
        )
    try:
        # The worker writes the first table, says so, and is killed before it finishes.
        worker = _python(
            "import sys, time\n"
            "from django_tenants.utils import schema_context\n"
            "from compliance.evidence import zipwriter\n"
            "from compliance.evidence.build import evidence_export_build\n"
            "original = zipwriter.BundleWriter.add_table\n"
            "def first_then_hang(self, *args, **kwargs):\n"
            "    written = original(self, *args, **kwargs)\n"
            "    print('TABLE', flush=True)\n"
            "    time.sleep(600)\n"
            "    return written\n"
            "zipwriter.BundleWriter.add_table = first_then_hang\n"
            f"with schema_context('alpha'):\n"
            f"    evidence_export_build(export_id={export.pk})\n",
            env,
        )
        assert worker.stdout is not None
        assert worker.stdout.readline().strip() == "TABLE"
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(10)

        with tenant_context(tenant):
            export.refresh_from_db()
            assert export.status == ExportStatus.RUNNING and not export.file_name
            assert list(exports_dir("alpha").glob(".*.partial"))  # the dead worker's leftover

            done = evidence_export_build(export_id=export.pk)  # the redelivered task
            assert done.status == ExportStatus.DONE, done.message
            assert not list(exports_dir("alpha").glob(".*.partial"))  # no leftover
            path = export_file_path(done, tenant_slug="alpha")
            assert path is not None
            report = verify_bundle(str(path), trusted_public_key_pem=None)
            assert report.problems == []
            assert done.counts["audit_entries"] > 0
    finally:
        with tenant_context(tenant):
            EvidenceExport.objects.filter(pk=export.pk).delete()
