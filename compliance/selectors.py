"""Every read the compliance pages, exports and other apps show."""

from __future__ import annotations

from django.db.models import QuerySet

from compliance.models import ChainCheckpoint, ChainVerification, VerificationStatus


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
