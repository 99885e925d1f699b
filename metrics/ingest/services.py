"""Writes for ingestion settings (the events themselves go through metrics.ingest.pipeline)."""

from __future__ import annotations

from django.db import transaction
from django_tenants.utils import tenant_context

from compliance.services import audit_record
from core.exceptions import ApplicationError
from core.services import model_update
from metrics.ingest.models import IngestSettings
from tenants.models import Tenant

MAX_CONTENT_RETENTION_DAYS = 3650


def ingest_settings_get(*, tenant: Tenant) -> IngestSettings:
    """The tenant's settings (defaults if never saved; not written)."""
    with tenant_context(tenant):
        return IngestSettings.objects.filter(pk=1).first() or IngestSettings(pk=1)


def ingest_settings_update(
    *,
    tenant: Tenant,
    store_content: bool | None = None,
    content_retention_days: int | None = None,
    sample_rate: float | None = None,
) -> IngestSettings:
    """Change how `tenant`'s events are stored; applies to events received from now on."""
    errors: dict[str, str] = {}
    if content_retention_days is not None and not 1 <= content_retention_days <= (
        MAX_CONTENT_RETENTION_DAYS
    ):
        errors["content_retention_days"] = (
            f"must be between 1 and {MAX_CONTENT_RETENTION_DAYS} days."
        )
    if sample_rate is not None and not 0 <= sample_rate <= 1:
        errors["sample_rate"] = "must be between 0 and 1 (e.g. 0.005 for 0.5 %)."
    if errors:
        raise ApplicationError("The ingestion settings are not valid.", details=errors)
    changes = {
        name: value
        for name, value in {
            "store_content": store_content,
            "content_retention_days": content_retention_days,
            "sample_rate": sample_rate,
        }.items()
        if value is not None
    }
    with tenant_context(tenant), transaction.atomic():
        row, _ = IngestSettings.objects.select_for_update().get_or_create(pk=1)
        row, before, after = model_update(
            instance=row,
            fields=["store_content", "content_retention_days", "sample_rate"],
            data=changes,
        )
        if after:
            audit_record(
                tenant_slug=tenant.schema_name,
                action="ingest_settings.update",
                object_type="ingest_settings",
                object_id=1,
                before=before,
                after=after,
            )
    return row
