"""In Chromium: the quality chart draws (bands and deployment markers) and a reviewer answers
an item, after which the judge's grade is revealed. Screenshots land in test-artifacts/."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from core.db import tenant_connection
from metrics.demo_traffic import event_build, events_insert
from metrics.models import Event
from metrics.quality.calibration import calibration_week_draw, week_start
from metrics.quality.drift import deployment_record
from metrics.quality.models import CalibrationItem, Deployment, Grade, GradeStatus
from metrics.quality.rubrics import rubrics_ensure
from tenants.models import Membership, Tenant
from tests.conftest import TEST_PASSWORD, make_user
from tests.e2e.conftest import browser, host_url, page, screenshot  # noqa: F401

pytestmark = pytest.mark.e2e


@pytest.fixture
def alpha_graded(session_tenants: dict[str, Tenant], committed_db: None) -> Iterator[str]:
    """Ten days of graded events in two categories and a deployment, removed afterwards."""
    alpha = session_tenants["alpha"]
    tag = uuid.uuid4().hex[:8]
    tenant_connection().set_tenant(alpha)
    rubric = rubrics_ensure()["answer_relevance"]
    now = datetime.now(tz=UTC).replace(hour=9, minute=0, second=0, microsecond=0)
    events = [
        event_build(
            event_id=f"qb-{tag}-{d}-{i}",
            timestamp=now - timedelta(days=d, minutes=i),
            content_category=("billing-" if i % 2 else "legal-") + tag,
            input=f"Question {d}-{i} about invoices?",
            output=f"Answer {d}-{i}: invoices are sent monthly.",
            is_sampled=True,
        )
        for d in range(10)
        for i in range(12)
    ]
    events_insert(events)
    for e in Event.objects.filter(event_id__startswith=f"qb-{tag}-"):
        Grade.objects.create(
            event=e, rubric=rubric, rubric_name=rubric.name, judge_kind="openai",
            judge_name="openai:e2e-judge", day=e.timestamp.date(), feature=e.feature,
            content_category=e.content_category, status=GradeStatus.DONE,
            score=0.9 if "billing" in e.content_category else 0.6,
            label="relevant" if "billing" in e.content_category else "partially_relevant",
            rationale=f"judge-rationale-{tag}",
        )  # fmt: skip
    deployment_record(
        tenant_slug="alpha", release=f"release-{tag}", deployed_at=now - timedelta(days=4)
    )
    calibration_week_draw(tenant_slug="alpha", week=week_start(now.date()) + timedelta(days=7))
    tenant_connection().set_schema_to_public()
    try:
        yield tag
    finally:
        tenant_connection().set_tenant(alpha)
        CalibrationItem.objects.filter(grade__event__event_id__startswith=f"qb-{tag}-").delete()
        Grade.objects.filter(event__event_id__startswith=f"qb-{tag}-").delete()
        Event.objects.filter(event_id__startswith=f"qb-{tag}-").delete()
        Deployment.objects.filter(release=f"release-{tag}").delete()
        tenant_connection().set_schema_to_public()


def _log_in(page: Page, base: str, role: str) -> None:  # noqa: F811
    alpha = Tenant.objects.get(schema_name="alpha")
    user = make_user(email=f"e2e-{role}-{uuid.uuid4().hex[:8]}@alpha.test")
    Membership.objects.create(user=user, tenant=alpha, role=role)
    page.goto(f"{base}/login/")
    page.fill("#id_username", user.email)
    page.fill("#id_password", TEST_PASSWORD)
    page.click("button[type=submit]")


def test_quality_chart_and_review_in_the_browser(
    live_server_url: str,
    alpha_graded: str,
    page: Page,  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    tag = alpha_graded
    base = host_url(live_server_url, "alpha.localhost")
    _log_in(page, base, "admin")
    page.goto(f"{base}/quality/over-time/?days=14")
    chart = page.locator("#quality-chart .uplot")
    expect(chart).to_be_visible()
    expect(page.locator("#quality-chart .u-legend")).to_contain_text(f"billing-{tag}")
    assert page.locator("#quality-chart canvas").count() >= 1
    expect(page.locator("#quality-lines")).to_contain_text(f"legal-{tag}")
    screenshot(page, "quality-over-time")

    # Changing the grouping swaps the panel with htmx and redraws the chart.
    page.select_option("select[name=by]", "feature")
    page.wait_for_function("() => location.search.includes('by=feature')")
    expect(page.locator("#quality-chart .u-legend")).to_contain_text("chat")

    page.goto(f"{base}/quality/review/")
    page.locator("#review-queue a.btn").first.click()
    expect(page.locator("#review-item")).to_contain_text("about invoices?")
    expect(page.locator("#review-item")).not_to_contain_text(f"judge-rationale-{tag}")
    page.select_option("select[name=label]", "relevant")
    page.click("#review-item button[type=submit]")
    expect(page.locator("#judge-grade")).to_contain_text(f"judge-rationale-{tag}")
    screenshot(page, "quality-review-revealed")

    # The agreement page charts the week's kappa per judge and rubric.
    page.goto(f"{base}/quality/calibration/")
    expect(page.locator("#kappa-chart .uplot")).to_be_visible()
    expect(page.locator("#agreement-overall")).to_contain_text("openai:e2e-judge")
    screenshot(page, "quality-calibration")
