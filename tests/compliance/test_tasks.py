"""Compliance tasks: names, queue, beat entries, and a real worker building an export."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.test import override_settings
from django.utils import timezone
from django_tenants.utils import schema_context, tenant_context

from compliance import tasks
from compliance.bundle_verify import verify_bundle
from compliance.evidence import evidence_export_request, export_file_path
from compliance.models import ChainCheckpoint, ChainVerification, EvidenceExport
from compliance.services import audit_record
from core.celery import app
from core.db import tenant_connection
from core.request_context import acting_as


def test_task_names_queue_and_beat_entries():
    names = [
        "compliance.checkpoint_chains",
        "compliance.verify_chains",
        "compliance.retention_sweep",
        "compliance.build_evidence_export",
        "compliance.verify_chain",
    ]
    for name in names:
        assert name in app.tasks
        assert app.amqp.router.route({}, name)["queue"].name == "compliance"
    beat: dict[str, Any] = {str(e["task"]): e for e in settings.CELERY_BEAT_SCHEDULE.values()}
    assert beat["compliance.checkpoint_chains"]["schedule"] <= 3600
    assert beat["compliance.verify_chains"]["schedule"] == 86400
    fanned = [e for e in settings.CELERY_BEAT_SCHEDULE.values() if e.get("args")]
    assert ["compliance.retention_sweep"] in [e["args"] for e in fanned]


@pytest.mark.django_db
def test_periodic_task_bodies(tenant, signing_key):
    audit_record(tenant_slug=tenant.schema_name, action="thing.changed", object_type="thing")
    assert tasks.checkpoint_chains() >= 1
    assert ChainCheckpoint.objects.filter(chain=tenant.schema_name).exists()
    before = ChainVerification.objects.count()
    assert tasks.verify_chains() >= 0
    assert ChainVerification.objects.count() > before
    with tenant_context(tenant):
        assert tasks.retention_sweep() >= 0


def test_a_worker_builds_the_export_in_the_requesting_tenant(
    session_tenants, committed_db, signing_key
):
    """Sent from the tenant's schema after commit, run by a worker on the compliance queue."""
    alpha = session_tenants["alpha"]
    now = timezone.now()
    try:
        with start_worker(
            app, perform_ping_check=False, queues=["compliance"], pool="solo", shutdown_timeout=10
        ):
            with tenant_context(alpha), acting_as("worker-test officer"):
                export = evidence_export_request(
                    period_start=now - timedelta(hours=1), period_end=now + timedelta(hours=1)
                )
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                with schema_context(alpha.schema_name):
                    status = EvidenceExport.objects.get(pk=export.pk).status
                if status in ("done", "failed"):
                    break
                time.sleep(0.2)
        with schema_context(alpha.schema_name):
            export = EvidenceExport.objects.get(pk=export.pk)
        assert export.status == "done", export.message
        path = export_file_path(export, tenant_slug=alpha.schema_name)
        assert path is not None
        assert verify_bundle(str(path)).ok
    finally:
        tenant_connection().set_schema_to_public()


@pytest.mark.django_db
def test_checkpoint_task_without_a_key_logs_the_fix(tmp_path, caplog):
    with override_settings(VIGIL_SIGNING_KEY_PATH=tmp_path / "absent.pem"):
        assert tasks.checkpoint_chains() == 0
    assert "create_signing_key" in caplog.text
