"""Building one evidence ZIP in the requesting tenant's schema (the Celery task body)."""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from compliance import bundle_verify
from compliance.audit import HASHED_FIELDS
from compliance.chain import checkpoints_create
from compliance.evidence.requests import PROGRESS_EVERY, current_tenant_slug, exports_dir
from compliance.evidence.zipwriter import BundleWriter
from compliance.models import (
    AuditEntry,
    ChainCheckpoint,
    EvidenceExport,
    ExportStatus,
    ViolationRecord,
    ViolationReview,
)
from compliance.services import audit_record
from compliance.signing import SigningKey, signing_key_load
from core.db import tenant_connection
from core.request_context import acting_as

logger = logging.getLogger("vigil.compliance")

RECORD_FIELDS = (
    "id",
    "kind",
    "position",
    "event_id",
    "trace_id",
    "span_id",
    "feature",
    "model",
    "policy",
    "severity",
    "action",
    "excerpt",
    "occurred_at",
    "recorded_at",
)
REVIEW_FIELDS = (
    "id",
    "record_id",
    "state",
    "note",
    "reviewer_id",
    "reviewer_label",
    "reviewer_role",
    "created_at",
)
CHECKPOINT_FIELDS = (
    "chain",
    "seq",
    "head_hash",
    "signed_at",
    "key_id",
    "public_key_pem",
    "signature",
)


def _iso(value: datetime) -> str:
    return value.isoformat(timespec="microseconds")


def _audit_rows(chain: str, first_seq: int, last_seq: int) -> Any:
    rows = (
        AuditEntry.objects.filter(chain=chain, seq__gte=first_seq, seq__lte=last_seq)
        .order_by("seq")
        .values(*HASHED_FIELDS, "entry_hash")
        .iterator(chunk_size=2000)
    )
    for row in rows:
        row["occurred_at"] = _iso(row["occurred_at"])
        yield row


def _plain_rows(queryset: Any, columns: tuple[str, ...]) -> Any:
    for row in queryset.values(*columns).iterator(chunk_size=2000):
        yield {k: (_iso(v) if isinstance(v, datetime) else v) for k, v in row.items()}


def _readme(manifest: dict[str, Any], key: SigningKey) -> bytes:
    template = (
        Path(__file__).resolve().parent.parent / "templates" / "compliance" / "bundle_readme.txt"
    ).read_text()
    return template.format(
        tenant=manifest["tenant"]["slug"],
        start=manifest["period"]["start"],
        end=manifest["period"]["end"],
        generated_at=manifest["generated_at"],
        key_id=key.key_id,
    ).encode()


def evidence_export_build(*, export_id: int) -> EvidenceExport:
    """Build the ZIP of one requested export in the current tenant schema (the Celery body)."""
    slug = current_tenant_slug()
    export = EvidenceExport.objects.get(pk=export_id)
    if export.status not in (ExportStatus.PENDING, ExportStatus.RUNNING):
        return export
    EvidenceExport.objects.filter(pk=export.pk).update(status=ExportStatus.RUNNING, progress=1)
    label = f"evidence export worker (for {export.requested_by_label})"
    # A worker killed mid-build (the task is then redelivered) left its partial file.
    _partials_remove(slug, export.pk)
    with acting_as(label):
        try:
            _build(export, slug)
        except Exception as exc:  # the page must show why, whatever went wrong
            logger.exception("evidence export %s of %s failed", export.pk, slug)
            _partials_remove(slug, export.pk)
            EvidenceExport.objects.filter(pk=export.pk).update(
                status=ExportStatus.FAILED,
                message=str(getattr(exc, "message", exc))[:500],
                finished_at=timezone.now(),
            )
    export.refresh_from_db()
    return export


def _partials_remove(slug: str, export_id: int) -> None:
    """Unfinished files of this export only (other exports may be building beside it)."""
    for partial in exports_dir(slug).glob(f".export-{export_id}-*.partial"):
        partial.unlink(missing_ok=True)


