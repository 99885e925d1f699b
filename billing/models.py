"""Billing models, all in `public` with a tenant foreign key; defined per sub-domain."""

from billing.ratecards.models import PricingMode, RateCard
from billing.statements.models import Statement, StatementLine
from billing.stripe.models import (
    BillingAccount,
    MeterEventRecord,
    MeterReconciliation,
    SendStatus,
    SlaCredit,
    StatementAdjustment,
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
    "StatementAdjustment",
    "StatementLine",
    "StripeWebhookEvent",
    "SubscriptionStatus",
]
