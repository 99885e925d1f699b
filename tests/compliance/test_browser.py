"""A compliance officer in Chromium: violations chart, a review, and an evidence export whose
progress the page polls until the download link appears; the downloaded ZIP verifies.

Data is committed (live server): audit entries and safety records are append-only, so
they stay, under unique ids; the member is removed at the end.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import override_settings
from django.utils import timezone
from django_tenants.utils import tenant_context
from playwright.sync_api import Page, expect

from compliance.bundle_verify import verify_bundle
from compliance.evidence import evidence_export_build
from compliance.models import EvidenceExport, ViolationReview
from compliance.signing import generate_signing_key
from compliance.violations import violation_records_create
from core.db import tenant_connection
from tenants.models import Membership, Tenant
from tests.conftest import TEST_PASSWORD, make_user
from tests.e2e import conftest as e2e
from tests.e2e.conftest import host_url, screenshot

pytestmark = pytest.mark.e2e
browser = e2e.browser  # the e2e fixtures, shared
page = e2e.page


@pytest.fixture
def officer(session_tenants: dict[str, Tenant], committed_db: None) -> Iterator[str]:
    user = make_user(email=f"e2e-officer-{uuid.uuid4().hex[:8]}@alpha.test")
    membership = Membership.objects.create(
        user=user, tenant=session_tenants["alpha"], role="compliance"
    )
    try:
        yield user.email
    finally:
        membership.delete()


def _events(tag: str) -> list[SimpleNamespace]:
    now = timezone.now()
    return [
        SimpleNamespace(
            event_id=f"e2e-{tag}-{day}",
            trace_id=uuid.uuid4().hex,
            span_id="",
            timestamp=now - timedelta(days=day, minutes=5),
            feature="support-chat",
            model="gpt-4o-mini",
            policy_violations=[{"policy": f"pii-{tag}", "severity": "high", "action": "blocked"}],
            refused=False,
            input="",
            output="mail me at someone@example.com",
        )
        for day in range(3)
    ]


def test_officer_reviews_and_exports_evidence(
    live_server_url: str,
    session_tenants: dict[str, Tenant],
    officer: str,
    page: Page,
    tmp_path: Path,
    settings: Any,
) -> None:
    alpha = session_tenants["alpha"]
    tag = uuid.uuid4().hex[:6]
    generate_signing_key(path=tmp_path / "key.pem")
    with override_settings(VIGIL_SIGNING_KEY_PATH=tmp_path / "key.pem", VIGIL_DATA_DIR=tmp_path):
        with tenant_context(alpha):
            violation_records_create(events=_events(tag))
        tenant_connection().set_schema_to_public()
        base = host_url(live_server_url, "alpha.localhost")
        page.goto(f"{base}/login/")
        page.fill("#id_username", officer)
        page.fill("#id_password", TEST_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/**")

        # Violations: filtered to ours, chart drawn by uPlot, redacted excerpts.
        page.goto(f"{base}/compliance/violations/?policy=pii-{tag}")
        expect(page.locator("#violation-chart canvas").first).to_be_visible()
        rows = page.locator("#violations-table tbody tr")
        expect(rows).to_have_count(3)
        expect(rows.first).to_contain_text("[EMAIL]")
        screenshot(page, "compliance-01-violations")

        # Review one record: the verdict is appended without a reload.
        rows.first.locator("a").click()
        page.select_option("#rv-state", "false_positive")
        page.fill("#rv-note", "synthetic test prompt")
        page.click("text=Add review")
        expect(page.locator("#review-panel")).to_contain_text("synthetic test prompt")
        expect(page.locator("#review-panel")).to_contain_text("false positive")
        with tenant_context(alpha):
            assert ViolationReview.objects.filter(note="synthetic test prompt").exists()
        tenant_connection().set_schema_to_public()
        screenshot(page, "compliance-02-review")

        # Export: queued (no worker here), the list polls; a build finishes it; link appears.
        page.goto(f"{base}/compliance/exports/")
        page.click("text=Build bundle")
        pending = page.locator("#exports-list tbody tr").first
        expect(pending).to_contain_text("queued")
        with tenant_context(alpha):
            export = EvidenceExport.objects.filter(requested_by_label=officer).get()
            evidence_export_build(export_id=export.pk)
        tenant_connection().set_schema_to_public()
        link = page.locator(f"#export-{export.pk} >> text=Download ZIP")
        expect(link).to_be_visible(timeout=10_000)  # swapped in by the 2 s poll
        screenshot(page, "compliance-03-exports")
        with page.expect_download() as download_info:
            link.click()
        saved = tmp_path / "bundle.zip"
        download_info.value.save_as(saved)
        report = verify_bundle(str(saved))
        assert report.ok, report.problems
