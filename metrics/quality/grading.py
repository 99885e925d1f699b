"""Grading: pending grades for sampled events, run by the tenant's judge.

`grades_enqueue` creates one pending Grade per (sampled event, applicable
rubric) plus done grades for client-supplied scores; `grades_run_pending` works
through pending grades within the tenant's token bucket and monthly judge
spend cap. Each LLM call's tokens are recorded as an Event under the
`vigil-judge` feature, priced like an ingested event (the tenant's price
override, then Vigil's price table; the judge config's own prices only for a
model neither knows), so grading shows in the tenant's cost like any other
feature.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Sum
from django.utils import timezone

from compliance.services import audit_record
from metrics.models import CostSource, Event
from metrics.pricing.selectors import price_book_current
from metrics.quality.graders import OfflineGrader, is_refusal
from metrics.quality.judge_config import Judge, judge_build, judge_config_get
from metrics.quality.judges.base import (
    GradeRequest,
    JudgeUnavailable,
    JudgeVerdict,
    MalformedOutput,
    context_texts,
)
from metrics.quality.models import (
    JUDGE_FEATURE,
    Grade,
    GradeStatus,
    JudgeConfig,
    JudgeKind,
    Rubric,
)
from metrics.quality.ratelimit import judge_token_take
from metrics.quality.rubrics import (
    ANSWER_RELEVANCE,
    CONTEXT_RELEVANCE,
    CORRECTNESS,
    FAITHFULNESS,
    REFUSAL,
    rubrics_ensure,
)
from metrics.rollups.services import dirty_hours_mark

LLM_KINDS = (JudgeKind.OPENAI, JudgeKind.ANTHROPIC)
MILLION = Decimal(1_000_000)


def _reference(event: Event) -> str:
    attrs = event.attributes if isinstance(event.attributes, dict) else {}
    value = attrs.get("reference") or attrs.get("expected_output") or ""
    return value if isinstance(value, str) else ""


def grade_request_for(event: Event) -> GradeRequest:
    return GradeRequest(
        question=event.input,
        answer=event.output,
        context=context_texts(event.retrieval),
        reference=_reference(event),
    )


def rubrics_for(event: Event, configured: list[str]) -> list[str]:
    """The rubrics that apply to one event (a configured list narrows them)."""
    if not event.output:
        return []
    has_context = bool(context_texts(event.retrieval))
    names = [ANSWER_RELEVANCE]
    if has_context:
        names += [FAITHFULNESS, CONTEXT_RELEVANCE]
    if _reference(event):
        names.append(CORRECTNESS)
    if event.refused or event.violation_count or is_refusal(event.output):
        names.append(REFUSAL)
    return [n for n in names if n in configured] if configured else names


def _client_scores(event: Event) -> list[tuple[str, float]]:
    out = []
    for item in event.scores if isinstance(event.scores, list) else []:
        if not isinstance(item, dict):
            continue
        name, value = item.get("name"), item.get("value")
        if (
            isinstance(name, str)
            and isinstance(value, int | float)
            and not isinstance(value, bool)
            and 0 <= value <= 1
        ):
            out.append((name[:56], float(value)))
    return out


def grades_enqueue(
    *, tenant_slug: str | None = None, since: datetime | None = None, limit: int = 1000
) -> int:
    """Create grades for sampled events that have none yet. Safe to run twice.

    One audit entry per batch (not per grade): the grades themselves record
    their outcome individually when they are run.
    """
    config = judge_config_get()
    rubrics = rubrics_ensure()
    since = since or timezone.now() - timedelta(days=7)
    events = list(
        Event.objects.filter(is_sampled=True, timestamp__gte=since)
        .exclude(feature=JUDGE_FEATURE)
        .filter(~Exists(Grade.objects.filter(event=OuterRef("pk"))))
        .order_by("timestamp", "pk")[:limit]
    )
    now = timezone.now()
    rows: list[Grade] = []
    judge_kind = config.kind
    judge_name = f"{config.kind}:{config.model}" if config.kind in LLM_KINDS else OfflineGrader.name
    for event in events:
        common: dict[str, Any] = {
            "event": event,
            "day": event.timestamp.date(),
            "feature": event.feature,
            "content_category": event.content_category,
            "release": event.release,
        }
        for name, value in _client_scores(event):
            rows.append(
                Grade(
                    **common,
                    rubric_name=f"client:{name}",
                    judge_kind="client",
                    judge_name="client",
                    status=GradeStatus.DONE,
                    score=value,
                    graded_at=now,
                )
            )
        for name in rubrics_for(event, list(config.rubrics or [])):
            rubric = rubrics[name]
            rows.append(
                Grade(
                    **common,
                    rubric=rubric,
                    rubric_name=name,
                    rubric_version=rubric.version,
                    judge_kind=judge_kind,
                    judge_name=judge_name,
                )
            )
    if not rows:
        return 0
    with transaction.atomic():
        Grade.objects.bulk_create(rows, ignore_conflicts=True)
        audit_record(
            tenant_slug=tenant_slug or str(getattr(connection, "schema_name", "")) or None,
            action="quality.grades_enqueued",
            object_type="grade_batch",
            object_id=f"events:{events[0].pk}..{events[-1].pk}",
            after={
                "events": len(events),
                "grades": len(rows),
                "judge": judge_name,
                "client_scores": sum(1 for r in rows if r.judge_kind == "client"),
            },
        )
    return len(rows)


def judge_spend_month(now: datetime | None = None) -> Decimal:
    now = now or timezone.now()
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    total = Event.objects.filter(feature=JUDGE_FEATURE, timestamp__gte=start).aggregate(
        s=Sum("cost_usd")
    )["s"]
    return Decimal(total or 0)


def judge_cost(
    config: JudgeConfig, *, input_tokens: int, output_tokens: int, moment: datetime
) -> tuple[Decimal, str, str]:
    """(cost, cost_source, price_version) of a judge call.

    Priced like an ingested event (the tenant's price book: its override for the
    model first, then Vigil's table), so a negotiated judge price shows in the
    tenant's cost; the judge config's own prices are the last resort, for a
    model neither knows (a self-hosted vLLM or Ollama model).
    """
    priced = price_book_current().cost(
        model=config.model,
        provider=config.kind,
        moment=moment,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cached_input_tokens=0,
    )
    if priced.cost_source != CostSource.UNPRICED:
        return priced.cost_usd, priced.cost_source, priced.price_version
    cost = (
        input_tokens * config.input_price_per_mtok + output_tokens * config.output_price_per_mtok
    ) / MILLION
    source = CostSource.OVERRIDE if cost > 0 else CostSource.UNPRICED
    return cost.quantize(Decimal("0.0000000001")), source, "judge-config"


def _usage_record(
    *, grade: Grade, config: JudgeConfig, input_tokens: int, output_tokens: int, latency_ms: float
) -> Decimal:
    """One `vigil-judge` event for this grade's calls; returns its cost."""
    if not input_tokens and not output_tokens:
        return Decimal(0)
    now = timezone.now()
    cost, source, version = judge_cost(
        config, input_tokens=input_tokens, output_tokens=output_tokens, moment=now
    )
    Event.objects.create(
        event_id=f"vigil-judge-{grade.pk}-{grade.attempts}",
        timestamp=now,
        received_at=now,
        feature=JUDGE_FEATURE,
        endpoint="vigil/judge",
        query_type=grade.rubric_name,
        content_category=grade.content_category,
        provider=config.kind,
        model=config.model,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cost_usd=cost,
        cost_source=source,
        price_version=version,
        latency_ms=latency_ms,
        attributes={"grade_id": grade.pk, "graded_event": grade.event.event_id},
    )
    dirty_hours_mark(hours=[now])
    return cost


@dataclass
class RunResult:
    done: int = 0
    failed: int = 0
    skipped: int = 0
    throttled: bool = False
    capped: bool = False


def _grade_with(
    judge: Judge, rubric: Rubric, request: GradeRequest, attempts: int
) -> tuple[JudgeVerdict | None, str, int, int, int]:
    """Try up to `attempts` times: (verdict or None, last error, tries, in tokens, out tokens)."""
    error, tokens_in, tokens_out = "", 0, 0
    for attempt in range(1, attempts + 1):
        try:
            verdict = judge.grade(rubric, request)
        except MalformedOutput as exc:
            error = f"malformed judge output: {exc}"
            tokens_in += getattr(exc, "input_tokens", 0)
            tokens_out += getattr(exc, "output_tokens", 0)
            if judge.kind == JudgeKind.OFFLINE:
                return None, error, attempt, tokens_in, tokens_out  # deterministic: no retry
        except JudgeUnavailable as exc:
            error = f"judge unavailable: {exc}"[:2000]
        else:
            return (
                verdict,
                "",
                attempt,
                tokens_in + verdict.input_tokens,
                tokens_out + verdict.output_tokens,
            )
    return None, error, attempts, tokens_in, tokens_out


def grade_run(
    *, tenant_slug: str, grade_id: int, config: JudgeConfig | None = None
) -> Grade | None:
    """Grade one pending grade (locked, skipped if another worker holds it)."""
    config = config or judge_config_get()
    with transaction.atomic():
        grade = (
            Grade.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("event", "rubric")
            .filter(pk=grade_id, status=GradeStatus.PENDING)
            .first()
        )
        if grade is None or grade.rubric is None:
            return None
        event = grade.event
        if grade.judge_kind in LLM_KINDS and grade.judge_kind != config.kind:
            grade.status, grade.error = GradeStatus.SKIPPED, "judge no longer configured"
        else:
            if grade.judge_kind == JudgeKind.OFFLINE:
                judge: Judge = OfflineGrader(violating=event.violation_count > 0)
            else:
                judge = judge_build(config)
            started = time.monotonic()
            verdict, error, tries, tokens_in, tokens_out = _grade_with(
                judge, grade.rubric, grade_request_for(event), max(1, config.max_attempts)
            )
            grade.attempts += tries
            grade.judge_input_tokens += tokens_in
            grade.judge_output_tokens += tokens_out
            if grade.judge_kind in LLM_KINDS:
                grade.judge_cost_usd += _usage_record(
                    grade=grade,
                    config=config,
                    input_tokens=tokens_in,
                    output_tokens=tokens_out,
                    latency_ms=(time.monotonic() - started) * 1000,
                )
            if verdict is None:
                grade.status, grade.error = GradeStatus.FAILED, error
            else:
                grade.status, grade.error = GradeStatus.DONE, ""
                grade.score, grade.label, grade.rationale = (
                    verdict.score,
                    verdict.label,
                    verdict.rationale,
                )
            grade.judge_name = judge.name
        grade.graded_at = timezone.now()
        grade.save(
            update_fields=[
                "status",
                "error",
                "attempts",
                "score",
                "label",
                "rationale",
                "judge_name",
                "judge_input_tokens",
                "judge_output_tokens",
                "judge_cost_usd",
                "graded_at",
            ]
        )
        audit_record(
            tenant_slug=tenant_slug,
            action=f"quality.grade_{grade.status}",
            object_type="grade",
            object_id=grade.pk,
            before={"status": GradeStatus.PENDING},
            after={
                "status": grade.status,
                "rubric": f"{grade.rubric_name}:v{grade.rubric_version}",
                "judge": grade.judge_name,
                "score": grade.score,
                "attempts": grade.attempts,
                "error": grade.error[:200],
            },
        )
    return grade


def grades_skip_capped(*, tenant_slug: str, reason: str) -> int:
    with transaction.atomic():
        ids = list(
            Grade.objects.filter(status=GradeStatus.PENDING, judge_kind__in=LLM_KINDS)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if not ids:
            return 0
        Grade.objects.filter(pk__in=ids).update(status=GradeStatus.SKIPPED, error=reason)
        audit_record(
            tenant_slug=tenant_slug,
            action="quality.grades_skipped",
            object_type="grade",
            object_id=f"{ids[0]}..{ids[-1]}",
            after={"count": len(ids), "reason": reason},
        )
    return len(ids)


def grades_run_pending(
    *, tenant_slug: str, limit: int = 200, time_budget_s: float = 200.0
) -> RunResult:
    """Work through pending grades, oldest first, within the bucket, cap and time budget."""
    config = judge_config_get()
    result = RunResult()
    deadline = time.monotonic() + time_budget_s
    spend = judge_spend_month() if config.kind in LLM_KINDS else Decimal(0)
    pending = list(
        Grade.objects.filter(status=GradeStatus.PENDING)
        .order_by("created_at", "pk")
        .values_list("pk", "judge_kind")[:limit]
    )
    for grade_id, kind in pending:
        if time.monotonic() > deadline:
            break
        if kind in LLM_KINDS and kind == config.kind:
            if spend >= config.monthly_cap_usd:
                result.capped = True
                result.skipped += grades_skip_capped(
                    tenant_slug=tenant_slug,
                    reason=f"monthly judge spend cap of ${config.monthly_cap_usd} reached",
                )
                break
            if not judge_token_take(tenant_slug=tenant_slug, per_minute=config.requests_per_minute):
                result.throttled = True
                break
        grade = grade_run(tenant_slug=tenant_slug, grade_id=grade_id, config=config)
        if grade is None:
            continue
        spend += grade.judge_cost_usd
        if grade.status == GradeStatus.DONE:
            result.done += 1
        elif grade.status == GradeStatus.FAILED:
            result.failed += 1
        else:
            result.skipped += 1
    return result


def grade_retry(*, tenant_slug: str, grade: Grade) -> Grade:
    """Put a failed or skipped grade back in the queue."""
    with transaction.atomic():
        before = {"status": grade.status, "error": grade.error}
        Grade.objects.filter(pk=grade.pk).update(status=GradeStatus.PENDING, error="")
        audit_record(
            tenant_slug=tenant_slug,
            action="quality.grade_retry",
            object_type="grade",
            object_id=grade.pk,
            before=before,
            after={"status": GradeStatus.PENDING},
        )
    grade.refresh_from_db()
    return grade
