"""Billing accounts (ops links a tenant to its Stripe customer and subscription)."""

from __future__ import annotations

import re
from typing import Any

from django.db import transaction

from billing.stripe.models import BillingAccount, SubscriptionStatus
from compliance.services import audit_record
from core.exceptions import ApplicationError
from core.services import model_update
from tenants.models import Tenant

_CUSTOMER = re.compile(r"^cus_[A-Za-z0-9]{1,60}$")
_SUBSCRIPTION = re.compile(r"^sub_[A-Za-z0-9]{1,60}$")


def billing_account_update(*, tenant: Tenant, data: dict[str, Any]) -> BillingAccount:
    """Create or update the tenant's billing account (allow-listed fields), audited."""
    clean: dict[str, Any] = {}
    errors: dict[str, str] = {}
    if "stripe_customer_id" in data:
        value = str(data["stripe_customer_id"] or "").strip()
        if value and not _CUSTOMER.match(value):
            errors["stripe_customer_id"] = "A Stripe customer id looks like cus_..."
        clean["stripe_customer_id"] = value
    if "stripe_subscription_id" in data:
        value = str(data["stripe_subscription_id"] or "").strip()
        if value and not _SUBSCRIPTION.match(value):
            errors["stripe_subscription_id"] = "A Stripe subscription id looks like sub_..."
        clean["stripe_subscription_id"] = value
    if "metering_enabled" in data:
        clean["metering_enabled"] = bool(data["metering_enabled"])
    if "status" in data:
        if data["status"] not in SubscriptionStatus.values:
            errors["status"] = "Unknown status."
        clean["status"] = data["status"]
    if errors:
        raise ApplicationError("Invalid billing account.", details=errors)
    with transaction.atomic():
        account, created = BillingAccount.objects.select_for_update().get_or_create(tenant=tenant)
        account, before, after = model_update(
            instance=account,
            fields=["stripe_customer_id", "stripe_subscription_id", "metering_enabled", "status"],
            data=clean,
        )
        if created or after:
            audit_record(
                tenant_slug=tenant.schema_name,
                action="billing.account_updated",
                object_type="billing_account",
                object_id=account.pk,
                before=before,
                after=after,
            )
    return account
