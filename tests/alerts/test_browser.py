"""In Chromium: the incident page draws its chart around the breach, and the rule form's
preview chart redraws as the levels are typed (static/js/alerts.js, uPlot); no JS errors."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django_tenants.utils import tenant_context
from playwright.sync_api import Page, expect

from alerts.incidents.models import Incident
from alerts.rules.models import AlertRule
from core.db import tenant_connection
from metrics.demo_traffic import event_build, events_insert
from metrics.models import Event
from metrics.rollups.services import rollup_hour_rebuild
from tenants.models import Membership, Tenant
from tests.conftest import TEST_PASSWORD, make_user
from tests.e2e.conftest import browser, host_url, page  # noqa: F401 (fixtures)

pytestmark = pytest.mark.e2e


def test_incident_chart_and_rule_preview_draw(
    committed_db: None,
    session_tenants: dict[str, Tenant],
    live_server_url: str,
    page: Page,  # noqa: F811
) -> None:
    alpha = session_tenants["alpha"]
    tag = uuid.uuid4().hex[:8]
    feature = f"e2e-alerts-{tag}"
    now = datetime.now(tz=UTC)
    with tenant_context(alpha):
        events_insert(
            [
                event_build(
                    event_id=f"e2e-alerts-{tag}-{n}",
                    feature=feature,
                    timestamp=now - timedelta(seconds=30 * n),
                    latency_ms=200.0 + 10 * n,
                )
                for n in range(100)
            ]
        )
        rule = AlertRule.objects.create(
            name=f"e2e {tag}",
            metric="latency_p95",
            feature=feature,
            window_minutes=10,
            warning_threshold=500,
        )
        incident = Incident.objects.create(
            rule=rule,
            rule_name=rule.name,
            metric=rule.metric,
            severity="warning",
            filters={"feature": feature},
            window_minutes=10,
            opened_at=now - timedelta(minutes=20),
            value=900,
            threshold=500,
        )
    user = make_user(email=f"e2e-alerts-{tag}@alpha.test")
    Membership.objects.create(user=user, tenant=alpha, role="admin")
    tenant_connection().set_schema_to_public()
    base = host_url(live_server_url, "alpha.localhost")
    try:
        page.goto(f"{base}/login/")
        page.fill("#id_username", user.email)
        page.fill("#id_password", TEST_PASSWORD)
        page.click("button[type=submit]")
        page.goto(f"{base}/alerts/incidents/{incident.pk}/")
        expect(page.locator("[data-alert-chart='incident-chart'] canvas").first).to_be_visible()
        expect(page.get_by_role("link", name="Events behind it →")).to_be_visible()

        page.goto(f"{base}/alerts/rules/new/")
        page.fill("#r-name", "preview check")
        page.select_option("#r-metric", "latency_p95")
        page.fill("#r-feature", feature)
        page.fill("#r-warn", "450")
        page.locator("#r-window").dispatch_event("change")
        chart = page.locator("#rule-preview [data-alert-chart] canvas").first
        expect(chart).to_be_visible()
        expect(page.locator("#rule-preview")).to_contain_text("dashed lines are the levels")
    finally:
        with tenant_context(alpha):
            Incident.objects.filter(pk=incident.pk).delete()
            AlertRule.objects.filter(pk=rule.pk).delete()
            Event.objects.filter(event_id__startswith=f"e2e-alerts-{tag}-").delete()
            for hours_ago in (0, 1):
                rollup_hour_rebuild(hour=now - timedelta(hours=hours_ago))
        tenant_connection().set_schema_to_public()
        Membership.objects.filter(user=user).delete()