def _build(export: EvidenceExport, slug: str) -> None:
    key = signing_key_load()
    if export.include_checkpoints:
        checkpoints_create(chains=[slug])  # vouch for the head as it is now
    in_period = AuditEntry.objects.filter(
        chain=slug, occurred_at__gte=export.period_start, occurred_at__lt=export.period_end
    )
    seq_range = in_period.order_by("seq").values_list("seq", flat=True)
    first_seq = seq_range.first() if export.include_audit else None
    last_seq = in_period.order_by("-seq").values_list("seq", flat=True).first()
    records = ViolationRecord.objects.filter(
        occurred_at__gte=export.period_start, occurred_at__lt=export.period_end
    ).order_by("occurred_at", "id")
    reviews = ViolationReview.objects.filter(record__in=records.values("id")).order_by(
        "created_at", "id"
    )
    total = (
        (last_seq - first_seq + 1 if first_seq is not None and last_seq is not None else 0)
        + (records.count() + reviews.count() if export.include_violations else 0)
    ) or 1
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if done % PROGRESS_EVERY == 0:
            EvidenceExport.objects.filter(pk=export.pk).update(
                progress=min(95, 1 + int(94 * done / total))
            )

    folder = exports_dir(slug)
    folder.mkdir(parents=True, exist_ok=True)
    start, end = export.period_start, export.period_end
    name = f"vigil-evidence-{slug}-{start:%Y%m%d}-{end:%Y%m%d}-{uuid.uuid4().hex[:12]}.zip"
    partial = folder / f".export-{export.pk}-{name}.partial"
    counts: dict[str, int] = {}
    audit: dict[str, Any] = {}
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
        bundle = BundleWriter(zip=zf)
        if export.include_audit:
            rows: Any = (
                _audit_rows(slug, first_seq, last_seq)
                if first_seq is not None and last_seq is not None
                else []
            )
            counts["audit_entries"] = bundle.add_table(
                "audit/entries", (*HASHED_FIELDS, "entry_hash"), rows, tick
            )
            audit = _audit_summary(slug, first_seq, last_seq)
        if export.include_violations:
            counts["violation_records"] = bundle.add_table(
                "violations/records", RECORD_FIELDS, _plain_rows(records, RECORD_FIELDS), tick
            )
            counts["violation_reviews"] = bundle.add_table(
                "violations/reviews", REVIEW_FIELDS, _plain_rows(reviews, REVIEW_FIELDS), tick
            )
        if export.include_checkpoints:
            checkpoints = ChainCheckpoint.objects.filter(chain=slug)
            if first_seq is not None:
                checkpoints = checkpoints.filter(seq__gte=first_seq)
            rows = list(_plain_rows(checkpoints.order_by("seq", "signed_at"), CHECKPOINT_FIELDS))
            counts["checkpoints"] = len(rows)
            bundle.add(
                "checkpoints/checkpoints.jsonl",
                b"".join(
                    json.dumps(r, sort_keys=True, separators=(",", ":")).encode() + b"\n"
                    for r in rows
                ),
            )
        tenant = getattr(tenant_connection(), "tenant", None)
        manifest: dict[str, Any] = {
            "format": bundle_verify.FORMAT,
            "export_id": export.pk,
            "tenant": {"slug": slug, "name": str(getattr(tenant, "name", slug))},
            "period": {"start": _iso(start), "end": _iso(end)},
            "generated_at": _iso(timezone.now()),
            "requested_by": export.requested_by_label,
            "include": {
                "audit": export.include_audit,
                "violations": export.include_violations,
                "checkpoints": export.include_checkpoints,
            },
            "counts": counts,
            "audit": audit,
            "signing_key": {"algorithm": "Ed25519", "key_id": key.key_id},
        }
        bundle.add("public_key.pem", key.public_key_pem.encode())
        bundle.add("README.txt", _readme(manifest, key))
        bundle.add("verify_bundle.py", Path(bundle_verify.__file__).read_bytes())
        manifest["files"] = dict(sorted(bundle.files.items()))
        manifest_bytes = json.dumps(manifest, indent=2, sort_keys=True).encode() + b"\n"
        zf.writestr("manifest.json", manifest_bytes)
        zf.writestr("manifest.sig", key.sign(manifest_bytes) + "\n")
    final = folder / name
    partial.rename(final)
    digest = hashlib.sha256(final.read_bytes()).hexdigest()
    with transaction.atomic():
        EvidenceExport.objects.filter(pk=export.pk).update(
            status=ExportStatus.DONE,
            progress=100,
            file_name=name,
            size_bytes=final.stat().st_size,
            sha256=digest,
            counts=counts,
            finished_at=timezone.now(),
            message="",
        )
        audit_record(
            tenant_slug=slug,
            action="evidence_export.completed",
            object_type="evidence_export",
            object_id=export.pk,
            after={"file": name, "sha256": digest, "counts": counts, "audit": audit},
        )


def _audit_summary(slug: str, first_seq: int | None, last_seq: int | None) -> dict[str, Any]:
    from compliance.models import AuditChainHead

    head = AuditChainHead.objects.filter(chain=slug).first()
    summary: dict[str, Any] = {
        "chain": slug,
        "first_seq": first_seq,
        "last_seq": last_seq,
        "first_prev_hash": None,
        "last_entry_hash": None,
        "chain_head_at_export": {"seq": head.seq, "hash": head.head_hash} if head else None,
    }
    if first_seq is not None and last_seq is not None:
        summary["first_prev_hash"] = (
            AuditEntry.objects.filter(chain=slug, seq=first_seq)
            .values_list("prev_hash", flat=True)
            .get()
        )
        summary["last_entry_hash"] = (
            AuditEntry.objects.filter(chain=slug, seq=last_seq)
            .values_list("entry_hash", flat=True)
            .get()
        )
    return summary
