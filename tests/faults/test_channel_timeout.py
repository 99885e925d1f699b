"""A notification channel that never answers does not block the evaluation cycle (issue 9,
fault d).

Evaluation never calls a channel: it records the notifications and queues one delivery task
per notification after its commit (queue `alerts`). So a webhook that hangs costs one
delivery attempt of at most the channel timeout (alerts.channels.delivery.HTTP_TIMEOUT_S,
5 s; shortened here) on one worker slot, then a retry with backoff; the tenant's other
channels and other tenants' evaluations and deliveries go on. tests/alerts covers failing
receivers (503, refused connections); this is the one that accepts and never answers.
"""

from __future__ import annotations

import socket
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from celery.contrib.testing.worker import start_worker
from django_tenants.utils import tenant_context

from alerts.channels import delivery
from alerts.channels.services import channel_create
from alerts.evaluation.engine import evaluate_tenant
from alerts.incidents.models import Incident, Notification
from alerts.rules.models import AlertRule, Channel
from alerts.rules.services import alert_rule_create
from core.celery import app
from tenants.models import Tenant
from tests.alerts.conftest import WebhookSink
from tests.alerts.conftest import webhook_server as webhook_server
from tests.alerts.traffic import load, traffic
from tests.faults.conftest import delete_events
from tests.faults.support import RedisServer, wait_until

NOW = datetime.now(tz=UTC).replace(second=0, microsecond=0) - timedelta(hours=2)


class SilentServer:
    """Accepts connections, reads the request, never answers (until the test ends)."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}/hook"
        self.accepted = 0
        self.released = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.accepted += 1
            threading.Thread(target=self._hold, args=(conn,), daemon=True).start()

    def _hold(self, conn: socket.socket) -> None:
        with conn:
            conn.recv(65536)
            self.released.wait(120)

    def close(self) -> None:
        self.released.set()
        self.listener.close()


@pytest.fixture
def silent_server() -> Iterator[SilentServer]:
    server = SilentServer()
    try:
        yield server
    finally:
        server.close()


def _firing_rule(feature: str, channels: list[Channel]) -> AlertRule:
    load(
        traffic(
            start=NOW - timedelta(minutes=30),
            end=NOW,
            every_s=20,
            feature=feature,
            fields=lambda ts, n: {"status": "error"} if n % 2 == 0 else {},
        )
    )
    return alert_rule_create(
        data={
            "name": f"errors {feature}",
            "metric": "error_rate",
            "feature": feature,
            "window_minutes": 10,
            "warning_threshold": 5,
            "critical_threshold": 20,
            "for_evaluations": 1,
            "min_samples": 5,
        },
        channel_ids=[c.pk for c in channels],
    )


def _cleanup(tenant: Tenant, feature: str) -> None:
    with tenant_context(tenant):
        rules = AlertRule.objects.filter(feature=feature)
        Notification.objects.filter(incident__rule__in=rules).delete()
        Incident.objects.filter(rule__in=rules).delete()
        channel_ids = list(rules.values_list("channels", flat=True))
        rules.delete()
        Channel.objects.filter(pk__in=[c for c in channel_ids if c]).delete()
    delete_events(tenant, feature)


@pytest.mark.usefixtures("committed_db")
def test_a_hanging_webhook_does_not_hold_up_evaluation_or_other_channels(
    private_broker: RedisServer,
    silent_server: SilentServer,
    webhook_server: WebhookSink,
    session_tenants: dict[str, Tenant],
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings.VIGIL_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.VIGIL_ALERTS_CACHE_PREFIX = f"faults-{uuid.uuid4().hex}"
    monkeypatch.setattr(delivery, "HTTP_TIMEOUT_S", 1.0)
    alpha = Tenant.objects.get(schema_name="alpha")
    beta = Tenant.objects.get(schema_name="beta")
    feature = f"fault-hook-{uuid.uuid4().hex[:8]}"
    private_broker.start()
    try:
        with tenant_context(alpha):
            hanging = channel_create(name="hangs", kind="webhook", target=silent_server.url)
            answering = channel_create(name="answers", kind="webhook", target=webhook_server.url)
            webhook_server.secret = answering.secret
            alpha_rule = _firing_rule(feature, [hanging, answering])
        with tenant_context(beta):
            beta_hook = channel_create(name="beta", kind="webhook", target=webhook_server.url)
            beta_hook.secret = answering.secret
            Channel.objects.filter(pk=beta_hook.pk).update(secret=answering.secret)
            beta_rule = _firing_rule(feature, [beta_hook])

        # The evaluation cycle: both tenants evaluate and open incidents; no channel is
        # called while evaluating, so the silent server has not even been contacted.
        for tenant, rule in ((alpha, alpha_rule), (beta, beta_rule)):
            with tenant_context(tenant):
                evaluate_tenant(now=NOW)
                assert Incident.objects.filter(rule=rule).exists()
        assert silent_server.accepted == 0

        # Deliveries, two worker slots: the hanging one times out, the others arrive.
        with start_worker(
            app,
            queues=["alerts"],
            pool="threads",
            concurrency=2,
            perform_ping_check=False,
            shutdown_timeout=30,
        ):

            def delivered() -> bool:
                with tenant_context(alpha):
                    alpha_ok = Notification.objects.filter(
                        channel=answering, status="sent"
                    ).exists()
                    hang = Notification.objects.filter(channel=hanging).first()
                    timed_out = hang is not None and hang.attempts >= 1
                with tenant_context(beta):
                    beta_ok = Notification.objects.filter(channel=beta_hook, status="sent").exists()
                return alpha_ok and beta_ok and timed_out

            wait_until(delivered, timeout_s=60, what="the deliveries")
        with tenant_context(alpha):
            hang = Notification.objects.get(channel=hanging)
            assert hang.status == "pending"  # to be retried with backoff, not given up
            assert "timed out" in hang.error
            hanging.refresh_from_db()
            assert hanging.last_status == "failing"
        assert silent_server.accepted >= 1  # it was called, and never answered
        assert len(webhook_server.received) == 2  # alpha's other channel, and beta's
    finally:
        _cleanup(alpha, feature)
        _cleanup(beta, feature)
