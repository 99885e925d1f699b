"""Scores from the Langfuse scores API, attached to the LLM events they rate.

A score names its trace and, usually, its observation (the generation's span
id). It becomes `{"name", "value", "source": "langfuse"}` in that event's
`scores`, which the quality layer reads as client-supplied scores. A score for a
whole trace (no observation) rates the trace's last LLM call. Only numeric and
boolean scores are kept: Vigil's quality series are numeric.
"""

from __future__ import annotations

import math
import re
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from core.services import model_update
from metrics.models import Event
from metrics.otel.mapping import event_id_for
from metrics.otel.models import ClientScore
from metrics.rollups.services import dirty_hours_mark
from tenants.models import Tenant

TRACE_ID = re.compile(r"^[0-9a-f]{32}$")
SPAN_ID = re.compile(r"^[0-9a-f]{16}$")
NUMERIC_TYPES = {"", "NUMERIC", "BOOLEAN"}
PENDING_FOR = timedelta(days=1)  # a score whose event never arrives is dropped after this
KEPT_FOR = timedelta(days=7)  # applied scores are kept this long to recognise re-sends


@dataclass
class ScoreBatchResult:
    accepted: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        return len(self.errors)


def _checked(raw: Any, index: int, now: Any) -> tuple[ClientScore | None, str]:
    if not isinstance(raw, dict):
        return None, f"score {index}: must be a JSON object."
    name = raw.get("name")
    if not isinstance(name, str) or not 1 <= len(name.strip()) <= 128:
        return None, f"score {index}: name must be a string of 1-128 characters."
    data_type = str(raw.get("dataType") or "").upper()
    if data_type not in NUMERIC_TYPES:
        return None, f"score {index} ({name}): only NUMERIC and BOOLEAN scores are kept."
    value = raw.get("value")
    if isinstance(value, bool):
        value = float(value)
    if not isinstance(value, int | float) or not math.isfinite(value):
        return None, f"score {index} ({name}): value must be a finite number."
    trace_id = str(raw.get("traceId") or "").lower()
    if not TRACE_ID.match(trace_id):
        return None, f"score {index} ({name}): traceId must be 32 hex characters."
    observation_id = str(raw.get("observationId") or "").lower()
    if observation_id and not SPAN_ID.match(observation_id):
        return None, f"score {index} ({name}): observationId must be 16 hex characters."
    score_id = str(raw.get("id") or uuid.uuid4().hex)[:64]
    comment = raw.get("comment")
    return (
        ClientScore(
            score_id=score_id,
            trace_id=trace_id,
            observation_id=observation_id,
            name=name.strip(),
            value=float(value),
            comment=str(comment)[:512] if comment else "",
            received_at=now,
        ),
        "",
    )


def client_scores_create(*, tenant: Tenant, raw_scores: list[Any]) -> ScoreBatchResult:
    """Store valid scores (a re-sent id is ignored) and attach those whose event exists."""
    now = timezone.now()
    result = ScoreBatchResult()
    rows: list[ClientScore] = []
    for index, raw in enumerate(raw_scores):
        row, error = _checked(raw, index, now)
        if row is None:
            result.errors.append(error)
        else:
            rows.append(row)
    result.accepted = len(rows)
    if rows:
        with schema_context(tenant.schema_name), transaction.atomic():
            ClientScore.objects.bulk_create(rows, ignore_conflicts=True)
        client_scores_apply(tenant=tenant, trace_ids={row.trace_id for row in rows})
    return result


def _target(score: ClientScore, events: list[Event]) -> Event | None:
    if score.observation_id:
        wanted = event_id_for(score.trace_id, score.observation_id)
        return next((event for event in events if event.event_id == wanted), None)
    of_trace = [event for event in events if event.trace_id == score.trace_id]
    return max(of_trace, key=lambda event: (event.timestamp, event.pk)) if of_trace else None


def client_scores_apply(*, tenant: Tenant, trace_ids: set[str]) -> int:
    """Append pending scores of these traces to their events; returns how many were applied."""
    if not trace_ids:
        return 0
    applied = 0
    with schema_context(tenant.schema_name), transaction.atomic():
        pending = list(
            ClientScore.objects.select_for_update(skip_locked=True)
            .filter(trace_id__in=trace_ids, applied_at__isnull=True)
            .order_by("pk")
        )
        if not pending:
            return 0
        events = list(
            Event.objects.select_for_update()
            .filter(trace_id__in={score.trace_id for score in pending})
            .order_by("pk")
        )
        now = timezone.now()
        touched_hours = []
        for score in pending:
            event = _target(score, events)
            if event is None:
                continue
            entry = {"name": score.name, "value": score.value, "source": "langfuse"}
            scores = [*(event.scores or []), entry]
            model_update(instance=event, fields=["scores"], data={"scores": scores})
            ClientScore.objects.filter(pk=score.pk).update(
                applied_at=now, applied_event_id=event.event_id
            )
            touched_hours.append(event.timestamp)
            applied += 1
        if touched_hours:
            dirty_hours_mark(hours=touched_hours)
        ClientScore.objects.filter(
            applied_at__isnull=True, received_at__lt=now - PENDING_FOR
        ).delete()
        ClientScore.objects.filter(received_at__lt=now - KEPT_FOR).delete()
    return applied
