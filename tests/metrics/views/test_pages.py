"""Dashboard pages with Django's test client: roles, tenant isolation, numbers, bad input."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import AbstractUser
from django.test import Client

from metrics import selectors as s
from metrics.models import Event
from metrics.templatetags.dashboard import ms, pct, usd
from tenants.models import Tenant

from ..factories import add_events, hours_ago, in_tenant

PAGES = ["/", "/cost/", "/latency/", "/quality/", "/reliability/", "/safety/", "/events/"]
LAYER_PAGES = PAGES[1:]
ClientFactory = Callable[..., Client]


def kpi(html: str, name: str) -> str:
    """The shown value of a headline card (data-kpi=name)."""
    match = re.search(
        rf'data-kpi="{re.escape(name)}".*?class="kpi-value"[^>]*>(.*?)</span>', html, re.S
    )
    assert match, f"no card {name}"
    return re.sub(r"<[^>]+>", "", match.group(1)).strip()


@pytest.mark.parametrize("role", ["admin", "analyst"])
def test_every_page_renders_for_dashboard_roles(
    tenant: Tenant,
    dataset: list[Event],
    member_factory: Callable[..., AbstractUser],
    tenant_client: ClientFactory,
    role: str,
) -> None:
    client = tenant_client(tenant, member_factory(tenant, role))
    for path in PAGES:
        for query in (
            "",
            "?range=24h",
            "?range=30d&feature=chat",
            "?range=custom&from=2026-01-01&to=2026-01-03",
        ):
            response = client.get(path + query)
            assert response.status_code == 200, (path, query)
            assert b'id="dash-body"' in response.content, path
    event = dataset[0]
    assert client.get(f"/events/{event.event_id}/").status_code == 200


def test_overview_shows_the_selectors_numbers(
    tenant: Tenant, dataset: list[Event], admin_user: AbstractUser, tenant_client: ClientFactory
) -> None:
    html = tenant_client(tenant, admin_user).get("/?range=7d").content.decode()
    with in_tenant(tenant):
        ov = s.overview(s.metrics_filter_for(range_name="7d"))
    assert kpi(html, "cost_usd") == usd(ov.get("cost_usd").value)
    assert kpi(html, "p99_ms") == ms(ov.get("p99_ms").value)
    assert kpi(html, "error_rate") == pct(ov.get("error_rate").value)
    assert "Send your first event" not in html


def test_cost_page_numbers_and_breakdown_match_selectors(
    tenant: Tenant, dataset: list[Event], admin_user: AbstractUser, tenant_client: ClientFactory
) -> None:
    client = tenant_client(tenant, admin_user)
    html = client.get("/cost/?range=7d&by=model").content.decode()
    f = s.metrics_filter_for(range_name="7d")
    with in_tenant(tenant):
        summary = s.cost_summary(f)
        rows = s.cost_breakdown(f, by="model")
    assert kpi(html, "cost_usd") == usd(summary.cost_usd)
    assert kpi(html, "requests") == f"{summary.requests:,}"
    for row in rows:
        assert f'data-key="{row.key}"' in html
        assert "feature=" not in html.split(f'data-key="{row.key}"')[1].split("</tr>")[0]
        assert f"model={row.key}" in html  # drill-down link to the events behind the row
    assert sum(r.cost_usd for r in rows) == summary.cost_usd


def test_htmx_request_gets_only_the_partial(
    tenant: Tenant, dataset: list[Event], admin_user: AbstractUser, tenant_client: ClientFactory
) -> None:
    client = tenant_client(tenant, admin_user)
    for path in PAGES:
        response = client.get(path + "?range=24h", HTTP_HX_REQUEST="true")
        assert response.status_code == 200
        body = response.content.decode()
        assert body.lstrip().startswith('<div id="dash-body">') or 'id="dash-body"' in body[:400]
        assert "<html" not in body and "filter-bar" not in body


def test_reviewer_and_compliance_get_403_on_dashboard_pages_but_a_start_page(
    tenant: Tenant,
    dataset: list[Event],
    member_factory: Callable[..., AbstractUser],
    tenant_client: ClientFactory,
) -> None:
    for role in ("reviewer", "compliance"):
        client = tenant_client(tenant, member_factory(tenant, role))
        for path in LAYER_PAGES:
            assert client.get(path).status_code == 403, (role, path)
        assert client.get(f"/events/{dataset[0].event_id}/").status_code == 403
        home = client.get("/")
        assert home.status_code == 200 and b"dash-body" not in home.content


def test_anonymous_is_sent_to_login(tenant: Tenant, tenant_client: ClientFactory) -> None:
    response = tenant_client(tenant).get("/cost/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_beta_admin_on_alpha_host_gets_403(
    tenant: Tenant,
    other_tenant: Tenant,
    dataset: list[Event],
    member_factory: Callable[..., AbstractUser],
    tenant_client: ClientFactory,
) -> None:
    beta_admin = member_factory(other_tenant, "admin")
    client = tenant_client(tenant, beta_admin)
    for path in PAGES:
        assert client.get(path).status_code == 403, path
    assert client.get(f"/events/{dataset[0].event_id}/").status_code == 403


def test_alpha_event_and_trace_are_404_from_beta_host(
    tenant: Tenant,
    other_tenant: Tenant,
    member_factory: Callable[..., AbstractUser],
    tenant_client: ClientFactory,
) -> None:
    add_events(tenant, [{"event_id": "iso-alpha-1", "trace_id": "a" * 32, "span_id": "b" * 16}])
    alpha = tenant_client(tenant, member_factory(tenant, "admin"))
    assert alpha.get("/events/iso-alpha-1/").status_code == 200
    assert alpha.get(f"/traces/{'a' * 32}/").status_code == 200
    beta = tenant_client(other_tenant, member_factory(other_tenant, "admin"))
    assert beta.get("/events/iso-alpha-1/").status_code == 404
    assert beta.get(f"/traces/{'a' * 32}/").status_code == 404
    assert b"iso-alpha-1" not in beta.get("/events/?range=30d").content


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/cost/?range=banana", "range"),
        ("/cost/?range=custom&from=yesterday&to=2026-01-01", "from"),
        ("/latency/?range=custom&from=2026-02-01&to=2026-01-01", "to"),
        ("/latency/?range=custom", "from"),
        ("/reliability/?feature=" + "x" * 300, "feature"),
        ("/cost/?by=colour", "by"),
        ("/events/?status=exploded", "status"),
        ("/events/?tail=maybe", "tail"),
        ("/events/?cursor=not-a-cursor", "cursor"),
        ("/?range=custom&from=2026-01-01&to=3026-01-01", "to"),
        ("/safety/?range=7d&customer=%00", "customer"),
    ],
)
def test_bad_filter_values_show_an_inline_error(
    tenant: Tenant,
    dataset: list[Event],
    admin_user: AbstractUser,
    tenant_client: ClientFactory,
    path: str,
    field: str,
) -> None:
    response = tenant_client(tenant, admin_user).get(path)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'role="alert"' in html and "Some filters could not be used" in html
    assert f'<span class="mono">{field}</span>' in html


def test_unknown_event_and_trace_are_404(
    tenant: Tenant, admin_user: AbstractUser, tenant_client: ClientFactory
) -> None:
    client = tenant_client(tenant, admin_user)
    assert client.get("/events/no-such-event/").status_code == 404
    assert client.get("/traces/0123456789abcdef/").status_code == 404


def test_drill_down_lists_exactly_the_events_behind_a_number(
    tenant: Tenant, admin_user: AbstractUser, tenant_client: ClientFactory
) -> None:
    specs = [
        {
            "event_id": f"drill-{i}",
            "feature": "drill-feature",
            "timestamp": hours_ago(2),
            "status": "timeout" if i % 3 == 0 else "ok",
            "cost_usd": Decimal("0.01"),
        }
        for i in range(9)
    ]
    add_events(tenant, specs)
    client = tenant_client(tenant, admin_user)
    html = client.get("/events/?range=24h&feature=drill-feature").content.decode()
    assert html.count('data-event-id="drill-') == 9
    failed = client.get("/events/?range=24h&feature=drill-feature&status=timeout").content.decode()
    assert failed.count('data-event-id="drill-') == 3
    assert "status timeout" in failed


def test_events_list_pages_with_load_more(
    tenant: Tenant,
    admin_user: AbstractUser,
    tenant_client: ClientFactory,
    django_assert_max_num_queries: Any,
) -> None:
    add_events(
        tenant,
        [
            {"event_id": f"page-{i}", "feature": "paged", "timestamp": hours_ago(1)}
            for i in range(60)
        ],
    )
    client = tenant_client(tenant, admin_user)
    first = client.get("/events/?range=24h&feature=paged").content.decode()
    assert first.count('data-event-id="page-') == 50
    more = re.search(r'hx-get="([^"]+cursor=[^"]+)"', first)
    assert more
    url = more.group(1).replace("&amp;", "&")
    with django_assert_max_num_queries(12):
        rest = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert rest.count('data-event-id="page-') == 10 and "every matching call" in rest


def test_trace_waterfall_shows_llm_calls_in_order(
    tenant: Tenant, admin_user: AbstractUser, tenant_client: ClientFactory
) -> None:
    start = hours_ago(3)
    trace = "c" * 32
    from datetime import timedelta

    add_events(
        tenant,
        [
            {
                "event_id": "wf-root",
                "trace_id": trace,
                "span_id": "1" * 16,
                "timestamp": start,
                "latency_ms": 1000.0,
                "feature": "agent",
            },
            {
                "event_id": "wf-child",
                "trace_id": trace,
                "span_id": "2" * 16,
                "parent_span_id": "1" * 16,
                "timestamp": start + timedelta(milliseconds=250),
                "latency_ms": 500.0,
                "feature": "tool",
            },
        ],
    )
    html = (
        tenant_client(tenant, admin_user).get(f"/traces/{trace}/?event=wf-child").content.decode()
    )
    assert html.index("agent ·") < html.index("tool ·")
    assert 'data-left="25.000%" data-width="50.000%"' in html  # applied by vigil.js (CSP)
    assert 'class="current"' in html


def test_tenant_without_events_keeps_the_first_event_empty_state(
    tenant: Tenant, admin_user: AbstractUser, tenant_client: ClientFactory
) -> None:
    with in_tenant(tenant):
        Event.objects.all().delete()  # rolled back with the test
    html = tenant_client(tenant, admin_user).get("/").content.decode()
    assert "Send your first event" in html
    assert "http://alpha.localhost" in html and "/api/v1/events" in html


def test_staff_sees_tenant_dashboard_read_only(
    tenant: Tenant, dataset: list[Event], staff_user: AbstractUser, tenant_client: ClientFactory
) -> None:
    client = tenant_client(tenant, staff_user)
    response = client.get("/cost/")
    assert response.status_code == 200 and b"read-only" in response.content


def test_ops_overview_for_staff_only(
    tenant: Tenant,
    dataset: list[Event],
    staff_user: AbstractUser,
    admin_user: AbstractUser,
    public_client: ClientFactory,
    tenant_client: ClientFactory,
) -> None:
    response = public_client(staff_user).get("/ops/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-tenant="alpha"' in html and 'data-tenant="beta"' in html
    with in_tenant(tenant):
        ov = s.overview(s.metrics_filter_for(range_name="24h"))
    alpha_row = html.split('data-tenant="alpha"')[1].split("</tr>")[0]
    assert ms(ov.get("p99_ms").value) in alpha_row
    assert "/ops/tenants/alpha/open" in alpha_row  # opens the tenant's pages via the staff handoff
    assert public_client(admin_user).get("/ops/").status_code == 403
    assert public_client().get("/ops/").status_code == 302
    assert tenant_client(tenant, staff_user).get("/ops/").status_code == 404


@pytest.mark.parametrize(("path", "limit"), [("/?range=30d", 45), ("/cost/?range=30d", 40)])
def test_pages_run_a_bounded_number_of_queries(
    tenant: Tenant,
    dataset: list[Event],
    admin_user: AbstractUser,
    tenant_client: ClientFactory,
    django_assert_max_num_queries: Any,
    path: str,
    limit: int,
) -> None:
    client = tenant_client(tenant, admin_user)
    client.get(path)  # session and role lookups warm up
    with django_assert_max_num_queries(limit):
        assert client.get(path).status_code == 200


def test_ops_overview_shows_sla_standing(
    tenant: Tenant, dataset: list[Event], staff_user: AbstractUser, public_client: ClientFactory
) -> None:
    from alerts.slo.services import slo_create
    from core.request_context import acting_as

    with in_tenant(tenant), acting_as("test setup"):
        # The dataset fails about 4 calls in 10: far from 99.9% available.
        slo_create(data={"name": "Available", "kind": "availability", "target": 99.9})
    html = public_client(staff_user).get("/ops/").content.decode()
    alpha_row = html.split('data-tenant="alpha"')[1].split("</tr>")[0]
    beta_row = html.split('data-tenant="beta"')[1].split("</tr>")[0]
    assert "1 of 1 breached" in alpha_row
    assert "no SLA set" in beta_row
