"""Stripe state per tenant: account, meter events sent, credits, webhook events (public)."""

from __future__ import annotations

from django.db import models


class SubscriptionStatus(models.TextChoices):
    NONE = "none", "No subscription"
    ACTIVE = "active", "Active"
    PAST_DUE = "past_due", "Past due"
    CANCELED = "canceled", "Cancelled"


class BillingAccount(models.Model):
    tenant = models.OneToOneField(
        "tenants.Tenant", on_delete=models.PROTECT, related_name="billing_account"
    )
    stripe_customer_id = models.CharField(max_length=64, blank=True, default="")
    stripe_subscription_id = models.CharField(max_length=64, blank=True, default="")
    status = models.CharField(
        max_length=16, choices=SubscriptionStatus.choices, default=SubscriptionStatus.NONE
    )
    # Set by invoice.payment_failed, cleared by invoice.paid: flagged to ops, never suspends.
    payment_failed = models.BooleanField(default=False)
    payment_failed_at = models.DateTimeField(null=True, blank=True)
    last_invoice_id = models.CharField(max_length=64, blank=True, default="")
    last_invoice_status = models.CharField(max_length=32, blank=True, default="")
    metering_enabled = models.BooleanField(default=True)
    # Hours before this instant have their meter events recorded (the metering cursor).
    metered_until = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.tenant_id} {self.stripe_customer_id or '-'}"


class SendStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"


class MeterEventRecord(models.Model):
    """One meter event per tenant, meter and hour (plus corrections found by reconciliation).

    `identifier` is deterministic, so a retried send reuses it (and it is the
    Idempotency-Key too): Stripe counts the event once.
    """

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.PROTECT, related_name="+")
    event_name = models.CharField(max_length=100)
    hour = models.DateTimeField()
    identifier = models.CharField(max_length=200, unique=True)
    value = models.BigIntegerField()  # micro-USD of usage charge
    is_correction = models.BooleanField(default=False)
    status = models.CharField(max_length=8, choices=SendStatus.choices, default=SendStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "hour"], name="meterevent_tenant_hour")]
        ordering = ["tenant_id", "hour", "id"]

    def __str__(self) -> str:
        return self.identifier


class MeterReconciliation(models.Model):
    """The nightly comparison of what was metered to Stripe with Vigil's own totals."""

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.PROTECT, related_name="+")
    day = models.DateField()
    vigil_micros = models.BigIntegerField()
    metered_micros = models.BigIntegerField()
    corrected_micros = models.BigIntegerField(default=0)
    checked_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "day"], name="meterrecon_unique_day")
        ]

    def __str__(self) -> str:
        return f"{self.tenant_id} {self.day}: {self.difference_micros:+d}"

    @property
    def difference_micros(self) -> int:
        return self.vigil_micros - self.metered_micros


class SlaCredit(models.Model):
    """A service credit for an SLA breach, issued to Stripe exactly once."""

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.PROTECT, related_name="+")
    month = models.DateField()  # first day of the month
    slo_name = models.CharField(max_length=200, blank=True, default="")
    breach_minutes = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    credit_percent = models.DecimalField(max_digits=6, decimal_places=3)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    reason = models.CharField(max_length=500)
    idempotency_key = models.CharField(max_length=200, unique=True)
    status = models.CharField(max_length=8, choices=SendStatus.choices, default=SendStatus.PENDING)
    stripe_object_id = models.CharField(max_length=64, blank=True, default="")
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "month"], name="slacredit_unique_month")
        ]
        ordering = ["-month", "tenant_id"]

    def __str__(self) -> str:
        return f"{self.tenant_id} {self.month:%Y-%m} {self.amount}"


class StripeWebhookEvent(models.Model):
    """Every Stripe event received once: the id deduplicates Stripe's retries."""

    event_id = models.CharField(max_length=100, unique=True)
    type = models.CharField(max_length=100)
    customer_id = models.CharField(max_length=64, blank=True, default="")
    received_at = models.DateTimeField(auto_now_add=True)
    outcome = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.event_id} {self.type}"


class StatementAdjustment(models.Model):
    """A closed month's allowance credit and minimum top-up, as one Stripe invoice item.

    Meters bill the usage charge; this brings the Stripe invoice to the statement's
    total. Sent once (fixed idempotency key per statement) to the next invoice.
    """

    statement = models.OneToOneField(
        "billing.Statement", on_delete=models.PROTECT, related_name="stripe_adjustment"
    )
    amount = models.DecimalField(max_digits=14, decimal_places=2)  # negative = credit
    description = models.CharField(max_length=500)
    idempotency_key = models.CharField(max_length=200, unique=True)
    status = models.CharField(max_length=8, choices=SendStatus.choices, default=SendStatus.PENDING)
    stripe_object_id = models.CharField(max_length=64, blank=True, default="")
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.statement_id}: {self.amount}"
