"""Redis (broker and cache) down: ingestion keeps answering 2xx and stores durably; when the
broker returns, the periodic sweeps catch up (issue 9, fault b).

Ingestion sends no task: it marks the hours it touched dirty in PostgreSQL, in the same
transaction as the events, and flags events for grading there too. The only Redis call on
the ingest path is the rate limit, which fails open with a 0.5 s timeout. So with Redis
gone nothing is lost; beat's next ticks after the outage (the fan-outs below, sent by hand
here) rebuild the rollups, evaluate the rules and grade the flagged events.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import pytest
from celery.contrib.testing.worker import start_worker
from django.test import Client
from django_tenants.utils import tenant_context
from kombu.exceptions import OperationalError

from alerts.incidents.models import Incident
from alerts.rules.models import AlertRule, AlertSettings
from core.celery import app
from core.tasks import fan_out_to_tenants
from metrics.models import DirtyHour, Event
from metrics.quality.models import Grade, GradeStatus
from tenants.models import Tenant
from tests.faults.conftest import delete_events
from tests.faults.support import RedisServer, rolled_requests, rollup_mismatches, wait_until

QUEUES = ["default", "rollup", "alerts", "quality"]


def _batch(feature: str, count: int) -> bytes:
    moment = datetime.now(tz=UTC) - timedelta(minutes=5)
    events: list[dict[str, Any]] = [
        {
            "event_id": f"{feature}-{n}",
            "timestamp": (moment + timedelta(seconds=n)).isoformat(),
            "feature": feature,
            "model": "gpt-4o-mini",
            "input_tokens": 100 + n,
            "output_tokens": 20,
            "status": "error" if n % 10 == 0 else "ok",
        }
        for n in range(count)
    ]
    for event in events[:3]:  # flagged for review: always sampled, so graded
        event["attributes"] = {"review": True}
        event["input"] = "What is the refund window for annual plans?"
        event["output"] = "Annual plans can be refunded within 30 days of purchase."
    return msgspec.json.encode({"events": events})


@pytest.mark.usefixtures("committed_db")
def test_ingest_while_redis_is_down_then_everything_catches_up(
    private_broker: RedisServer, committed_key: str, session_tenants: dict[str, Tenant]
) -> None:
    tenant = Tenant.objects.get(schema_name="alpha")
    feature = f"fault-broker-{uuid.uuid4().hex[:8]}"
    client = Client(HTTP_AUTHORIZATION=f"Bearer {committed_key}")
    with tenant_context(tenant):
        # The worker's first evaluation creates alpha's default rules (committed): noted
        # here so that they are removed again and later tests find alpha as they expect.
        rules_before = set(AlertRule.objects.values_list("pk", flat=True))
        had_alert_settings = AlertSettings.objects.exists()
    minute = datetime.now(tz=UTC).replace(second=0, microsecond=0)
    try:
        # Redis is down: the batch is stored and answered as usual.
        response = client.post("/api/v1/events", _batch(feature, 200), "application/json")
        assert response.status_code == 200, response.content
        assert response.json()["accepted"] == 200
        with tenant_context(tenant):
            assert Event.objects.filter(feature=feature).count() == 200
            assert DirtyHour.objects.exists()
            assert rolled_requests([feature]) == 0  # nothing has rolled it up yet
        # Beat's fan-out cannot send while the broker is down: it fails (and the next tick,
        # a minute later, sends again), it does not hang the caller.
        with pytest.raises(OperationalError):
            fan_out_to_tenants("metrics.rollup.process_dirty_hours")

        # The broker returns: beat's next ticks, a worker on the queues.
        private_broker.start()
        with start_worker(
            app, queues=QUEUES, pool="solo", perform_ping_check=False, shutdown_timeout=30
        ):
            fan_out_to_tenants.delay("metrics.rollup.process_dirty_hours")
            app.send_task("alerts.evaluate_all")
            fan_out_to_tenants.delay("metrics.quality.grade_pending")

            state: dict[str, Any] = {}

            def caught_up() -> bool:
                with tenant_context(tenant):
                    state["rolled up"] = rolled_requests([feature])
                    state["rules evaluated"] = AlertRule.objects.filter(
                        enabled=True, last_evaluated_at__gte=minute
                    ).count()
                    state["graded"] = (
                        Grade.objects.filter(feature=feature)
                        .exclude(status=GradeStatus.PENDING)
                        .count()
                    )
                return (
                    state["rolled up"] == 200 and state["rules evaluated"] and state["graded"] >= 3
                )

            try:
                wait_until(caught_up, timeout_s=120, what="rollups, alerts and grading")
            except AssertionError as exc:
                raise AssertionError(f"{exc}: {state}") from None
        with tenant_context(tenant):
            assert rollup_mismatches([feature]) == []
            assert not Grade.objects.filter(feature=feature, status=GradeStatus.FAILED).exists()
    finally:
        delete_events(tenant, feature)
        with tenant_context(tenant):
            new_rules = AlertRule.objects.exclude(pk__in=rules_before)
            Incident.objects.filter(rule__in=new_rules).delete()
            new_rules.delete()  # their states go with them
            if not had_alert_settings:
                AlertSettings.objects.all().delete()
