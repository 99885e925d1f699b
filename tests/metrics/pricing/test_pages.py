"""The "Unpriced models" page: roles, cross-tenant isolation, adding an override."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from django.contrib.auth.models import User
from django.test import Client
from django_tenants.utils import tenant_context

from metrics.ingest.pipeline import ingest_events
from metrics.models import Event
from tenants.models import Tenant

URL = "/pricing/unpriced/"


def unpriced_event(tenant: Tenant, model: str) -> str:
    event_id = f"u-{uuid.uuid4().hex}"
    raw = {
        "event_id": event_id,
        "timestamp": datetime.now(tz=UTC).isoformat(),
        "feature": "chat",
        "model": model,
        "input_tokens": 1_000_000,
    }
    assert ingest_events(tenant=tenant, raw_events=[raw])[0].status == "accepted"
    return event_id


def test_page_lists_unpriced_models_of_this_tenant_only(
    tenant: Tenant,
    other_tenant: Tenant,
    tenant_client: Callable[..., Client],
    member_factory: Callable[..., User],
) -> None:
    mine, theirs = f"alpha-llm-{uuid.uuid4().hex[:6]}", f"beta-llm-{uuid.uuid4().hex[:6]}"
    unpriced_event(tenant, mine)
    unpriced_event(other_tenant, theirs)
    analyst = member_factory(tenant, "analyst")
    response = tenant_client(tenant, analyst).get(URL)
    assert response.status_code == 200
    page = response.content.decode()
    assert mine in page and theirs not in page
    assert "Unpriced models" in page
    assert 'href="/pricing/unpriced/"' in page  # nav link
    assert "Add a price" not in page  # analysts read, admins write


def test_reviewer_and_other_tenant_member_are_refused(
    tenant: Tenant,
    other_tenant: Tenant,
    tenant_client: Callable[..., Client],
    member_factory: Callable[..., User],
) -> None:
    reviewer = member_factory(tenant, "reviewer")
    assert tenant_client(tenant, reviewer).get(URL).status_code == 403
    beta_admin = member_factory(other_tenant, "admin")
    assert tenant_client(tenant, beta_admin).get(URL).status_code in {403, 404}
    assert tenant_client(tenant).get(URL).status_code == 302  # not logged in


def test_admin_adds_a_price_and_events_are_repriced(
    tenant: Tenant, tenant_client: Callable[..., Client], member_factory: Callable[..., User]
) -> None:
    model = f"alpha-llm-{uuid.uuid4().hex[:6]}"
    event_id = unpriced_event(tenant, model)
    admin = tenant_client(tenant, member_factory(tenant, "admin"))
    form = {
        "model": model,
        "input_per_m": "2",
        "output_per_m": "8",
        "effective_from": "2020-01-01",
    }
    response = admin.post("/pricing/overrides/", form, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "re-priced" in response.content.decode()
    with tenant_context(tenant):
        event = Event.objects.get(event_id=event_id)
    assert (str(event.cost_usd), event.cost_source) == ("2.0000000000", "override")


def test_invalid_override_shows_errors_and_analyst_cannot_post(
    tenant: Tenant, tenant_client: Callable[..., Client], member_factory: Callable[..., User]
) -> None:
    admin = tenant_client(tenant, member_factory(tenant, "admin"))
    response = admin.post(
        "/pricing/overrides/",
        {"model": "x", "input_per_m": "-1", "output_per_m": "abc", "effective_from": "nope"},
    )
    assert response.status_code == 200
    assert response.content.decode().count('class="field-error"') >= 3
    analyst = tenant_client(tenant, member_factory(tenant, "analyst"))
    form = {"model": "x", "input_per_m": "1", "output_per_m": "1", "effective_from": "2020-01-01"}
    assert analyst.post("/pricing/overrides/", form).status_code == 403


def test_unpriced_selector_matches_raw_events_and_page_queries_do_not_grow(
    tenant: Tenant, tenant_client: Callable[..., Client], member_factory: Callable[..., User]
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from metrics.pricing.selectors import unpriced_models_list

    client = tenant_client(tenant, member_factory(tenant, "analyst"))
    model = f"alpha-llm-{uuid.uuid4().hex[:6]}"
    for _ in range(3):
        unpriced_event(tenant, model)
    with CaptureQueriesContext(connection) as one_model:
        assert client.get(URL).status_code == 200
    for n in range(4):
        unpriced_event(tenant, f"{model}-{n}")
    with CaptureQueriesContext(connection) as five_models:
        assert client.get(URL).status_code == 200
    assert len(five_models) == len(one_model)
    with tenant_context(tenant):
        listed = {row.model: row for row in unpriced_models_list()}
        raw = Event.objects.filter(model=model)
        stamps = sorted(raw.values_list("timestamp", flat=True))
    assert listed[model].events == raw.count() == 3
    assert (listed[model].first_seen, listed[model].last_seen) == (stamps[0], stamps[-1])
