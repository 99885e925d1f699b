"""Evidence bundles: request (service), build (Celery task body), file location.

The bundle is a ZIP an auditor can check with nothing but Python and
`cryptography` (see compliance/bundle_verify.py, shipped inside as
verify_bundle.py, and docs/compliance.md for the layout).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import re
import tempfile
import uuid
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from compliance import bundle_verify
from compliance.audit import HASHED_FIELDS
from compliance.chain import checkpoints_create
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
from core.exceptions import ApplicationError
from core.request_context import acting_as, current_context

logger = logging.getLogger("vigil.compliance")
FILE_NAME = re.compile(r"^vigil-evidence-[a-z0-9_]+-\d{8}-\d{8}-[0-9a-f]{12}\.zip$")
MAX_PERIOD = timedelta(days=3660)
MAX_ACTIVE_EXPORTS = 3
STALE_AFTER = timedelta(hours=2)
PROGRESS_EVERY = 2000

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


def exports_dir(tenant_slug: str) -> Path:
    return Path(settings.VIGIL_DATA_DIR) / "exports" / tenant_slug


def export_file_path(export: EvidenceExport, *, tenant_slug: str) -> Path | None:
    """The ZIP's path, only for a generated name inside the tenant's export folder."""
    if not FILE_NAME.match(export.file_name or ""):
        return None
    base = exports_dir(tenant_slug).resolve()
    path = (base / export.file_name).resolve()
    if not path.is_relative_to(base) or not path.is_file():
        return None
    return path


def _iso(value: datetime) -> str:
    return value.isoformat(timespec="microseconds")


def _current_slug() -> str:
    slug = str(tenant_connection().schema_name)
    if slug == "public":
        raise ApplicationError("No tenant.", details={"tenant": "Exports run in a tenant schema."})
    return slug


def evidence_export_request(
    *,
    period_start: datetime,
    period_end: datetime,
    include_audit: bool = True,
    include_violations: bool = True,
    include_checkpoints: bool = True,
) -> EvidenceExport:
    """Queue a bundle for the current tenant (the request's schema); audited."""
    slug = _current_slug()
    errors: dict[str, str] = {}
    if period_start.tzinfo is None or period_end.tzinfo is None:
        errors["period_start"] = "Times must carry a time zone."
    elif period_end <= period_start:
        errors["period_end"] = "The end must be after the start."
    elif period_end - period_start > MAX_PERIOD:
        errors["period_end"] = "At most ten years per bundle."
    elif period_start > timezone.now():
        errors["period_start"] = "The period starts in the future."
    if not (include_audit or include_violations):
        errors["include"] = "Include the audit log, the violation records, or both."
    if errors:
        raise ApplicationError("Invalid export request.", details=errors)
    signing_key_load()  # fail now, on the page, rather than later in the worker
    context = current_context()
    _expire_stale_exports()
    with transaction.atomic():
        active = EvidenceExport.objects.filter(
            status__in=[ExportStatus.PENDING, ExportStatus.RUNNING]
        ).count()
        if active >= MAX_ACTIVE_EXPORTS:
            raise ApplicationError(
                "Too many exports.",
                details={"form": f"{active} exports are still building; wait for one."},
            )
        export = EvidenceExport.objects.create(
            requested_by_id=context.actor_id,
            requested_by_label=context.actor_label or "system",
            period_start=period_start,
            period_end=period_end,
            include_audit=include_audit,
            include_violations=include_violations,
            include_checkpoints=include_checkpoints and include_audit,
            created_at=timezone.now(),
        )
        audit_record(
            tenant_slug=slug,
            action="evidence_export.requested",
            object_type="evidence_export",
            object_id=export.pk,
            after={
                "period_start": period_start,
                "period_end": period_end,
                "include_audit": include_audit,
                "include_violations": include_violations,
                "include_checkpoints": export.include_checkpoints,
            },
        )
        export_id = export.pk
        transaction.on_commit(lambda: _enqueue(export_id))
    return export


def _enqueue(export_id: int) -> None:
    from compliance.tasks import build_evidence_export

    try:
        build_evidence_export.delay(export_id)
    except Exception:  # broker unreachable: say so on the page instead of failing the request
        logger.exception("could not queue evidence export %s", export_id)
        EvidenceExport.objects.filter(pk=export_id, status=ExportStatus.PENDING).update(
            status=ExportStatus.FAILED,
            message="The task queue is unavailable; request the bundle again shortly.",
            finished_at=timezone.now(),
        )


def _expire_stale_exports() -> None:
    """A worker that died leaves an export 'building' forever: fail it after STALE_AFTER."""
    EvidenceExport.objects.filter(
        status__in=[ExportStatus.PENDING, ExportStatus.RUNNING],
        created_at__lt=timezone.now() - STALE_AFTER,
    ).update(
        status=ExportStatus.FAILED,
        message="The build did not finish in time; request it again.",
        finished_at=timezone.now(),
    )


class _ZipMember:
    """One file streamed into the ZIP: SHA-256, size and per-line hashes as it is written."""

    def __init__(self, bundle: zipfile.ZipFile, name: str) -> None:
        self.name = name
        self.handle = bundle.open(name, "w", force_zip64=True)
        self.sha = hashlib.sha256()
        self.size = 0
        self.line_hashes: list[str] = []
        self._partial = b""

    def write(self, data: bytes) -> None:
        self.handle.write(data)
        self.sha.update(data)
        self.size += len(data)
        pieces = (self._partial + data).split(b"\n")
        self._partial = pieces.pop()
        self.line_hashes.extend(hashlib.sha256(piece).hexdigest() for piece in pieces)

    def close(self) -> dict[str, Any]:
        if self._partial:
            self.line_hashes.append(hashlib.sha256(self._partial).hexdigest())
        self.handle.close()
        return {"sha256": self.sha.hexdigest(), "bytes": self.size, "lines": len(self.line_hashes)}


@dataclass
class _Bundle:
    zip: zipfile.ZipFile
    files: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add(self, name: str, data: bytes) -> None:
        self.zip.writestr(name, data)
        self.files[name] = {
            "sha256": hashlib.sha256(data).hexdigest(),
            "bytes": len(data),
            "lines": len(bundle_verify.split_lines(data)),
        }

    def add_table(self, base: str, columns: tuple[str, ...], rows: Any, tick: Any) -> int:
        """Write rows as JSON Lines and CSV (with a signed per-line index for each).

        A ZIP takes one open member at a time: JSON Lines stream straight in, the
        CSV goes through a spooled temporary file and is copied in afterwards.
        """
        jsonl = _ZipMember(self.zip, f"{base}.jsonl")
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(columns)
        count = 0
        with tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) as spool:
            for row in rows:
                jsonl.write(
                    json.dumps(
                        row, sort_keys=True, separators=(",", ":"), ensure_ascii=False
                    ).encode()
                    + b"\n"
                )
                writer.writerow([_csv_cell(row.get(column)) for column in columns])
                if text.tell() > 64 * 1024:
                    spool.write(text.getvalue().encode())
                    text.seek(0)
                    text.truncate()
                count += 1
                tick()
            spool.write(text.getvalue().encode())
            self.files[jsonl.name] = jsonl.close()
            spool.seek(0)
            csv_member = _ZipMember(self.zip, f"{base}.csv")
            while chunk := spool.read(1024 * 1024):
                csv_member.write(chunk)
            self.files[csv_member.name] = csv_member.close()
        for member in (jsonl, csv_member):
            index = "".join(h + "\n" for h in member.line_hashes).encode()
            self.add(f"index/{member.name}.lines", index)
        return count


