"""Every read the compliance pages, exports and other apps show."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.apps import apps
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, TruncDay
from django.http import Http404

from compliance.models import (
    AuditChainHead,
    AuditEntry,
    ChainCheckpoint,
    ChainVerification,
    EvidenceExport,
    ReviewState,
    VerificationStatus,
    ViolationRecord,
    ViolationReview,
)


def chain_latest_verification(*, chain: str) -> ChainVerification | None:
    return ChainVerification.objects.filter(chain=chain).order_by("-started_at", "-id").first()


def chain_latest_checkpoint(*, chain: str) -> ChainCheckpoint | None:
    return ChainCheckpoint.objects.filter(chain=chain).order_by("-seq", "-signed_at").first()


def chain_breaks() -> list[ChainVerification]:
    """Chains whose latest verification found a break (for alerts and the ops console)."""
    latest = ChainVerification.objects.order_by("chain", "-started_at", "-id").distinct("chain")
    return [v for v in latest if v.status == VerificationStatus.BROKEN]


def chain_checkpoints(*, chain: str) -> QuerySet[ChainCheckpoint]:
    return ChainCheckpoint.objects.filter(chain=chain).order_by("seq", "signed_at")


# --- audit log ---------------------------------------------------------------


def audit_entries_search(
    *,
    chain: str,
    actor: str = "",
    action: str = "",
    object_type: str = "",
    object_id: str = "",
    start: datetime | None = None,
    end: datetime | None = None,
) -> QuerySet[AuditEntry]:
    """The tenant's audit entries, newest first, filtered as the audit log page asks."""
    entries = AuditEntry.objects.filter(chain=chain)
    if actor:
        entries = entries.filter(Q(actor_label__icontains=actor) | Q(actor_id=actor))
    if action:
        entries = entries.filter(action=action)
    if object_type:
        entries = entries.filter(object_type=object_type)
    if object_id:
        entries = entries.filter(object_id=object_id)
    if start:
        entries = entries.filter(occurred_at__gte=start)
    if end:
        entries = entries.filter(occurred_at__lt=end)
    return entries.order_by("-seq")


def audit_filter_options(*, chain: str) -> dict[str, list[str]]:
    entries = AuditEntry.objects.filter(chain=chain)
    return {
        "actions": list(entries.order_by("action").values_list("action", flat=True).distinct()),
        "object_types": list(
            entries.order_by("object_type").values_list("object_type", flat=True).distinct()
        ),
    }


@dataclass(frozen=True)
class ChainStatus:
    head_seq: int
    head_hash: str
    verification: ChainVerification | None
    checkpoint: ChainCheckpoint | None

    @property
    def state(self) -> str:
        """ok | broken | unverified, for the status chip."""
        if self.verification is None:
            return "unverified"
        return str(self.verification.status)


def chain_status(*, chain: str) -> ChainStatus:
    head = AuditChainHead.objects.filter(chain=chain).first()
    return ChainStatus(
        head_seq=head.seq if head else 0,
        head_hash=head.head_hash if head else "",
        verification=chain_latest_verification(chain=chain),
        checkpoint=chain_latest_checkpoint(chain=chain),
    )


# --- safety violations (current tenant schema) --------------------------------

REVIEW_STATES = ("unreviewed", *ReviewState.values)


def _latest_state() -> Subquery:
    return Subquery(
        ViolationReview.objects.filter(record=OuterRef("pk"))
        .order_by("-created_at", "-id")
        .values("state")[:1]
    )


def violation_records_list(
    *,
    policy: str = "",
    severity: str = "",
    feature: str = "",
    review_state: str = "",
    start: datetime | None = None,
    end: datetime | None = None,
) -> QuerySet[ViolationRecord]:
    """Records newest first with `review_state` (latest review, or 'unreviewed')."""
    records = ViolationRecord.objects.annotate(
        review_state=Coalesce(_latest_state(), Value("unreviewed"))
    )
    if policy:
        records = records.filter(policy=policy)
    if severity:
        records = records.filter(severity=severity)
    if feature:
        records = records.filter(feature=feature)
    if start:
        records = records.filter(occurred_at__gte=start)
    if end:
        records = records.filter(occurred_at__lt=end)
    if review_state:
        records = records.filter(review_state=review_state)
    return records.order_by("-occurred_at", "-id")


