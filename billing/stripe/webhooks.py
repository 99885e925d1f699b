"""Stripe webhook events: verified, deduplicated by id, acted on (database only).

invoice.paid clears the payment-failed flag, invoice.payment_failed sets it
(ops sees it on the billing overview; suspension stays an ops decision),
customer.subscription.deleted marks the subscription cancelled.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction

from billing.stripe.models import BillingAccount, StripeWebhookEvent, SubscriptionStatus
from compliance.services import audit_record
from core.exceptions import ApplicationError

HANDLED = ("invoice.paid", "invoice.payment_failed", "customer.subscription.deleted")
MAX_BODY = 512 * 1024


@dataclass(frozen=True)
class WebhookResult:
    event_id: str
    type: str
    outcome: str
    duplicate: bool = False


def webhook_event_verify(*, payload: bytes, signature: str) -> dict[str, Any]:
    """The event if the Stripe-Signature header is valid and recent, else ApplicationError."""
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret:
        raise ApplicationError("Webhooks are not configured.", status_code=503)
    if len(payload) > MAX_BODY:
        raise ApplicationError("Payload too large.")
    try:
        # What stripe.Webhook.construct_event verifies (HMAC-SHA256 over "t.payload",
        # timestamp within 300 s); the body is then parsed here so a signed but
        # malformed body (a JSON list, bad UTF-8) is a 400, never a crash in the library.
        stripe.WebhookSignature.verify_header(payload, signature, secret, tolerance=300)
        event = json.loads(payload)
    except (stripe.SignatureVerificationError, ValueError, TypeError) as exc:
        raise ApplicationError("Invalid Stripe signature or payload.") from exc
    data = event.get("data") if isinstance(event, dict) else None
    if (
        not isinstance(event, dict)
        or not isinstance(event.get("id"), str)
        or not isinstance(event.get("type"), str)
        or not isinstance(data, dict)
        or not isinstance(data.get("object"), dict)
    ):
        raise ApplicationError("Not a Stripe event.")
    return event


def _customer_of(obj: dict[str, Any]) -> str:
    customer = obj.get("customer")
    if isinstance(customer, dict):
        customer = customer.get("id")
    return customer if isinstance(customer, str) else ""


def webhook_event_process(*, event: dict[str, Any]) -> WebhookResult:
    """Apply a verified event once; a repeated event id is acknowledged and ignored."""
    event_id, kind = event["id"][:100], event["type"][:100]
    obj = event["data"]["object"]
    customer = _customer_of(obj)[:64]
    try:
        with transaction.atomic():
            record = StripeWebhookEvent.objects.create(
                event_id=event_id, type=kind, customer_id=customer
            )
            outcome = _apply(kind, obj, customer)
            StripeWebhookEvent.objects.filter(pk=record.pk).update(outcome=outcome[:200])
    except IntegrityError:
        return WebhookResult(event_id, kind, "duplicate", duplicate=True)
    return WebhookResult(event_id, kind, outcome)


def _apply(kind: str, obj: dict[str, Any], customer: str) -> str:
    if kind not in HANDLED:
        return "ignored"
    account = (
        BillingAccount.objects.select_for_update()
        .select_related("tenant")
        .filter(stripe_customer_id=customer)
        .first()
        if customer
        else None
    )
    if account is None:
        return "unknown customer"
    before = {
        "status": account.status,
        "payment_failed": account.payment_failed,
        "last_invoice_status": account.last_invoice_status,
    }
    raw_id = obj.get("id")
    invoice_id = raw_id[:64] if isinstance(raw_id, str) else ""
    update: dict[str, Any]
    if kind == "invoice.paid":
        update = {"payment_failed": False, "payment_failed_at": None}
        update |= {"last_invoice_id": invoice_id, "last_invoice_status": "paid"}
    elif kind == "invoice.payment_failed":
        update = {"payment_failed": True, "payment_failed_at": datetime.now(tz=UTC)}
        update |= {"last_invoice_id": invoice_id, "last_invoice_status": "payment_failed"}
    else:
        update = {"status": SubscriptionStatus.CANCELED}
    BillingAccount.objects.filter(pk=account.pk).update(**update)
    audit_record(
        tenant_slug=account.tenant.schema_name,
        action=f"billing.stripe_{kind.replace('.', '_')}",
        object_type="billing_account",
        object_id=account.pk,
        before=before,
        after={k: v for k, v in update.items() if k in before or k == "last_invoice_id"},
    )
    return "applied"
