"""Quality pages: roles, tenant isolation, the judge grade hidden until the reviewer answers,
and no 500 on bad input."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from django.test import Client

from core.db import tenant_connection
from metrics.quality.calibration import calibration_week_draw
from metrics.quality.drift import deployment_record
from metrics.quality.models import CalibrationItem, Grade, GradeStatus, JudgeConfig
from metrics.quality.rubrics import rubrics_ensure
from tenants.models import Tenant

from .conftest import sampled_event

WEEK = date(2026, 11, 23)


def _review_item(tenant: Tenant) -> CalibrationItem:
    tenant_connection().set_tenant(tenant)
    rubric = rubrics_ensure()["answer_relevance"]
    event = sampled_event(
        input="Which plan includes SSO?",
        output="The Enterprise plan includes SSO.",
        content_category="alpha-only-category",
        timestamp=datetime(2026, 11, 18, 9, tzinfo=UTC),
        retrieval=[{"id": "k1", "text": "SSO ships with the Enterprise plan only."}],
    )
    Grade.objects.create(
        event=event,
        rubric=rubric,
        rubric_name=rubric.name,
        judge_kind="openai",
        judge_name="openai:judge-x",
        day=event.timestamp.date(),
        feature=event.feature,
        content_category="alpha-only-category",
        status=GradeStatus.DONE,
        score=0.25,
        label="partially_relevant",
        rationale="JUDGE-RATIONALE-SECRET",
    )
    calibration_week_draw(tenant_slug=tenant.schema_name, week=WEEK)
    item = CalibrationItem.objects.get()
    tenant_connection().set_schema_to_public()
    return item


@pytest.mark.parametrize(
    ("role", "quality", "review", "settings"),
    [
        ("admin", 200, 200, 200),
        ("analyst", 200, 403, 403),
        ("reviewer", 403, 200, 403),
        ("compliance", 403, 403, 403),
    ],
)
def test_pages_by_role(tenant, member_factory, tenant_client, role, quality, review, settings):
    client = tenant_client(tenant, member_factory(tenant, role))
    assert client.get("/quality/over-time/").status_code == quality
    assert client.get("/quality/review/").status_code == review
    assert client.get("/quality/calibration/").status_code == review
    assert client.get("/quality/settings/").status_code == settings


def test_anonymous_is_sent_to_login(tenant, tenant_client) -> None:
    response = tenant_client(tenant).get("/quality/review/")
    assert response.status_code == 302 and "/login" in response["Location"]


def test_quality_page_shows_own_tenant_data_only(
    tenant, other_tenant, member_factory, tenant_client
) -> None:
    item = _review_item(tenant)  # a graded event in alpha
    tenant_connection().set_tenant(tenant)
    deployment_record(tenant_slug="alpha", release="alpha-release-9")
    tenant_connection().set_schema_to_public()
    alpha = tenant_client(tenant, member_factory(tenant, "analyst"))
    page = alpha.get("/quality/over-time/?days=30").content.decode()
    assert "alpha-only-category" in page and "alpha-release-9" in page
    data = json.loads(
        page.split('id="quality-chart-data" type="application/json">')[1].split("<")[0]
    )
    assert data["series"][0]["label"] == "alpha-only-category"
    assert data["deployments"][0]["label"] == "alpha-release-9"
    beta = tenant_client(other_tenant, member_factory(other_tenant, "admin"))
    beta_page = beta.get("/quality/over-time/").content.decode()
    assert "alpha-only-category" not in beta_page and "alpha-release-9" not in beta_page
    assert item.pk
    # A beta member on alpha's host is refused.
    beta_user = member_factory(other_tenant, "admin")
    assert tenant_client(tenant, beta_user).get("/quality/over-time/").status_code == 403


@pytest.mark.parametrize(
    "query",
    [
        "?days=abc&by=evil",
        "?days=-1&by=release&feature=" + "x" * 500,
        "?content_category=%00&release=%ff",
        "?by=content_category&days=99999999999999999999",
    ],
)
def test_quality_page_bad_input_is_not_a_500(tenant, admin_user, tenant_client, query) -> None:
    assert tenant_client(tenant, admin_user).get("/quality/over-time/" + query).status_code == 200


def test_review_hides_the_judge_until_the_reviewer_answers(
    tenant, member_factory, tenant_client
) -> None:
    item = _review_item(tenant)
    client = tenant_client(tenant, member_factory(tenant, "reviewer"))
    queue = client.get("/quality/review/").content.decode()
    assert f"/quality/review/{item.pk}/" in queue
    page = client.get(f"/quality/review/{item.pk}/").content.decode()
    assert "Which plan includes SSO?" in page
    assert "SSO ships with the Enterprise plan only." in page
    assert "The Enterprise plan includes SSO." in page
    assert "JUDGE-RATIONALE-SECRET" not in page and "openai:judge-x" not in page

    bad = client.post(f"/quality/review/{item.pk}/", {"label": "relevant", "score": "abc"})
    assert bad.status_code == 200 and "JUDGE-RATIONALE-SECRET" not in bad.content.decode()
    bad = client.post(f"/quality/review/{item.pk}/", {"label": "nonsense"})
    assert bad.status_code == 200 and "Choose one of the rubric" in bad.content.decode()

    answered = client.post(f"/quality/review/{item.pk}/", {"label": "relevant", "note": "ok"})
    body = answered.content.decode()
    assert answered.status_code == 200
    assert "JUDGE-RATIONALE-SECRET" in body and "partially_relevant" in body
    tenant_connection().set_tenant(tenant)
    item.refresh_from_db()
    assert item.status == "done" and item.human_label == "relevant" and item.human_score == 1.0
    tenant_connection().set_schema_to_public()
    # Answering twice is refused in place, not a 500.
    again = client.post(f"/quality/review/{item.pk}/", {"label": "irrelevant"})
    assert again.status_code == 200 and "Already reviewed." in again.content.decode()


def test_beta_reviewer_cannot_see_alpha_items(
    tenant, other_tenant, member_factory, tenant_client
) -> None:
    item = _review_item(tenant)
    beta_reviewer = member_factory(other_tenant, "reviewer")
    beta = tenant_client(other_tenant, beta_reviewer)
    assert beta.get(f"/quality/review/{item.pk}/").status_code == 404
    assert beta.post(f"/quality/review/{item.pk}/", {"label": "relevant"}).status_code == 404
    assert f"/quality/review/{item.pk}/" not in beta.get("/quality/review/").content.decode()
    assert (
        tenant_client(tenant, beta_reviewer).get(f"/quality/review/{item.pk}/").status_code == 403
    )


def test_settings_save_judge_without_showing_the_key(tenant, admin_user, tenant_client) -> None:
    client = tenant_client(tenant, admin_user)
    bad = client.post(
        "/quality/settings/",
        {"action": "judge", "kind": "openai", "base_url": "ftp://x", "monthly_cap_usd": "-3"},
    )
    assert bad.status_code == 200
    body = bad.content.decode()
    assert "Enter an http(s) URL." in body and "Name the judge model." in body
    ok = client.post(
        "/quality/settings/",
        {
            "action": "judge",
            "kind": "anthropic",
            "base_url": "http://127.0.0.1:9/",
            "model": "claude-haiku-4-5",
            "api_key": "sk-ant-very-secret-9876",
            "monthly_cap_usd": "25",
            "requests_per_minute": "30",
            "rubrics": ["faithfulness", "answer_relevance"],
        },
    )
    assert ok.status_code == 200 and "sk-ant-very-secret" not in ok.content.decode()
    page = client.get("/quality/settings/").content.decode()
    assert "sk-ant-very-secret" not in page and "…9876" in page
    tenant_connection().set_tenant(tenant)
    config = JudgeConfig.objects.get()
    assert config.kind == "anthropic" and config.rubrics == ["faithfulness", "answer_relevance"]
    tenant_connection().set_schema_to_public()
    for data in (
        {"action": "sampling", "rate_percent": "abc"},
        {"action": "sampling", "rate_percent": "500", "category_weekly_minimum": "5"},
        {"action": "bogus"},
        {"action": "judge", "requests_per_minute": "x", "kind": "nope"},
    ):
        assert client.post("/quality/settings/", data).status_code == 200


def test_staff_reads_settings_but_cannot_write(tenant, staff_user, tenant_client) -> None:
    client = tenant_client(tenant, staff_user)
    assert client.get("/quality/settings/").status_code == 200
    assert client.get("/quality/review/").status_code == 403
    assert client.post("/quality/settings/", {"action": "judge"}).status_code == 403


def test_grade_retry_is_tenant_scoped(tenant, other_tenant, member_factory, tenant_client) -> None:
    tenant_connection().set_tenant(tenant)
    event = sampled_event()
    grade = Grade.objects.create(
        event=event, rubric_name="answer_relevance", judge_kind="openai", judge_name="j",
        day=event.timestamp.date(), feature="chat", status=GradeStatus.FAILED, error="boom",
    )  # fmt: skip
    tenant_connection().set_schema_to_public()
    beta = tenant_client(other_tenant, member_factory(other_tenant, "admin"))
    assert beta.post(f"/quality/grades/{grade.pk}/retry").status_code == 404
    alpha = tenant_client(tenant, member_factory(tenant, "admin"))
    assert alpha.post(f"/quality/grades/{grade.pk}/retry").status_code == 302
    tenant_connection().set_tenant(tenant)
    grade.refresh_from_db()
    assert grade.status == GradeStatus.PENDING


def test_nav_links(tenant, member_factory, tenant_client) -> None:
    reviewer = Client()
    del reviewer
    page = tenant_client(tenant, member_factory(tenant, "reviewer")).get("/quality/review/")
    body = page.content.decode()
    assert 'href="/quality/review/"' in body and 'href="/quality/over-time/"' not in body
    admin = tenant_client(tenant, member_factory(tenant, "admin")).get("/quality/review/")
    assert 'href="/quality/over-time/"' in admin.content.decode()


def test_list_pages_do_not_grow_queries_with_rows(tenant, admin_user, tenant_client) -> None:
    """N+1 guard: the review queue and quality page cost the same with 2 or 6 rows."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = tenant_client(tenant, admin_user)
    rubric_name = "answer_relevance"

    def add(n: int, offset: int) -> None:
        tenant_connection().set_tenant(tenant)
        rubric = rubrics_ensure()[rubric_name]
        for i in range(n):
            event = sampled_event(timestamp=datetime(2026, 11, 17, 8, offset + i, tzinfo=UTC))
            Grade.objects.create(
                event=event, rubric=rubric, rubric_name=rubric_name, judge_kind="offline",
                judge_name="offline:lexical-v1", day=event.timestamp.date(), feature="chat",
                content_category=f"cat-{offset + i}", status=GradeStatus.DONE, score=0.5,
                label="partially_relevant",
            )  # fmt: skip
            deployment_record(tenant_slug="alpha", release=f"r-{offset + i}")
        calibration_week_draw(tenant_slug="alpha", week=WEEK, per_cell=10)
        tenant_connection().set_schema_to_public()

    def count(path: str) -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(path).status_code == 200
        return len(ctx.captured_queries)

    add(2, 0)
    small = (count("/quality/review/"), count("/quality/over-time/?days=30"))
    add(4, 10)
    large = (count("/quality/review/"), count("/quality/over-time/?days=30"))
    assert large == small


