"""Celery end to end: beat's fan-out sends one task per active tenant, run in its schema."""

from __future__ import annotations

from celery.contrib.testing.worker import start_worker
from django.core.cache import cache
from django.utils import timezone
from django_tenants.utils import schema_context

from core.celery import app
from core.db import tenant_connection
from core.tasks import fan_out_to_tenants
from tenants.models import Tenant
from tenants.services import HEARTBEAT_CACHE_PREFIX


def test_queues_per_concern_and_time_limits(settings):
    assert {"ingest", "rollup", "alerts", "quality", "billing", "compliance"} <= set(
        settings.VIGIL_QUEUES
    )
    assert app.conf.task_time_limit and app.conf.task_soft_time_limit
    assert app.amqp.router.route({}, "compliance.anything")["queue"].name == "compliance"
    assert app.amqp.router.route({}, "alerts.evaluate")["queue"].name == "alerts"


def test_fan_out_runs_task_in_every_active_tenant_schema(session_tenants, committed_db):
    with schema_context("public"):
        for slug in ("alpha", "beta"):
            cache.delete(HEARTBEAT_CACHE_PREFIX + slug)
    Tenant.objects.filter(schema_name="beta").update(status="suspended")
    started = timezone.now().isoformat()
    try:
        with start_worker(
            app, perform_ping_check=False, queues=["default"], pool="solo", shutdown_timeout=10
        ):
            sent = fan_out_to_tenants("tenants.record_heartbeat")
            assert (
                sent == Tenant.objects.filter(status="active").exclude(schema_name="public").count()
            )
            deadline = timezone.now().timestamp() + 20
            while timezone.now().timestamp() < deadline:
                with schema_context("public"):
                    if cache.get(HEARTBEAT_CACHE_PREFIX + "alpha"):
                        break
        with schema_context("public"):
            alpha_beat = cache.get(HEARTBEAT_CACHE_PREFIX + "alpha")
            beta_beat = cache.get(HEARTBEAT_CACHE_PREFIX + "beta")
        assert alpha_beat is not None and alpha_beat >= started
        assert beta_beat is None  # suspended tenants get no tasks
    finally:
        Tenant.objects.filter(schema_name="beta").update(status="active")
        tenant_connection().set_schema_to_public()
