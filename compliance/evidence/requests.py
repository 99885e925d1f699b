"""Evidence exports: request (audited, queued after commit), file location, download record."""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from compliance.models import (
    EvidenceExport,
    ExportStatus,
)
from compliance.services import audit_record
from compliance.signing import signing_key_load
from core.db import tenant_connection
from core.enqueue import enqueue
from core.exceptions import ApplicationError
from core.request_context import current_context

logger = logging.getLogger("vigil.compliance")
FILE_NAME = re.compile(r"^vigil-evidence-[a-z0-9_]+-\d{8}-\d{8}-[0-9a-f]{12}\.zip$")
MAX_PERIOD = timedelta(days=3660)
MAX_ACTIVE_EXPORTS = 3
STALE_AFTER = timedelta(hours=2)
PROGRESS_EVERY = 2000


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


def current_tenant_slug() -> str:
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
    slug = current_tenant_slug()
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

    # A broker outage marks the export failed on its page (and is logged), not a 500.
    if not enqueue(build_evidence_export, export_id):
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


def evidence_export_record_download(*, export: EvidenceExport) -> None:
    """Note in the audit log who downloaded which bundle (call inside the request)."""
    audit_record(
        tenant_slug=current_tenant_slug(),
        action="evidence_export.downloaded",
        object_type="evidence_export",
        object_id=export.pk,
        after={"file": export.file_name, "sha256": export.sha256},
    )
