"""POST /webhooks/stripe: signed by the library's own helper; tampered and replayed refused."""

from __future__ import annotations

import json
import time

import pytest
import stripe

from billing.models import BillingAccount, StripeWebhookEvent, SubscriptionStatus
from billing.stripe.services import billing_account_update
from compliance.models import AuditEntry
from tests.billing.conftest import WEBHOOK_SECRET

URL = "/webhooks/stripe"


def _event(kind: str, customer: str = "cus_hookalpha", event_id: str = "evt_1", **obj) -> str:
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": kind,
            "data": {"object": {"id": "in_123", "object": "invoice", "customer": customer, **obj}},
        }
    )


def _post(
    client,
    payload: str,
    *,
    timestamp: int | None = None,
    secret: str = WEBHOOK_SECRET,
    header: str | None = None,
):
    sig = (
        header
        if header is not None
        else stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp=timestamp)
    )
    return client.post(
        URL, data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=sig
    )


@pytest.fixture
def account(tenant, settings):
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    return billing_account_update(
        tenant=tenant, data={"stripe_customer_id": "cus_hookalpha", "status": "active"}
    )


def test_payment_failed_flags_then_paid_clears_and_duplicates_are_ignored(public_client, account):
    client = public_client()
    response = _post(client, _event("invoice.payment_failed", event_id="evt_fail_1"))
    assert response.status_code == 200, response.content
    assert response.json()["outcome"] == "applied"
    account.refresh_from_db()
    assert (
        account.payment_failed and account.payment_failed_at and account.last_invoice_id == "in_123"
    )
    assert account.tenant.status == "active"  # flagged to ops, never suspended
    assert (
        AuditEntry.objects.filter(
            chain="alpha",
            action="billing.stripe_invoice_payment_failed",
            object_id=str(account.pk),
        ).count()
        == 1
    )

    again = _post(client, _event("invoice.payment_failed", event_id="evt_fail_1"))
    assert again.status_code == 200 and again.json()["outcome"] == "duplicate"
    assert StripeWebhookEvent.objects.filter(event_id="evt_fail_1").count() == 1
    assert (
        AuditEntry.objects.filter(
            chain="alpha",
            action="billing.stripe_invoice_payment_failed",
            object_id=str(account.pk),
        ).count()
        == 1
    )

    assert _post(client, _event("invoice.paid", event_id="evt_paid_1")).status_code == 200
    account.refresh_from_db()
    assert not account.payment_failed and account.last_invoice_status == "paid"

    assert (
        _post(client, _event("customer.subscription.deleted", event_id="evt_sub_1")).status_code
        == 200
    )
    account.refresh_from_db()
    assert account.status == SubscriptionStatus.CANCELED


def test_unknown_customers_and_types_are_acknowledged(public_client, account):
    client = public_client()
    r = _post(client, _event("invoice.paid", customer="cus_nobody", event_id="evt_x1"))
    assert r.status_code == 200 and r.json()["outcome"] == "unknown customer"
    r = _post(client, _event("charge.refunded", event_id="evt_x2"))
    assert r.status_code == 200 and r.json()["outcome"] == "ignored"


def test_tampered_replayed_and_malformed_are_refused(public_client, account):
    client = public_client()
    good = _event("invoice.payment_failed", event_id="evt_t1")
    sig = stripe.WebhookSignature.generate_signature_header(good, WEBHOOK_SECRET)
    tampered = good.replace("cus_hookalpha", "cus_hookalphb")
    assert _post(client, tampered, header=sig).status_code == 400
    # Replayed: a valid signature made 10 minutes ago (tolerance is 5).
    assert _post(client, good, timestamp=int(time.time()) - 600).status_code == 400
    assert _post(client, good, secret="whsec_wrong").status_code == 400
    assert _post(client, good, header="").status_code == 400
    assert _post(client, good, header="t=abc,v1=zz").status_code == 400
    for body in (
        "not json",
        "[]",
        json.dumps({"id": 1, "type": "x", "data": {}}),
        json.dumps({"id": "e", "type": "t", "data": {"object": []}}),
    ):
        assert _post(client, body).status_code == 400, body
    raw = b"\xff\xfe"
    assert (
        client.post(
            URL, data=raw, content_type="application/json", HTTP_STRIPE_SIGNATURE="t=1,v1=00"
        ).status_code
        == 400
    )
    account.refresh_from_db()
    assert not account.payment_failed
    assert not StripeWebhookEvent.objects.filter(event_id="evt_t1").exists()
    assert client.get(URL).status_code == 405


def test_webhook_needs_a_secret_and_lives_on_the_public_host_only(
    public_client, tenant_client, tenant, settings
):
    settings.STRIPE_WEBHOOK_SECRET = ""
    assert _post(public_client(), _event("invoice.paid"), secret="whsec_any").status_code == 503
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    assert _post(tenant_client(tenant), _event("invoice.paid")).status_code == 404
    assert not BillingAccount.objects.filter(payment_failed=True, tenant=tenant).exists()
