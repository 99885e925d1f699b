"""Quality pages: the quality chart, the review queue, calibration statistics, settings."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from core.exceptions import ApplicationError
from core.roles import tenant_page
from core.views_helpers import form_errors_from, render_page
from metrics.quality import selectors
from metrics.quality.calibration import agreement_stats, review_submit, week_start
from metrics.quality.grading import grade_retry
from metrics.quality.judge_config import api_key_hint, judge_config_get, judge_config_set
from metrics.quality.models import JudgeKind, ReviewStatus, SamplingPolicy
from metrics.quality.rubrics import DEFAULT_RUBRICS, rubric_publish, rubrics_ensure
from metrics.quality.sampling import sampling_policy_set
from metrics.quality.series import DIMENSIONS

DAY_CHOICES = (7, 14, 30, 60, 90)


def _slug(request: HttpRequest) -> str:
    return str(request.tenant.schema_name)  # type: ignore[attr-defined]


def _int(value: Any, default: int, allowed: tuple[int, ...]) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return number if number in allowed else default


@tenant_page("dashboard")
@require_http_methods(["GET"])
def quality_page(request: HttpRequest) -> HttpResponse:
    days = _int(request.GET.get("days"), 30, DAY_CHOICES)
    by = request.GET.get("by", "content_category")
    by = by if by in DIMENSIONS else "content_category"
    # NUL bytes cannot reach PostgreSQL text comparisons; values are bounded like the fields.
    filters = {
        dim: str(request.GET.get(dim, "")).replace("\x00", "")[:128]
        for dim in DIMENSIONS
        if request.GET.get(dim)
    }
    axis, lines = selectors.quality_daily(days=days, by=by, filters=filters)
    since = timezone.now() - timedelta(days=days)
    deployments = selectors.deployments_list(since=since)
    rag_rows = selectors.rag_metrics(days=days)
    context = {
        "days": days,
        "day_choices": DAY_CHOICES,
        "by": by,
        "dimensions": DIMENSIONS,
        "filters": filters,
        "lines": lines,
        "chart": selectors.chart_payload(axis, lines, deployments),
        "deployments": deployments,
        "findings": selectors.quality_findings_active(),
        "rag": selectors.rag_summary(rag_rows),
        "summary": selectors.grading_summary(),
    }
    return render_page(request, "quality/quality.html", "quality/_quality.html", context)


@tenant_page("review")
@require_http_methods(["GET"])
def review_queue(request: HttpRequest) -> HttpResponse:
    context = {"items": selectors.review_queue(), "counts": selectors.review_counts()}
    return render_page(request, "quality/review_queue.html", "quality/_review_queue.html", context)


@tenant_page("review")
@require_http_methods(["GET", "POST"])
def review_item(request: HttpRequest, item_id: int) -> HttpResponse:
    item = selectors.review_item_get(item_id=item_id)
    errors: dict[str, str] = {}
    if request.method == "POST":
        raw_score = (request.POST.get("score") or "").strip()
        try:
            score = float(raw_score) if raw_score else None
        except ValueError:
            errors = {"score": "Enter a number between 0 and 1."}
            score = None
        if not errors:
            try:
                item = review_submit(
                    tenant_slug=_slug(request),
                    item=item,
                    reviewer_id=int(request.user.pk or 0),
                    label=str(request.POST.get("label", "")),
                    score=score,
                    note=str(request.POST.get("note", "")),
                )
            except ApplicationError as exc:
                errors = form_errors_from(exc)
            else:
                item = selectors.review_item_get(item_id=item.pk)
    grade = item.grade
    event = grade.event
    context = {
        "item": item,
        "grade": grade,
        "event": event,
        "context_chunks": _chunks(event.retrieval),
        "labels": list(grade.rubric.labels) if grade.rubric else [],
        "rubric": grade.rubric,
        "revealed": item.status != ReviewStatus.OPEN,
        "errors": errors,
    }
    return render_page(request, "quality/review_item.html", "quality/_review_item.html", context)


def _chunks(retrieval: Any) -> list[str]:
    from metrics.quality.judges.base import context_texts

    return context_texts(retrieval)


@tenant_page("review")
@require_http_methods(["GET"])
def calibration_page(request: HttpRequest) -> HttpResponse:
    weeks = _int(request.GET.get("weeks"), 12, (4, 8, 12, 26, 52))
    since = week_start(timezone.now().date()) - timedelta(weeks=weeks)
    stats = agreement_stats(since=since)
    overall = [a for a in stats if a.period == "all"]
    weekly = [a for a in stats if a.period != "all"]
    config = judge_config_get()
    context = {
        "kappa_chart": selectors.agreement_chart(weekly),
        "weeks": weeks,
        "overall": overall,
        "weekly": weekly,
        "config": config,
        "findings": selectors.quality_findings_active(kind="judge_agreement"),
    }
    return render_page(request, "quality/calibration.html", "quality/_calibration.html", context)


def _settings_context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    config = judge_config_get()
    policy = SamplingPolicy.objects.filter(feature="").first()
    return {
        "config": config,
        "key_hint": api_key_hint(config),
        "kinds": JudgeKind.choices,
        "rubric_names": list(DEFAULT_RUBRICS),
        "rubrics": sorted(rubrics_ensure().values(), key=lambda r: r.name),
        "policy": policy,
        "policies": list(SamplingPolicy.objects.order_by("feature")),
        "summary": selectors.grading_summary(),
        "failed": selectors.grades_failed(),
        **extra,
    }


@tenant_page("settings")
@require_http_methods(["GET", "POST"])
def quality_settings(request: HttpRequest) -> HttpResponse:
    errors: dict[str, str] = {}
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "judge":
                data: dict[str, Any] = {key: request.POST.get(key, "") for key in (
                    "kind", "base_url", "model", "api_key", "monthly_cap_usd",
                    "input_price_per_mtok", "output_price_per_mtok", "requests_per_minute",
                    "agreement_kappa_min", "agreement_mad_max", "max_attempts",
                ) if key in request.POST}  # fmt: skip
                data["rubrics"] = request.POST.getlist("rubrics")
                judge_config_set(tenant_slug=_slug(request), data=data)
                messages.success(request, "Judge settings saved.")
            elif action == "sampling":
                sampling_policy_set(
                    tenant_slug=_slug(request),
                    feature=str(request.POST.get("feature", "")).strip(),
                    rate=_float(request.POST.get("rate_percent"), "rate") / 100,
                    category_weekly_minimum=int(
                        _float(
                            request.POST.get("category_weekly_minimum"), "category_weekly_minimum"
                        )
                    ),
                    include_flagged=request.POST.get("include_flagged") == "on",
                )
                messages.success(request, "Sampling policy saved.")
            elif action == "rubric":
                rubric = rubric_publish(
                    tenant_slug=_slug(request),
                    name=str(request.POST.get("name", "")),
                    instructions=str(request.POST.get("instructions", "")),
                )
                messages.success(request, f"Rubric {rubric.name} is now version {rubric.version}.")
            else:
                errors = {"form": "Unknown action."}
        except ApplicationError as exc:
            errors = form_errors_from(exc)
    context = _settings_context(request, errors=errors)
    return render_page(request, "quality/settings.html", "quality/_settings.html", context)


def _float(value: Any, field: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ApplicationError("Invalid value.", details={field: "Enter a number."}) from None


@tenant_page("settings", write=True)
@require_POST
def grade_retry_view(request: HttpRequest, grade_id: int) -> HttpResponse:
    grade = selectors.grade_get(grade_id=grade_id)
    if grade.status in ("failed", "skipped"):
        grade_retry(tenant_slug=_slug(request), grade=grade)
        messages.success(request, f"Grade {grade.pk} is queued again.")
    return redirect("quality-settings")
