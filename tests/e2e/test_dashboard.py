"""A tenant admin walks the dashboard in Chromium: overview -> cost -> drill-down -> event ->
trace, changes the range and a filter, and every number checked is the selectors' value.
Screenshots of each page land in test-artifacts/screenshots/.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django_tenants.utils import tenant_context
from playwright.sync_api import ConsoleMessage, Page, expect

from core.db import tenant_connection
from metrics import selectors as s
from metrics.templatetags.dashboard import count, ms, pct, usd
from tenants.models import Membership, Tenant
from tests.conftest import TEST_PASSWORD, make_user

from . import data
from .conftest import host_url, screenshot

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def alpha_with_traffic(
    session_tenants: dict[str, Tenant], django_db_blocker: Any
) -> Iterator[tuple[Tenant, data.Seeded]]:
    """30 days of demo traffic in alpha, committed for this module and removed after it."""
    alpha = session_tenants["alpha"]
    with django_db_blocker.unblock():
        seeded = data.seed(alpha)
        tenant_connection().set_schema_to_public()
    try:
        yield alpha, seeded
    finally:
        with django_db_blocker.unblock():
            data.remove(alpha)
            tenant_connection().set_schema_to_public()


def _admin(tenant: Tenant) -> str:
    user = make_user(email=f"e2e-admin-{uuid.uuid4().hex[:8]}@alpha.test")
    Membership.objects.create(user=user, tenant=tenant, role="admin")
    return user.email


def _log_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("#id_username", email)
    page.fill("#id_password", TEST_PASSWORD)
    page.click("button[type=submit]")


def _charts_drawn(page: Page) -> None:
    """Every chart on the page has been drawn by uPlot (or shows its empty state)."""
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-chart]')].every("
        "el => el.dataset.chartReady || el.classList.contains('chart-empty'))"
    )


def _kpi(page: Page, name: str) -> str:
    return page.locator(f'[data-kpi="{name}"] .kpi-value').inner_text().strip()


def _swap_done(page: Page, query_part: str) -> None:
    page.wait_for_function(f"() => location.search.includes({query_part!r})")
    page.wait_for_function("() => !document.querySelector('.htmx-request')")
    _charts_drawn(page)


def test_admin_walks_overview_cost_drilldown_event_trace(
    live_server_url: str,
    alpha_with_traffic: tuple[Tenant, data.Seeded],
    committed_db: None,
    page: Page,
) -> None:
    alpha, seeded = alpha_with_traffic
    base = host_url(live_server_url, "alpha.localhost")
    _log_in(page, base, _admin(alpha))

    # Overview: the five layers' headlines for the last 7 days.
    page.wait_for_url(f"{base}/")
    expect(page.locator("h1")).to_have_text("Alpha Corp")
    _charts_drawn(page)
    with tenant_context(alpha):
        ov = s.overview(s.metrics_filter_for(range_name="7d"))
    assert _kpi(page, "cost_usd") == usd(ov.get("cost_usd").value)
    assert _kpi(page, "p99_ms") == ms(ov.get("p99_ms").value)
    assert _kpi(page, "error_rate") == pct(ov.get("error_rate").value)
    assert _kpi(page, "violations") == count(ov.get("violations").value)
    assert page.locator("canvas").count() >= 10  # five sparklines and the layer charts
    screenshot(page, "01-overview")

    # Cost: the same range; then 30 days and one feature, swapped in without a reload.
    page.click("nav.tabs >> text=Cost")
    page.wait_for_url(f"{base}/cost/**")
    _charts_drawn(page)
    f7 = s.metrics_filter_for(range_name="7d")
    with tenant_context(alpha):
        assert _kpi(page, "cost_usd") == usd(s.cost_summary(f7).cost_usd)
        top = s.cost_breakdown(f7, by="feature")[0]
    row = page.locator(f'[data-table="cost-breakdown"] tr[data-key="{top.key}"]')
    expect(row.locator('[data-drill="spend"]')).to_have_text(usd(top.cost_usd))
    screenshot(page, "02-cost")

    page.evaluate("window.__noReload = true")
    page.click(".segmented >> text=30d")
    _swap_done(page, "range=30d")
    f30 = s.metrics_filter_for(range_name="30d")
    with tenant_context(alpha):
        expect(page.locator('[data-kpi="cost_usd"] .kpi-value')).to_have_text(
            usd(s.cost_summary(f30).cost_usd)
        )
        concentration = s.cost_concentration(f30, by="feature", top=3)
    expect(page.locator('[data-kpi="top3"] .kpi-value')).to_have_text(
        pct(concentration.top_cost_share, 0)
    )

    page.select_option("#f-feature", "kb-search")
    _swap_done(page, "feature=kb-search")
    f30_kb = s.metrics_filter_for(range_name="30d", feature="kb-search")
    with tenant_context(alpha):
        summary = s.cost_summary(f30_kb)
        by_model = {r.key: r for r in s.cost_breakdown(f30_kb, by="model")}
    expect(page.locator('[data-kpi="cost_usd"] .kpi-value')).to_have_text(usd(summary.cost_usd))
    expect(page.locator('[data-kpi="requests"] .kpi-value')).to_have_text(count(summary.requests))
    assert page.evaluate("window.__noReload") is True  # htmx swapped the body, no reload
    assert "range=30d" in page.url and "feature=kb-search" in page.url

    # Back restores the unfiltered 30 days (from htmx's history), charts drawn again.
    page.go_back()
    page.wait_for_function("() => !location.search.includes('feature=')")
    _charts_drawn(page)
    with tenant_context(alpha):
        expect(page.locator('[data-kpi="cost_usd"] .kpi-value')).to_have_text(
            usd(s.cost_summary(f30).cost_usd)
        )
    expect(page.locator("#f-feature")).to_have_value("")
    page.go_forward()
    page.wait_for_function("() => location.search.includes('feature=kb-search')")
    _charts_drawn(page)
    expect(page.locator("#f-feature")).to_have_value("kb-search")  # the bar follows the URL
    expect(page.locator("input[name=range][value='30d']")).to_be_checked()
    expect(page.locator('[data-kpi="cost_usd"] .kpi-value')).to_have_text(usd(summary.cost_usd))
    assert page.locator('[data-chart="chart-spend-by"] canvas').count() == 1

    # Break down by model, sort the table by requests, and drill into the model's events.
    page.click(".pills >> text=Model")
    _swap_done(page, "by=model")
    table = page.locator('[data-table="cost-breakdown"]')
    table.locator("th >> text=Requests").click()
    first_key = table.locator("tbody tr").first.get_attribute("data-key")
    assert first_key == max(by_model.values(), key=lambda r: r.requests).key
    screenshot(page, "03-cost-filtered")
    model_row = by_model["gpt-4o"]
    table.locator('tr[data-key="gpt-4o"] [data-drill="requests"]').click()
    page.wait_for_url(f"{base}/events/**")
    assert "feature=kb-search" in page.url and "model=gpt-4o" in page.url
    rows = page.locator("#events-rows tr[data-event-id]")
    expect(rows.first).to_be_visible()
    shown = rows.count()
    screenshot(page, "04-events")
    while page.locator("#events-more button").count():
        page.click("#events-more button")
        page.wait_for_function(
            f"() => document.querySelectorAll('#events-rows tr[data-event-id]').length > {shown}"
        )
        shown = rows.count()
    assert shown == model_row.requests  # every event behind the number, no more

    # One event, then its trace: LLM calls and context spans on one time axis.
    page.goto(f"{base}/events/{seeded.agent_event_id}/")
    expect(page.locator(".subtitle.mono")).to_have_text(seeded.agent_event_id)
    expect(page.locator('[data-kpi="cost"] .kpi-value')).to_have_text("$0.0132")
    screenshot(page, "05-event")
    page.click("text=Open trace")
    page.wait_for_url(f"{base}/traces/**")
    spans = page.locator('[data-table="waterfall"] tbody tr')
    expect(spans).to_have_count(5)
    assert spans.nth(0).get_attribute("data-kind") == "span"  # POST /v1/answer, the root
    assert page.locator('tr.current[data-kind="llm"]').count() == 1
    expect(page.locator('[data-kpi="duration"] .kpi-value')).to_have_text("3.42 s")
    screenshot(page, "06-trace")

    # The other layers render with their charts and match their selectors.
    page.goto(f"{base}/latency/?range=7d")
    _charts_drawn(page)
    with tenant_context(alpha):
        lat = s.latency_summary(f7).current
    assert _kpi(page, "p99_ms") == ms(lat.p99_ms)
    assert _kpi(page, "p50_ms") == ms(lat.p50_ms)
    screenshot(page, "07-latency")

    # A custom range: the date inputs appear with the current range; pick a start date.
    page.click(".segmented >> text=Custom")
    _swap_done(page, "range=custom")
    expect(page.locator("#f-from")).to_be_visible()
    start = (seeded.end - timedelta(days=3)).date().isoformat()
    page.fill("#f-from", start)
    page.dispatch_event("#f-from", "change")
    _swap_done(page, f"from={start}")
    to_day = page.input_value("#f-to")
    custom = s.metrics_filter_from_params({"range": "custom", "from": start, "to": to_day})
    with tenant_context(alpha):
        expect(page.locator('[data-kpi="p99_ms"] .kpi-value')).to_have_text(
            ms(s.latency_summary(custom).current.p99_ms)
        )
    assert page.locator('[data-kpi="p99_ms"] .kpi-value').inner_text() != ""
    page.goto(f"{base}/reliability/?range=24h")
    _charts_drawn(page)
    screenshot(page, "07-reliability-24h")
    for name in ("quality", "reliability", "safety"):
        page.goto(f"{base}/{name}/?range=30d")
        _charts_drawn(page)
        screenshot(page, f"08-{name}")
    with tenant_context(alpha):
        rel = s.reliability_summary(f30).current
    assert _kpi(page, "violations") == count(s_violations(alpha, f30))
    page.goto(f"{base}/reliability/?range=30d")
    assert _kpi(page, "error_rate") == pct(rel.error_rate, 2)

    # Large screens: the same pages at 1920 px.
    page.set_viewport_size({"width": 1920, "height": 1080})
    for path, name in (("/?range=30d", "09-overview-1920"), ("/cost/?range=30d", "10-cost-1920")):
        page.goto(base + path)
        _charts_drawn(page)
        screenshot(page, name)


def s_violations(tenant: Tenant, f: s.MetricsFilter) -> int:
    with tenant_context(tenant):
        return s.safety_summary(f).violations


def test_staff_compares_tenants_in_the_ops_console(
    live_server_url: str,
    alpha_with_traffic: tuple[Tenant, data.Seeded],
    committed_db: None,
    page: Page,
) -> None:
    alpha, _ = alpha_with_traffic
    staff = make_user(email=f"e2e-ops-{uuid.uuid4().hex[:8]}@vigil.test", is_staff=True)
    base = host_url(live_server_url, "localhost")
    _log_in(page, base, staff.email)
    page.goto(f"{base}/ops/")
    row = page.locator('[data-table="ops-tenants"] tr[data-tenant="alpha"]')
    expect(row).to_be_visible()
    with tenant_context(alpha):
        ov = s.overview(s.metrics_filter_for(range_name="24h"))
    expect(row.locator("td").nth(6)).to_have_text(ms(ov.get("p99_ms").value))
    expect(row.locator("td").nth(10)).to_have_text(
        re.compile(r"no SLA set|\d+ met|\d+ of \d+ breached")
    )
    screenshot(page, "11-ops")
    # Staff open the tenant's own pages, read-only (and audited).
    row.locator("td").first.locator("a").click()
    page.wait_for_url("**alpha.localhost**")
    if "/login/" in page.url:  # sessions are per host: staff log in on the tenant's host too
        page.fill("#id_username", staff.email)
        page.fill("#id_password", TEST_PASSWORD)
        page.click("button[type=submit]")
    expect(page.locator(".banner-info")).to_contain_text("read-only")
    expect(page.locator("h1")).to_have_text("Alpha Corp")


def test_pages_run_under_the_content_security_policy(
    live_server_url: str,
    alpha_with_traffic: tuple[Tenant, data.Seeded],
    committed_db: None,
    page: Page,
) -> None:
    """Overview, cost (with an htmx swap), latency, trace, the rule form and the API docs
    under the strict CSP: no violation, no console error, and what the templates now say
    with data attributes (bar widths, waterfall offsets) is applied."""
    alpha, seeded = alpha_with_traffic
    console: list[str] = []

    def console_problem(msg: ConsoleMessage) -> None:
        if msg.location.get("url", "").endswith("/favicon.ico"):
            return  # the browser's own guess; Vigil serves no favicon
        if msg.type in ("error", "warning"):
            console.append(f"{msg.type}: {msg.text} ({msg.location.get('url')})")

    page.on("console", console_problem)
    base = host_url(live_server_url, "alpha.localhost")
    _log_in(page, base, _admin(alpha))
    page.wait_for_url(f"{base}/")
    _charts_drawn(page)
    csp = page.evaluate(
        "() => fetch(location.href).then(r => r.headers.get('content-security-policy'))"
    )
    assert "script-src 'self'" in csp

    page.goto(f"{base}/cost/?range=7d")
    _charts_drawn(page)
    page.click(".segmented >> text=30d")
    _swap_done(page, "range=30d")
    bar = page.locator('[data-table="cost-breakdown"] .share-bar span').first
    assert bar.evaluate("el => el.style.width") == bar.get_attribute("data-width")
    assert bar.evaluate("el => el.getBoundingClientRect().width") > 0

    page.goto(f"{base}/latency/?range=7d")
    _charts_drawn(page)

    page.goto(f"{base}/events/{seeded.agent_event_id}/")
    page.click("text=Open trace")
    page.wait_for_url(f"{base}/traces/**")
    bars = page.locator('[data-table="waterfall"] .track .bar')
    expect(bars).to_have_count(5)
    lefts = bars.evaluate_all("els => els.map(el => el.style.left)")
    assert all(left.endswith("%") for left in lefts) and len(set(lefts)) > 1

    # The rule form's live preview: an htmx swap that brings a uPlot chart with it.
    page.goto(f"{base}/alerts/rules/new/")
    page.select_option("#r-metric", "latency_p95")
    page.fill("#r-warn", "900")
    page.dispatch_event("#r-warn", "change")
    expect(page.locator("#rule-preview canvas").first).to_be_visible()

    # Delete confirmations moved from onsubmit="" to data-confirm (static/js/vigil.js).
    name = f"csp-{uuid.uuid4().hex[:6]}"
    page.goto(f"{base}/alerts/channels/")
    page.fill("#c-name", name)
    page.select_option("#c-kind", "email")
    page.fill("#c-target", "csp@alpha.test")
    page.click("text=Add channel")
    row = page.locator("tr", has_text=name)
    expect(row).to_have_count(1)
    page.once("dialog", lambda dialog: dialog.dismiss())
    row.locator("button", has_text="Delete").click()
    expect(page.locator("tr", has_text=name)).to_have_count(1)  # dismissed: still there
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("tr", has_text=name).locator("button", has_text="Delete").click()
    expect(page.locator("tr", has_text=name)).to_have_count(0)

    page.goto(f"{base}/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Vigil API")

    assert page.vigil_csp_violations == []  # type: ignore[attr-defined]
    assert console == []