def violation_filter_options() -> dict[str, list[str]]:
    records = ViolationRecord.objects.all()
    return {
        "policies": list(records.order_by("policy").values_list("policy", flat=True).distinct()),
        "severities": list(
            records.order_by("severity").values_list("severity", flat=True).distinct()
        ),
        "features": list(records.order_by("feature").values_list("feature", flat=True).distinct()),
        "review_states": list(REVIEW_STATES),
    }


def violation_counts_by_day(records: QuerySet[ViolationRecord]) -> dict[str, Any]:
    """Daily counts per severity of the filtered records, for the chart (x: epoch seconds)."""
    rows = (
        records.order_by()
        .annotate(day=TruncDay("occurred_at"))
        .values("day", "severity")
        .annotate(n=Count("id"))
        .order_by("day")
    )
    counts: dict[str, dict[datetime, int]] = {}
    seen: set[datetime] = set()
    for row in rows:
        seen.add(row["day"])
        counts.setdefault(row["severity"], {})[row["day"]] = row["n"]
    days: list[datetime] = []
    if seen:  # every day from the first to the last, so quiet days plot as zero
        day, last = min(seen), max(seen)
        while day <= last and len(days) < 3700:
            days.append(day)
            day += timedelta(days=1)
    order = {name: i for i, name in enumerate(("critical", "high", "medium", "low"))}
    severities = sorted(counts, key=lambda s: (order.get(s, 9), s))
    return {
        "x": [int(day.timestamp()) for day in days],
        "series": [
            {"label": s, "values": [counts[s].get(day, 0) for day in days]} for s in severities
        ],
        "total": sum(sum(v.values()) for v in counts.values()),
    }


def violation_review_counts(records: QuerySet[ViolationRecord]) -> dict[str, int]:
    """How many of the filtered records are in each review state (one query).

    `records` comes from violation_records_list, which annotates review_state.
    """
    counts = dict.fromkeys(REVIEW_STATES, 0)
    by_state = records.order_by().values("review_state")  # type: ignore[misc]  # annotation
    for row in by_state.annotate(n=Count("id")):
        counts[row["review_state"]] = row["n"]
    return counts


def violation_record_get(*, record_id: int) -> ViolationRecord:
    """One record of the current tenant (404 otherwise) with its reviews."""
    record = violation_records_list().filter(pk=record_id).first()
    if record is None:
        raise Http404("No such violation record.")
    return record


def violation_reviews_of(*, record: ViolationRecord) -> QuerySet[ViolationReview]:
    return record.reviews.order_by("-created_at", "-id")


# --- evidence exports ---------------------------------------------------------


def exports_list(*, limit: int = 50) -> list[EvidenceExport]:
    return list(EvidenceExport.objects.order_by("-created_at", "-id")[:limit])


def export_get(*, export_id: int) -> EvidenceExport:
    export = EvidenceExport.objects.filter(pk=export_id).first()
    if export is None:
        raise Http404("No such export.")
    return export


def retention_last_run(*, chain: str) -> AuditEntry | None:
    """The latest expiry run of the tenant (its audit entry carries the counts)."""
    return (
        AuditEntry.objects.filter(chain=chain, action__in=["retention.expired", "retention.held"])
        .order_by("-seq")
        .first()
    )


@dataclass(frozen=True)
class ChainRow:
    chain: str
    name: str
    head_seq: int
    verification: ChainVerification | None
    checkpoint: ChainCheckpoint | None

    @property
    def state(self) -> str:
        return "unverified" if self.verification is None else str(self.verification.status)


def chain_status_all_tenants() -> list[ChainRow]:
    """Ops console: every chain (each tenant's and the platform's), its latest
    verification and checkpoint, in three queries. Cross-tenant by design."""
    names = dict(apps.get_model("tenants", "Tenant").objects.values_list("schema_name", "name"))
    latest_verification = {
        v.chain: v
        for v in ChainVerification.objects.order_by("chain", "-started_at", "-id").distinct("chain")
    }
    latest_checkpoint = {
        c.chain: c
        for c in ChainCheckpoint.objects.order_by("chain", "-seq", "-signed_at").distinct("chain")
    }
    rows = [
        ChainRow(
            chain=head.chain,
            name=names.get(head.chain, "Platform" if head.chain == "public" else "(no tenant)"),
            head_seq=head.seq,
            verification=latest_verification.get(head.chain),
            checkpoint=latest_checkpoint.get(head.chain),
        )
        for head in AuditChainHead.objects.order_by("chain")
    ]
    order = {"broken": 0, "unverified": 1, "ok": 2}
    return sorted(rows, key=lambda row: (order.get(row.state, 3), row.chain))
