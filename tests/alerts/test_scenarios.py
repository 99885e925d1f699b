"""The four scenarios of issue 5, on replayed traffic, evaluated minute by minute with an
explicit `now` (no sleeping); notifications go to a local SMTP server and webhook receiver."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django_tenants.utils import tenant_context

from alerts.channels.services import channel_create
from alerts.evaluation.engine import evaluate_tenant
from alerts.incidents.models import Incident, Notification
from alerts.rules.services import alert_rule_create, alert_rules_create_defaults
from tests.alerts.traffic import load, seeded, traffic

DAY = datetime(2026, 10, 14, tzinfo=UTC)  # a Wednesday


@pytest.fixture
def channels(tenant: Any, smtp_server: Any, webhook_server: Any) -> Iterator[list[int]]:
    with tenant_context(tenant):
        email = channel_create(name="on-call mail", kind="email", target="oncall@alpha.test")
        hook = channel_create(name="pager hook", kind="webhook", target=webhook_server.url)
        webhook_server.secret = hook.secret
        yield [email.pk, hook.pk]


@pytest.fixture
def run(
    tenant: Any, celery_eager: None, django_capture_on_commit_callbacks: Callable[..., Any]
) -> Callable[..., list[Any]]:
    def evaluate(
        start: datetime, end: datetime, step: timedelta = timedelta(minutes=1)
    ) -> list[Any]:
        results = []
        moment = start
        with tenant_context(tenant):
            while moment <= end:
                with django_capture_on_commit_callbacks(execute=True):
                    results.append(evaluate_tenant(now=moment, gap=step + timedelta(minutes=1)))
                moment += step
        return results

    return evaluate


def _shape(hour: int) -> float:
    """Diurnal spend shape: quiet nights, busy days."""
    return 0.3 + 0.7 * max(0.0, math.sin(math.pi * (hour - 6) / 14)) if 6 <= hour <= 20 else 0.3


def test_a_spend_above_projection_fires_the_same_morning(
    tenant: Any,
    channels: list[int],
    run: Callable[..., list[Any]],
    smtp_server: Any,
    webhook_server: Any,
) -> None:
    overrun_from = DAY + timedelta(hours=10)

    def search_cost(ts: datetime, n: int) -> dict[str, Any]:
        factor = 1.3 if ts >= overrun_from else 1.0
        return {"cost_usd": 0.01 * _shape(ts.hour) * factor}

    def chat_cost(ts: datetime, n: int) -> dict[str, Any]:
        return {"cost_usd": 0.004 * _shape(ts.hour)}

    events = []
    for week in range(5):  # four same weekdays of history, then the day itself until noon
        day = DAY - timedelta(days=7 * week)
        end = day + (timedelta(hours=12) if week == 0 else timedelta(days=1))
        events += traffic(start=day, end=end, every_s=120, feature="search", fields=search_cost)
        events += traffic(start=day, end=end, every_s=120, feature="chat", fields=chat_cost)
    with tenant_context(tenant):
        load(events)
        alert_rules_create_defaults(channel_ids=channels)

    run(DAY + timedelta(hours=9, minutes=30), DAY + timedelta(hours=11, minutes=59))

    with tenant_context(tenant):
        incidents = list(Incident.objects.filter(metric="spend_vs_projection"))
        assert [(i.split_key, i.severity) for i in incidents] == [("search", "warning")]
        opened = incidents[0].opened_at
        assert overrun_from < opened < DAY + timedelta(hours=12)  # the same morning
        assert 20 < (incidents[0].value or 0) < 50
        assert not Incident.objects.exclude(metric="spend_vs_projection").exists()
        sent = Notification.objects.filter(incident=incidents[0], status="sent")
        assert sorted(sent.values_list("channel__kind", flat=True)) == ["email", "webhook"]
    assert any("Daily spend above projection" in m["data"] for m in smtp_server.messages)
    assert [b["incident"]["split_key"] for b in webhook_server.received] == ["search"]
    assert webhook_server.bad_signatures == 0


def test_b_slow_path_raises_p99_but_not_p50(
    tenant: Any, channels: list[int], run: Callable[..., list[Any]], webhook_server: Any
) -> None:
    start = DAY + timedelta(hours=14)
    rng = seeded(2)

    def latency(ts: datetime, n: int) -> dict[str, Any]:
        slow = n % 50 == 7  # 2% of calls take the slow path
        ms = 4000 + rng.uniform(-100, 100) if slow else 200 + rng.uniform(-20, 20)
        return {"latency_ms": ms, "endpoint": "/v1/search/slow" if slow else "/v1/search"}

    with tenant_context(tenant):
        load(
            traffic(
                start=start,
                end=start + timedelta(minutes=40),
                every_s=1.5,
                feature="search",
                fields=latency,
            )
        )
        common = {
            "window_minutes": 15,
            "for_evaluations": 3,
            "min_samples": 50,
            "comparison": "gt",
            "split_by": "feature",
        }
        p99 = alert_rule_create(
            data={
                **common,
                "name": "p99 over 2 s",
                "metric": "latency_p99",
                "warning_threshold": 2000,
            },
            channel_ids=channels,
        )
        p50 = alert_rule_create(
            data={
                **common,
                "name": "p50 over 1 s",
                "metric": "latency_p50",
                "warning_threshold": 1000,
            },
            channel_ids=channels,
        )

    run(start + timedelta(minutes=16), start + timedelta(minutes=30))

    with tenant_context(tenant):
        fired = list(Incident.objects.filter(rule=p99))
        assert [(i.split_key, i.status) for i in fired] == [("search", "open")]
        assert 3800 < (fired[0].value or 0) < 4200
        assert not Incident.objects.filter(rule=p50).exists()
        states = {s.rule_id: s for s in p50.states.all()}
        assert not states  # the p50 rule never left "ok"
    assert [b["incident"]["rule"] for b in webhook_server.received] == ["p99 over 2 s"]


def test_c_provider_outage_fires_once_and_resolves(
    tenant: Any,
    channels: list[int],
    run: Callable[..., list[Any]],
    smtp_server: Any,
    webhook_server: Any,
) -> None:
    start = DAY + timedelta(hours=8)
    outage = (start + timedelta(minutes=60), start + timedelta(minutes=90))
    rng = seeded(3)

    def call(ts: datetime, n: int) -> dict[str, Any]:
        if outage[0] <= ts < outage[1]:
            roll = rng.random()
            if roll < 0.4:
                return {"provider": "openai", "status": "error", "error_type": "503"}
            if roll < 0.9:
                return {
                    "provider": "anthropic",
                    "model": "claude-3-5-haiku",
                    "fallback_used": True,
                    "fallback_from": "gpt-4o-mini",
                }
        return {"provider": "openai"}

    with tenant_context(tenant):
        load(
            traffic(
                start=start, end=start + timedelta(hours=3), every_s=3, feature="chat", fields=call
            )
        )
        alert_rules_create_defaults(channel_ids=channels)

    run(start + timedelta(minutes=30), start + timedelta(minutes=150))

    with tenant_context(tenant):
        by_rule: dict[str, list[Incident]] = {}
        for incident in Incident.objects.all():
            by_rule.setdefault(incident.rule_name, []).append(incident)
        assert set(by_rule) == {"Provider availability drop", "Fallback surge", "Error rate surge"}
        for name in ("Provider availability drop", "Fallback surge"):
            (incident,) = by_rule[name]  # once, not once a minute
            assert incident.status == "resolved" and incident.resolution == "auto"
            assert outage[0] < incident.opened_at < outage[0] + timedelta(minutes=10)
            assert incident.resolved_at is not None
            assert outage[1] < incident.resolved_at < outage[1] + timedelta(minutes=20)
            kinds = list(
                Notification.objects.filter(incident=incident).values_list("kind", flat=True)
            )
            # Mail + webhook each: opened once, at most one escalation to critical, resolved.
            assert kinds.count("opened") == kinds.count("resolved") == 2
            assert kinds.count("escalated") <= 2 and "repeat" not in kinds
        assert by_rule["Provider availability drop"][0].split_key == "openai"
    events = [(b["type"], b["incident"]["rule"]) for b in webhook_server.received]
    for name in ("Provider availability drop", "Fallback surge"):
        assert events.count(("incident.opened", name)) == 1
        assert events.count(("incident.resolved", name)) == 1
    assert len(smtp_server.messages) == len(webhook_server.received)


def test_d_a_month_of_normal_traffic_fires_nothing(
    tenant: Any,
    channels: list[int],
    run: Callable[..., list[Any]],
    webhook_server: Any,
    smtp_server: Any,
) -> None:
    rng = seeded(4)
    end = DAY + timedelta(hours=18)
    start = end - timedelta(days=30)

    def normal(ts: datetime, n: int) -> dict[str, Any]:
        weekday = 0.6 if ts.weekday() >= 5 else 1.0
        fields: dict[str, Any] = {
            "cost_usd": 0.01 * _shape(ts.hour) * weekday * rng.uniform(0.8, 1.2),
            "latency_ms": rng.lognormvariate(math.log(300), 0.4),
            "feature": "search" if n % 3 else "chat",
        }
        roll = rng.random()
        if roll < 0.005:
            fields["status"] = "error"
        elif roll < 0.015:
            fields.update(provider="anthropic", fallback_used=True, fallback_from="gpt-4o-mini")
        return fields

    with tenant_context(tenant):
        load(traffic(start=start, end=end, every_s=60, fields=normal))
        alert_rules_create_defaults(channel_ids=channels)

    # The last week every half hour (the `for` counters follow that cadence), then the
    # last two hours minute by minute.
    results = run(end - timedelta(days=7), end - timedelta(hours=2), step=timedelta(minutes=30))
    results += run(end - timedelta(hours=2) + timedelta(minutes=1), end)
    assert sum(r.rules for r in results) == 7 * len(results)
    assert sum(r.opened for r in results) == 0
    with tenant_context(tenant):
        assert list(Incident.objects.values_list("rule_name", "split_key", "opened_at")) == []
    assert webhook_server.received == [] and smtp_server.messages == []
