"""Billing models, all in `public` with a tenant foreign key; defined per sub-domain."""

from billing.ratecards.models import PricingMode, RateCard
from billing.statements.models import Statement, StatementLine
from billing.stripe.models import (
    BillingAccount,
    MeterEventRecord,
    MeterReconciliation,
    SendStatus,
    SlaCredit,
    StripeWebhookEvent,
    SubscriptionStatus,
)

__all__ = [
    "BillingAccount",
    "MeterEventRecord",
    "MeterReconciliation",
    "PricingMode",
    "RateCard",
    "SendStatus",
    "SlaCredit",
    "Statement",
    "StatementLine",
    "StripeWebhookEvent",
    "SubscriptionStatus",
]