def test_rubric_versions_and_agreement_thresholds_from_settings(
    tenant, admin_user, tenant_client
) -> None:
    client = tenant_client(tenant, admin_user)
    short = client.post(
        "/quality/settings/", {"action": "rubric", "name": "faithfulness", "instructions": "x"}
    )
    assert short.status_code == 200 and "Between 20 and 4000 characters." in short.content.decode()
    unknown = client.post(
        "/quality/settings/",
        {"action": "rubric", "name": "nope", "instructions": "A long enough instruction text."},
    )
    assert unknown.status_code == 200 and "No such rubric." in unknown.content.decode()
    text = "Judge only claims about prices; everything else is out of scope here."
    ok = client.post(
        "/quality/settings/", {"action": "rubric", "name": "faithfulness", "instructions": text}
    )
    assert "now version 2" in ok.content.decode()
    bad = client.post(
        "/quality/settings/",
        {"action": "judge", "kind": "offline", "agreement_kappa_min": "7", "max_attempts": "x"},
    )
    body = bad.content.decode()
    assert "Between -1 and 1." in body and "Between 1 and 5." in body
    client.post(
        "/quality/settings/",
        {"action": "judge", "kind": "offline", "agreement_kappa_min": "0.4", "max_attempts": "2"},
    )
    tenant_connection().set_tenant(tenant)
    from metrics.quality.models import Rubric

    current = Rubric.objects.get(name="faithfulness", active=True)
    assert (current.version, current.instructions) == (2, text)
    config = JudgeConfig.objects.get()
    assert (config.agreement_kappa_min, config.max_attempts) == (0.4, 2)


