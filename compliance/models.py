"""Compliance records. The audit log lives in `public`, one hash chain per tenant."""

from __future__ import annotations

from django.db import models

PLATFORM_CHAIN = "public"


class AuditEntry(models.Model):
    """One state change. Append-only: database triggers refuse UPDATE, DELETE, TRUNCATE."""

    chain = models.CharField(max_length=63, help_text="tenant slug, or 'public' for platform")
    seq = models.BigIntegerField()
    occurred_at = models.DateTimeField()
    actor_type = models.CharField(max_length=16)
    actor_id = models.CharField(max_length=64, blank=True)
    actor_label = models.CharField(max_length=254, blank=True)
    actor_role = models.CharField(max_length=32, blank=True)
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64, blank=True)
    before = models.JSONField(default=dict)
    after = models.JSONField(default=dict)
    ip = models.CharField(max_length=64, blank=True)
    user_agent = models.CharField(max_length=400, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    prev_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["chain", "seq"], name="auditentry_chain_seq_unique")
        ]
        indexes = [
            models.Index(fields=["chain", "-occurred_at"], name="auditentry_chain_time"),
            models.Index(fields=["chain", "action"], name="auditentry_chain_action"),
        ]
        ordering = ["chain", "seq"]

    def __str__(self) -> str:
        return f"{self.chain}#{self.seq} {self.action}"


class AuditChainHead(models.Model):
    """The last entry of each chain; locking this row serialises writers of the chain."""

    chain = models.CharField(max_length=63, unique=True)
    seq = models.BigIntegerField(default=0)
    head_hash = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"{self.chain} @ {self.seq}"


# --- public: signed checkpoints and verification results -------------------


class ChainCheckpoint(models.Model):
    """A signed statement "chain X had N entries ending in hash H at time T".

    Kept apart from the entries (own table, append-only trigger): rewriting the
    log would also need the signing key to forge matching checkpoints.
    """

    chain = models.CharField(max_length=63)
    seq = models.BigIntegerField()
    head_hash = models.CharField(max_length=64)
    signed_at = models.DateTimeField()
    key_id = models.CharField(max_length=32)
    public_key_pem = models.TextField()
    signature = models.CharField(max_length=128, help_text="base64 Ed25519 signature")

    class Meta:
        indexes = [models.Index(fields=["chain", "-seq"], name="checkpoint_chain_seq")]
        ordering = ["chain", "seq", "signed_at"]

    def __str__(self) -> str:
        return f"{self.chain} @ {self.seq} signed {self.signed_at:%Y-%m-%d %H:%M}"


class VerificationStatus(models.TextChoices):
    OK = "ok", "Intact"
    BROKEN = "broken", "Broken"


class ChainVerification(models.Model):
    """One run of the chain verification for one chain: every link re-hashed."""

    chain = models.CharField(max_length=63)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=VerificationStatus.choices)
    entries_checked = models.BigIntegerField(default=0)
    checkpoints_checked = models.IntegerField(default=0)
    head_seq = models.BigIntegerField(default=0)
    first_bad_seq = models.BigIntegerField(null=True, blank=True)
    problems = models.JSONField(default=list)

    class Meta:
        indexes = [models.Index(fields=["chain", "-started_at"], name="chainverif_chain_time")]
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.chain} {self.status} at {self.started_at:%Y-%m-%d %H:%M}"


# --- tenant schema: safety-violation records, reviews, settings, exports ----


class ViolationKind(models.TextChoices):
    VIOLATION = "violation", "Policy violation"
    REFUSAL = "refusal", "Refusal"


class ViolationRecord(models.Model):
    """One policy violation (or refusal) of one event. Append-only (trigger)."""

    kind = models.CharField(max_length=16, choices=ViolationKind.choices)
    position = models.IntegerField(help_text="index in the event's policy_violations; -1 refusal")
    event_id = models.CharField(max_length=128)
    trace_id = models.CharField(max_length=64, blank=True, default="")
    span_id = models.CharField(max_length=32, blank=True, default="")
    feature = models.CharField(max_length=128, blank=True, default="")
    model = models.CharField(max_length=128, blank=True, default="")
    policy = models.CharField(max_length=128)
    severity = models.CharField(max_length=16)
    action = models.CharField(max_length=32, blank=True, default="")
    excerpt = models.CharField(max_length=300, blank=True, default="")
    occurred_at = models.DateTimeField(help_text="the event's timestamp")
    recorded_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["event_id", "kind", "position"], name="violationrecord_event_unique"
            )
        ]
        indexes = [
            models.Index(fields=["-occurred_at"], name="violation_time"),
            models.Index(fields=["policy", "-occurred_at"], name="violation_policy_time"),
            models.Index(fields=["feature", "-occurred_at"], name="violation_feature_time"),
        ]
        ordering = ["-occurred_at", "-id"]

    def __str__(self) -> str:
        return f"{self.policy} ({self.severity}) on {self.event_id}"


class ReviewState(models.TextChoices):
    CONFIRMED = "confirmed", "Confirmed"
    FALSE_POSITIVE = "false_positive", "False positive"
    REMEDIATED = "remediated", "Remediated"


class ViolationReview(models.Model):
    """A reviewer's verdict on a record. A new verdict is a new row; the latest one counts."""

    record = models.ForeignKey(ViolationRecord, on_delete=models.PROTECT, related_name="reviews")
    state = models.CharField(max_length=16, choices=ReviewState.choices)
    note = models.TextField()
    reviewer_id = models.CharField(max_length=64)
    reviewer_label = models.CharField(max_length=254)
    reviewer_role = models.CharField(max_length=32, blank=True, default="")
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["record", "-created_at"], name="review_record_time")]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.state} by {self.reviewer_label}"


class ComplianceSettings(models.Model):
    """One row per tenant schema (pk=1): what is recorded and how long data is kept."""

    record_refusals = models.BooleanField(default=False)
    events_retention_days = models.PositiveIntegerField(default=400)
    content_retention_days = models.PositiveIntegerField(default=30)
    records_retention_days = models.PositiveIntegerField(default=7 * 365 + 2)
    legal_hold = models.BooleanField(default=False)
    legal_hold_reason = models.CharField(max_length=500, blank=True, default="")
    updated_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return "compliance settings"


class ExportStatus(models.TextChoices):
    PENDING = "pending", "Queued"
    RUNNING = "running", "Building"
    DONE = "done", "Ready"
    FAILED = "failed", "Failed"


class EvidenceExport(models.Model):
    """A requested evidence bundle and its progress; the ZIP lives under VIGIL_DATA_DIR."""

    requested_by_id = models.CharField(max_length=64)
    requested_by_label = models.CharField(max_length=254)
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    include_audit = models.BooleanField(default=True)
    include_violations = models.BooleanField(default=True)
    include_checkpoints = models.BooleanField(default=True)
    status = models.CharField(max_length=16, choices=ExportStatus.choices, default="pending")
    progress = models.PositiveSmallIntegerField(default=0)
    message = models.CharField(max_length=500, blank=True, default="")
    file_name = models.CharField(max_length=80, blank=True, default="")
    size_bytes = models.BigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True, default="")
    counts = models.JSONField(default=dict)
    created_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"export {self.pk} {self.status}"
