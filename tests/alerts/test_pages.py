"""Alert pages on the tenant host and the ops console: roles, isolation, forms, no 500s."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django_tenants.utils import tenant_context

from alerts.budgets.models import Budget
from alerts.channels.services import channel_create
from alerts.incidents.models import Incident, Silence
from alerts.rules.models import AlertRule
from alerts.rules.services import alert_rule_create
from alerts.slo.models import Slo
from compliance.models import AuditEntry
from metrics.demo_traffic import event_build, events_insert

PAGES = [
    "/alerts/",
    "/alerts/?status=all",
    "/alerts/?status=bogus&page=x",
    "/alerts/rules/",
    "/alerts/rules/new/",
    "/alerts/channels/",
    "/alerts/silences/",
    "/alerts/policies/",
    "/alerts/quality/",
    "/alerts/rules/preview/?metric=latency_p95&warning_threshold=100&window_minutes=5",
    "/alerts/rules/preview/?metric=nope&window_minutes=-3&warning_threshold=abc",
]


def _rule(**extra: Any) -> AlertRule:
    data = {"name": "errors", "metric": "error_rate", "warning_threshold": 5, **extra}
    return alert_rule_create(data=data)


@pytest.fixture
def admin(tenant: Any, admin_user: Any, tenant_client: Callable[..., Any]) -> Any:
    return tenant_client(tenant, admin_user)


@pytest.mark.parametrize("path", PAGES)
def test_pages_render_for_an_admin(admin: Any, path: str) -> None:
    response = admin.get(path)
    assert response.status_code == 200, (path, response.status_code)


def test_other_tenants_user_is_refused_and_objects_are_404(
    tenant: Any,
    other_tenant: Any,
    member_factory: Callable[..., Any],
    tenant_client: Callable[..., Any],
) -> None:
    with tenant_context(tenant):
        rule = _rule()
        incident = Incident.objects.create(
            rule=rule,
            rule_name=rule.name,
            metric=rule.metric,
            severity="warning",
            opened_at=datetime.now(tz=UTC),
        )
    outsider = tenant_client(tenant, member_factory(other_tenant, "admin"))
    for path in [*PAGES, f"/alerts/incidents/{incident.pk}/", f"/alerts/rules/{rule.pk}/"]:
        assert outsider.get(path).status_code in (403, 404), path
    assert outsider.post(f"/alerts/rules/{rule.pk}/delete").status_code in (403, 404)
    # On its own host the other tenant's admin finds no such objects.
    own = tenant_client(other_tenant, member_factory(other_tenant, "admin"))
    assert own.get(f"/alerts/incidents/{incident.pk}/").status_code == 404
    assert own.get(f"/alerts/rules/{rule.pk}/").status_code == 404
    assert own.post(f"/alerts/incidents/{incident.pk}/acknowledge").status_code == 404
    with tenant_context(tenant):
        assert AlertRule.objects.filter(pk=rule.pk).exists()


def test_analyst_reads_but_cannot_change_rules(
    tenant: Any, member_factory: Callable[..., Any], tenant_client: Callable[..., Any]
) -> None:
    analyst = tenant_client(tenant, member_factory(tenant, "analyst"))
    assert analyst.get("/alerts/rules/").status_code == 200
    assert analyst.get("/alerts/rules/new/").status_code == 403
    assert analyst.post("/alerts/rules/new/", {"name": "x"}).status_code == 403
    assert analyst.get("/alerts/channels/").status_code == 403


def test_create_rule_through_the_form_and_errors_inline(tenant: Any, admin: Any) -> None:
    bad = admin.post(
        "/alerts/rules/new/", {"name": "", "metric": "latency_p99", "window_minutes": "0"}
    )
    assert bad.status_code == 200 and b"Give the rule a name" in bad.content
    with tenant_context(tenant):
        channel = channel_create(name="ops", kind="email", target="ops@alpha.test")
    good = admin.post(
        "/alerts/rules/new/",
        {
            "name": "slow search",
            "metric": "latency_p99",
            "feature": "search",
            "window_minutes": "10",
            "comparison": "gt",
            "warning_threshold": "2000",
            "critical_threshold": "4000",
            "for_evaluations": "3",
            "min_samples": "20",
            "no_data": "ok",
            "repeat_minutes": "60",
            "hysteresis_pct": "10",
            "enabled": "on",
            "channels": [str(channel.pk)],
        },
    )
    assert good.status_code == 302
    with tenant_context(tenant):
        rule = AlertRule.objects.get(name="slow search")
        assert rule.feature == "search" and [c.pk for c in rule.channels.all()] == [channel.pk]
    assert AuditEntry.objects.filter(
        chain="alpha", action="alerts.rule_created", object_id=str(rule.pk)
    ).exists()
    assert admin.get(f"/alerts/rules/{rule.pk}/").status_code == 200
    assert admin.post(f"/alerts/rules/{rule.pk}/delete").status_code == 302


def test_preview_shows_recent_values(tenant: Any, admin: Any) -> None:
    now = datetime.now(tz=UTC)
    with tenant_context(tenant):
        events_insert(
            [
                event_build(timestamp=now - timedelta(minutes=m), latency_ms=300 + m)
                for m in range(1, 60)
            ]
        )
    response = admin.get(
        "/alerts/rules/preview/",
        {
            "metric": "latency_p95",
            "window_minutes": "10",
            "warning_threshold": "320",
            "comparison": "gt",
            "hours": "6",
        },
    )
    assert response.status_code == 200
    assert b"rule-preview-chart" in response.content and b'"warning": 320.0' in response.content


def test_incident_page_acknowledge_and_silence(tenant: Any, admin: Any) -> None:
    with tenant_context(tenant):
        rule = _rule(feature="chat")
        incident = Incident.objects.create(
            rule=rule,
            rule_name=rule.name,
            metric=rule.metric,
            severity="critical",
            filters={"feature": "chat"},
            opened_at=datetime.now(tz=UTC) - timedelta(minutes=5),
        )
    page = admin.get(f"/alerts/incidents/{incident.pk}/")
    assert page.status_code == 200
    assert b"/events/?range=custom" in page.content and b"feature=chat" in page.content
    assert admin.post(f"/alerts/incidents/{incident.pk}/acknowledge").status_code == 302
    assert admin.post(f"/alerts/incidents/{incident.pk}/bogus").status_code == 404
    with tenant_context(tenant):
        incident.refresh_from_db()
        assert incident.status == "acknowledged"
    now = datetime.now(tz=UTC)
    created = admin.post(
        "/alerts/silences/",
        {
            "kind": "maintenance",
            "rule": "",
            "split_key": "",
            "starts_at": now.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (now + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            "reason": "provider migration",
        },
    )
    assert created.status_code == 302
    bad = admin.post("/alerts/silences/", {"starts_at": "yesterday", "ends_at": "", "rule": "9x"})
    assert bad.status_code == 200
    with tenant_context(tenant):
        silence = Silence.objects.get()
    assert admin.post(f"/alerts/silences/{silence.pk}/end").status_code == 302
    actions = set(
        AuditEntry.objects.filter(
            chain="alpha", object_type__in=["silence", "incident"]
        ).values_list("action", flat=True)
    )
    assert {
        "alerts.silence_created",
        "alerts.silence_ended",
        "alerts.incident_acknowledged",
    } <= actions


def test_ops_pages_are_staff_only_and_set_policies(
    tenant: Any,
    staff_user: Any,
    admin_user: Any,
    public_client: Callable[..., Any],
    admin: Any,
) -> None:
    assert public_client(admin_user).get("/ops/alerts/").status_code == 403
    ops = public_client(staff_user)
    assert ops.get("/ops/alerts/").status_code == 200
    assert ops.get("/ops/alerts/nosuchtenant/").status_code == 404
    saved = ops.post(
        "/ops/alerts/alpha/",
        {
            "form": "budget",
            "feature": "",
            "daily_usd": "25",
            "monthly_usd": "600",
            "hard_cap": "on",
            "projection_tolerance_pct": "30",
        },
    )
    assert saved.status_code == 302
    assert ops.post("/ops/alerts/alpha/", {"form": "budget", "daily_usd": "-1"}).status_code == 200
    assert (
        ops.post(
            "/ops/alerts/alpha/",
            {
                "form": "slo",
                "name": "p99",
                "kind": "latency_p99",
                "target": "3000",
                "window_days": "28",
            },
        ).status_code
        == 302
    )
    assert (
        ops.post(
            "/ops/alerts/alpha/",
            {"form": "slo", "name": "x", "kind": "availability", "target": "140"},
        ).status_code
        == 200
    )
    with tenant_context(tenant):
        budget = Budget.objects.get()
        assert budget.hard_cap and str(budget.daily_usd) == "25.00"
        assert budget.rules.filter(metric="spend_vs_projection", warning_threshold=30).exists()
        slo = Slo.objects.get()
        assert slo.rules.filter(metric="slo_burn").count() == 1
    assert ops.get("/ops/alerts/alpha/").status_code == 200
    assert ops.get("/ops/alerts/sla/?month=2026-10").status_code == 200
    assert ops.get("/ops/alerts/sla/?month=garbage").status_code == 200
    assert AuditEntry.objects.filter(chain="alpha", action="alerts.budget_set").exists()
    assert ops.post(f"/ops/alerts/alpha/slo/{slo.pk}/delete").status_code == 302
    assert ops.post("/ops/alerts/alpha/slo/abc/delete").status_code == 404
    # The tenant sees its budget, read-only.
    policies = admin.get("/alerts/policies/")
    assert b"$25.00" in policies.content and b"enforced" in policies.content
