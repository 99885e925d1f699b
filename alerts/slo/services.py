"""SLOs are set by platform ops per tenant (audited); each one gets its burn-rate rule."""

from __future__ import annotations

from typing import Any

from django.db import connection, transaction

from alerts.rules.models import AlertRule
from alerts.rules.services import alert_rule_create
from alerts.slo.models import Slo, SloKind
from compliance.services import audit_record
from core.exceptions import ApplicationError
from core.services import model_update

SLO_FIELDS = ["name", "kind", "target", "window_days", "feature", "enabled"]


def _slug() -> str:
    return str(getattr(connection, "schema_name", "public"))


def slo_clean(data: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    out: dict[str, Any] = {
        "name": str(data.get("name") or "").strip()[:200],
        "kind": str(data.get("kind") or ""),
        "feature": str(data.get("feature") or "").strip(),
        "enabled": bool(data.get("enabled", True)),
    }
    if not out["name"]:
        errors["name"] = "Give the objective a name."
    if out["kind"] not in SloKind.values:
        errors["kind"] = f"One of: {', '.join(SloKind.values)}."
    if len(out["feature"]) > 128:
        errors["feature"] = "At most 128 characters."
    try:
        target = float(data.get("target"))  # type: ignore[arg-type]
        if target != target or target <= 0:
            raise ValueError
    except (TypeError, ValueError):
        errors["target"] = "A positive number."
        target = 0.0
    if out["kind"] == "availability" and not 0 < target < 100:
        errors["target"] = "A percentage below 100, e.g. 99.9."
    if out["kind"] == "latency_p99" and not 1 <= target <= 600_000:
        errors["target"] = "Milliseconds from 1 to 600000."
    out["target"] = target
    try:
        window = int(data.get("window_days") or 30)
    except (TypeError, ValueError):
        window = 0
    if window not in (28, 30):
        errors["window_days"] = "28 or 30 days."
    out["window_days"] = window
    if errors:
        raise ApplicationError("Invalid SLO.", details=errors)
    return out


@transaction.atomic
def slo_create(*, data: dict[str, Any]) -> Slo:
    slo = Slo.objects.create(**slo_clean(data))
    audit_record(
        tenant_slug=_slug(),
        action="alerts.slo_created",
        object_type="slo",
        object_id=slo.pk,
        after={f: getattr(slo, f) for f in SLO_FIELDS},
    )
    alert_rule_create(
        data={
            "name": f"SLO burn rate: {slo.name}",
            "metric": "slo_burn",
            "window_minutes": 60,
            "for_evaluations": 2,
            "min_samples": 20,
            "repeat_minutes": 240,
            "feature": slo.feature,
            "description": "Multi-window multi-burn-rate alert (SRE workbook).",
        },
        slo_id=slo.pk,
    )
    return slo


@transaction.atomic
def slo_update(*, slo: Slo, data: dict[str, Any]) -> Slo:
    clean = slo_clean({**{f: getattr(slo, f) for f in SLO_FIELDS}, **data})
    slo, before, after = model_update(instance=slo, fields=SLO_FIELDS, data=clean)
    if after:
        audit_record(
            tenant_slug=_slug(),
            action="alerts.slo_updated",
            object_type="slo",
            object_id=slo.pk,
            before=before,
            after=after,
        )
        AlertRule.objects.filter(slo=slo).update(feature=slo.feature)
    return slo


@transaction.atomic
def slo_delete(*, slo: Slo) -> None:
    audit_record(
        tenant_slug=_slug(),
        action="alerts.slo_deleted",
        object_type="slo",
        object_id=slo.pk,
        before={f: getattr(slo, f) for f in SLO_FIELDS},
    )
    slo.delete()