def _csv_cell(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "" if value is None else str(value)


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
        Path(__file__).parent / "templates" / "compliance" / "bundle_readme.txt"
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
    slug = _current_slug()
    export = EvidenceExport.objects.get(pk=export_id)
    if export.status not in (ExportStatus.PENDING, ExportStatus.RUNNING):
        return export
    EvidenceExport.objects.filter(pk=export.pk).update(status=ExportStatus.RUNNING, progress=1)
    label = f"evidence export worker (for {export.requested_by_label})"
    with acting_as(label):
        try:
            _build(export, slug)
        except Exception as exc:  # the page must show why, whatever went wrong
            logger.exception("evidence export %s of %s failed", export.pk, slug)
            EvidenceExport.objects.filter(pk=export.pk).update(
                status=ExportStatus.FAILED,
                message=str(getattr(exc, "message", exc))[:500],
                finished_at=timezone.now(),
            )
    export.refresh_from_db()
    return export


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
    partial = folder / f".{name}.partial"
    counts: dict[str, int] = {}
    audit: dict[str, Any] = {}
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
        bundle = _Bundle(zip=zf)
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


def evidence_export_record_download(*, export: EvidenceExport) -> None:
    """Note in the audit log who downloaded which bundle (call inside the request)."""
    audit_record(
        tenant_slug=_current_slug(),
        action="evidence_export.downloaded",
        object_type="evidence_export",
        object_id=export.pk,
        after={"file": export.file_name, "sha256": export.sha256},
    )
