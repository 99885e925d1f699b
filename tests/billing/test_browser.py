"""A tenant admin and platform ops use the billing pages in Chromium (htmx breakdown tabs,
the period form, downloads); the figures shown are the selectors' values.
Screenshots land in test-artifacts/screenshots/billing-*.png.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.humanize.templatetags.humanize import intcomma
from django_tenants.utils import tenant_context
from playwright.sync_api import Page, expect

from billing.statements.compute import month_to_date
from core.db import tenant_connection
from metrics.demo_traffic import event_build, events_insert
from metrics.models import Event
from metrics.rollups.services import dirty_hours_process, floor_hour, rollups_rebuild_range
from tenants.models import Membership, Tenant
from tests.conftest import TEST_PASSWORD, make_user

# The browser fixtures live in tests/e2e/conftest.py; importing them makes them usable here.
from tests.e2e.conftest import browser, host_url, page, screenshot  # noqa: F401

pytestmark = pytest.mark.e2e
PREFIX = "e2e-billing-"


def _remove(tenant: Tenant) -> None:
    with tenant_context(tenant):
        mine = Event.objects.filter(event_id__startswith=PREFIX)
        stamps = list(mine.order_by("timestamp").values_list("timestamp", flat=True))
        if stamps:
            mine.delete()
            rollups_rebuild_range(
                start=floor_hour(stamps[0]), end=floor_hour(stamps[-1]) + timedelta(hours=1)
            )


@pytest.fixture
def alpha_billing(session_tenants: dict[str, Tenant], django_db_blocker: Any) -> Iterator[Tenant]:
    alpha = session_tenants["alpha"]
    now = datetime.now(tz=UTC)
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    with django_db_blocker.unblock():
        _remove(alpha)
        with tenant_context(alpha):
            events_insert(
                event_build(
                    event_id=f"{PREFIX}{i}",
                    timestamp=start + (now - start) * (i / 60),
                    feature=("support-chat", "kb-search", "triage")[i % 3],
                    model=("gpt-4o-mini", "gpt-4o")[i % 2],
                    query_type=("question", "rag")[i % 2],
                    customer=("acme-retail", "globex-bank", "")[i % 3],
                    cost_usd=Decimal("0.0420") * (1 + i % 5),
                )
                for i in range(60)
            )
            dirty_hours_process(max_hours=10_000, time_budget_s=300)
        tenant_connection().set_schema_to_public()
    try:
        yield alpha
    finally:
        with django_db_blocker.unblock():
            _remove(alpha)
            tenant_connection().set_schema_to_public()


def _log_in(tab: Page, base: str, email: str) -> None:
    tab.goto(f"{base}/login/")
    tab.fill("#id_username", email)
    tab.fill("#id_password", TEST_PASSWORD)
    tab.click("button[type=submit]")


def test_admin_reads_billing_and_ops_see_every_tenant(
    alpha_billing,
    committed_db,
    live_server_url,
    page: Page,  # noqa: F811 (the fixture imported above)
):
    alpha = alpha_billing
    admin = make_user(email=f"e2e-billing-{uuid.uuid4().hex[:8]}@alpha.test")
    Membership.objects.create(user=admin, tenant=alpha, role="admin")
    base = host_url(live_server_url, "alpha.localhost")
    _log_in(page, base, admin.email)
    page.goto(f"{base}/billing/")
    mtd = month_to_date(tenant=alpha)
    expect(page.get_by_test_id("mtd-cost")).to_have_text(
        f"${intcomma(f'{mtd.chargeback.provider_cost:.2f}')}"
    )
    expect(page.get_by_test_id("forecast")).to_have_text(f"${intcomma(str(mtd.total_forecast))}")
    screenshot(page, "billing-01-tenant")

    page.get_by_role("link", name="model", exact=True).click()  # htmx swaps the panel
    expect(page.locator("#billing-panel h2").first).to_contain_text("by model")
    expect(page.locator("#billing-panel table").first).to_contain_text("gpt-4o-mini")
    page.get_by_role("link", name="query type", exact=True).click()
    expect(page.locator("#billing-panel table").first).to_contain_text("rag")

    today = datetime.now(tz=UTC).date()
    page.fill("#period-start", today.replace(day=1).isoformat())
    page.fill("#period-end", today.isoformat())
    page.get_by_role("button", name="Show period").click()
    expect(page.locator("#billing-panel h2").first).to_contain_text(
        f"{today.replace(day=1):%Y-%m-%d} to"
    )
    with page.expect_download() as download:
        page.get_by_role("link", name="CSV").first.click()
    assert download.value.suggested_filename.startswith("vigil-cost-lines-alpha-")
    screenshot(page, "billing-02-period")

    staff = make_user(email=f"e2e-ops-{uuid.uuid4().hex[:8]}@vigil.test", is_staff=True)
    ops = host_url(live_server_url, "localhost")
    page.context.clear_cookies()
    _log_in(page, ops, staff.email)
    page.goto(f"{ops}/ops/billing/")
    expect(page.locator("tr[data-tenant=alpha]")).to_contain_text("Alpha Corp")
    screenshot(page, "billing-03-ops")
    page.locator("tr[data-tenant=alpha] a").first.click()
    expect(page.get_by_role("heading", name="Rate cards")).to_be_visible()
    page.fill("#close-month", "never")
    page.get_by_role("button", name="Close", exact=True).click()
    expect(page.locator(".field-error").first).to_contain_text("YYYY-MM")
    screenshot(page, "billing-04-ops-tenant")