@pytest.mark.parametrize(
    "path",
    [
        "/quality/over-time/",
        "/quality/review/",
        "/quality/calibration/",
        "/quality/settings/",
        "/quality/review/1/",
    ],
)
def test_members_of_another_tenant_are_refused(
    tenant, other_tenant, member_factory, tenant_client, path
) -> None:
    beta_admin = member_factory(other_tenant, "admin")
    assert tenant_client(tenant, beta_admin).get(path).status_code == 403
    assert tenant_client(tenant, beta_admin).post(path, {"action": "judge"}).status_code == 403


def test_calibration_page_shows_own_tenant_only(
    tenant, other_tenant, member_factory, tenant_client
) -> None:
    item = _review_item(tenant)
    alpha = tenant_client(tenant, member_factory(tenant, "reviewer"))
    alpha.post(f"/quality/review/{item.pk}/", {"label": "relevant"})
    page = alpha.get("/quality/calibration/?weeks=52").content.decode()
    assert "openai:judge-x" in page
    beta = tenant_client(other_tenant, member_factory(other_tenant, "reviewer"))
    assert "openai:judge-x" not in beta.get("/quality/calibration/?weeks=52").content.decode()
    assert alpha.get("/quality/calibration/?weeks=zzz").status_code == 200


@pytest.mark.parametrize(
    ("path", "marker"),
    [
        ("/quality/over-time/?by=feature", 'id="quality-panel"'),
        ("/quality/review/", 'id="review-queue"'),
        ("/quality/calibration/?weeks=4", 'id="calibration"'),
        ("/quality/settings/", 'id="quality-settings"'),
    ],
)
def test_htmx_requests_get_the_partial(tenant, admin_user, tenant_client, path, marker) -> None:
    response = tenant_client(tenant, admin_user).get(path, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200
    assert marker in body and "<html" not in body
