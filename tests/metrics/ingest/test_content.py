"""Content and privacy: which events keep input/output, redaction, retention, the off switch."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django_tenants.utils import tenant_context

from compliance.models import AuditEntry
from compliance.services import compliance_settings_update
from metrics.ingest.pipeline import ingest_events
from metrics.ingest.schema import MAX_CONTENT_CHARS
from metrics.ingest.services import ingest_settings_get, ingest_settings_update
from metrics.models import EndpointThreshold, Event
from metrics.quality.sampling import sampling_cache_clear, sampling_policy_set
from metrics.redaction import redact_content
from metrics.sampling import is_sampled
from tenants.models import Tenant

from .helpers import good, uid

SECRET_TEXT = "Mail jane.doe@example.com or call +1 415 555 0100 about card 4242 4242 4242 4242."


def unsampled_id() -> str:
    while True:
        event_id = uid()
        if not is_sampled(event_id, 0.005):
            return event_id


def ingest_one(tenant: Tenant, **fields: Any) -> Event:
    raw = good(event_id=unsampled_id(), input=SECRET_TEXT, output="ok", **fields)
    [outcome] = ingest_events(tenant=tenant, raw_events=[raw])
    assert outcome.status == "accepted", outcome.errors
    with tenant_context(tenant):
        return Event.objects.get(event_id=raw["event_id"])


def test_sampling_is_deterministic_and_near_the_rate() -> None:
    ids = [f"ev-{n}" for n in range(40_000)]
    sampled = [i for i in ids if is_sampled(i, 0.005)]
    assert 140 <= len(sampled) <= 260  # 0.5 % of 40k = 200
    assert sampled == [i for i in ids if is_sampled(i, 0.005)]
    assert not is_sampled("x", 0) and is_sampled("x", 1)


def test_plain_ok_event_keeps_no_content(tenant: Tenant) -> None:
    event = ingest_one(tenant)
    assert (event.input, event.output, event.content_expires_at) == ("", "", None)
    assert not event.is_sampled and not event.is_tail


@pytest.mark.parametrize(
    "fields",
    [
        {"status": "error", "error_type": "APIError"},
        {"latency_ms": 2500},
        {"policy_violations": [{"policy": "pii", "severity": "low", "action": "flagged"}]},
        {"refused": True},
    ],
)
def test_error_tail_and_violating_events_keep_redacted_content(
    tenant: Tenant, fields: dict[str, Any]
) -> None:
    event = ingest_one(tenant, **fields)
    assert event.input == "Mail [EMAIL] or call [PHONE] about card [CARD]."
    assert event.output == "ok"
    assert event.content_expires_at is not None
    kept_for = event.content_expires_at - event.received_at
    assert kept_for == timedelta(days=30)


def test_sampled_event_keeps_content(tenant: Tenant) -> None:
    with tenant_context(tenant):
        sampling_policy_set(
            tenant_slug=tenant.schema_name, feature="chat", rate=1.0, category_weekly_minimum=0
        )
    try:
        event = ingest_one(tenant)
    finally:
        sampling_cache_clear()
    assert event.is_sampled and event.input.startswith("Mail [EMAIL]")


def test_endpoint_threshold_decides_the_tail(tenant: Tenant) -> None:
    with tenant_context(tenant):
        EndpointThreshold.objects.create(endpoint="/slow", threshold_ms=5000)
    slow_endpoint = ingest_one(tenant, endpoint="/slow", latency_ms=2500)
    assert not slow_endpoint.is_tail and slow_endpoint.input == ""
    assert ingest_one(tenant, endpoint="/slow", latency_ms=5001).is_tail


def test_content_switch_is_audited_and_retention_comes_from_compliance(tenant: Tenant) -> None:
    ingest_settings_update(tenant=tenant, store_content=False)
    assert ingest_one(tenant, status="error").input == ""
    ingest_settings_update(tenant=tenant, store_content=True)
    with tenant_context(tenant):
        compliance_settings_update(data={"content_retention_days": 7})
    event = ingest_one(tenant, status="error")
    assert event.content_expires_at is not None
    assert event.content_expires_at - event.received_at == timedelta(days=7)
    entries = AuditEntry.objects.filter(chain=tenant.schema_name, action="ingest_settings.update")
    assert entries.count() == 2


def test_long_content_is_cut_and_flagged(tenant: Tenant) -> None:
    raw = good(status="error", output="y" * (MAX_CONTENT_CHARS + 50), input=["a", {"b": 1}])
    ingest_events(tenant=tenant, raw_events=[raw])
    with tenant_context(tenant):
        event = Event.objects.get(event_id=raw["event_id"])
    assert len(event.output) == MAX_CONTENT_CHARS
    assert event.input == '["a",{"b":1}]'
    assert event.attributes["vigil.content_truncated"] is True


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("write to bob.smith+x@corp.example.org", "write to [EMAIL]"),
        ("tel 020 7946 0958", "tel [PHONE]"),
        ("visa 4111-1111-1111-1111", "visa [CARD]"),
        ("order 4111 1111 1111 1112 shipped", "order 4111 1111 1111 1112 shipped"),  # Luhn fails
        ("IBAN DE89 3704 0044 0532 0130 00.", "IBAN [IBAN]."),
        ("pay to GB82WEST12345698765432", "pay to [IBAN]"),
        ("not an iban GB00WEST12345698765432", "not an iban GB00WEST12345698765432"),
        ("key sk-proj-AbCdEfGhIjKlMnOpQrStUv", "key [SECRET]"),
        ("aws AKIAIOSFODNN7EXAMPLE", "aws [SECRET]"),
        ("Authorization: Bearer abcdefghijklmnopqrstuvwxyz", "Authorization: [SECRET]"),
        ("password=hunter22 and api_key: 'abc123def'", "password=[SECRET] and api_key: [SECRET]"),
        ("nothing to hide here", "nothing to hide here"),
    ],
)
def test_redaction(text: str, expected: str) -> None:
    assert redact_content(text) == expected


def test_settings_page_admin_saves_and_others_are_refused(
    tenant: Tenant,
    other_tenant: Tenant,
    tenant_client: Callable[..., Client],
    member_factory: Callable[..., User],
) -> None:
    admin = tenant_client(tenant, member_factory(tenant, "admin"))
    page = admin.get("/settings/ingestion/")
    assert page.status_code == 200 and "Store prompt and answer text" in page.content.decode()
    response = admin.post("/settings/ingestion/", {}, HTTP_HX_REQUEST="true")  # box unticked
    assert response.status_code == 200 and "now off" in response.content.decode()
    assert ingest_settings_get(tenant=tenant).store_content is False
    analyst = tenant_client(tenant, member_factory(tenant, "analyst"))
    assert analyst.get("/settings/ingestion/").status_code == 403
    beta_admin = tenant_client(tenant, member_factory(other_tenant, "admin"))
    assert beta_admin.post("/settings/ingestion/", {}).status_code in {403, 404}
    assert ingest_settings_get(tenant=other_tenant).store_content is True


def test_vigil_keys_are_redacted() -> None:
    from metrics.redaction import redact_content

    raw_key = "vk_pGa1tnLxqO7NWrSAdMRMIuv30IckZBuAYr47B2a4dqo"
    redacted = redact_content(f"my key is {raw_key} ok")
    assert raw_key not in redacted and "[SECRET]" in redacted
