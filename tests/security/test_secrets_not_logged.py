"""Secrets never reach the logs, the audit log or error reports.

Every log record of a login (good and bad password), API calls with a key (valid, unknown,
in each header form), a judge-configuration save with a provider key and a Stripe webhook
with a bad signature is captured at DEBUG level; none may contain a raw secret.
"""

from __future__ import annotations

import base64
import logging
import sys
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client, RequestFactory
from django.views.debug import ExceptionReporter

from compliance.models import AuditEntry
from tests.conftest import TEST_PASSWORD

WRONG_PASSWORD = "Wrong-But-Secret-Passw0rd-77"
UNKNOWN_KEY = "vk_unknownkeythatmustnotbelogged0123456789"
JUDGE_KEY = "sk-judge-never-in-logs-4242"
STRIPE_WEBHOOK_SECRET = "whsec_never_in_logs_5151"
STRIPE_API_KEY = "sk_test_never_in_logs_6161"


def _everything_logged(caplog: pytest.LogCaptureFixture) -> str:
    """The formatted messages, their raw arguments and any traceback text."""
    parts = [caplog.text]
    for record in caplog.records:
        parts.append(repr(record.args))
        parts.append(repr(getattr(record, "exc_text", "")))
    return "\n".join(parts)


@pytest.mark.django_db
def test_login_api_keys_judge_and_stripe_secrets_stay_out_of_logs(
    caplog: pytest.LogCaptureFixture,
    settings: Any,
    tenant: Any,
    member_factory: Callable[..., Any],
    api_key_factory: Callable[..., str],
    tenant_client: Callable[..., Client],
    public_client: Callable[..., Client],
) -> None:
    settings.STRIPE_WEBHOOK_SECRET = STRIPE_WEBHOOK_SECRET
    settings.STRIPE_API_KEY = STRIPE_API_KEY
    caplog.set_level(logging.DEBUG)
    audit_before = AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    admin = member_factory(tenant, "admin")
    raw_key = api_key_factory(tenant, ["ingest", "read", "budget", "alerts"])

    # Log in: a wrong password, then the right one.
    browser = tenant_client(tenant)
    bad = browser.post("/login/", {"username": admin.email, "password": WRONG_PASSWORD})
    assert bad.status_code == 200
    good = browser.post("/login/", {"username": admin.email, "password": TEST_PASSWORD})
    assert good.status_code == 302

    # The API with the key in each accepted form, an unknown key, and bad input.
    basic = base64.b64encode(f"pk-lf-x:{raw_key}".encode()).decode()
    assert Client(HTTP_AUTHORIZATION=f"Bearer {raw_key}").get("/api/v1/tenant").status_code == 200
    assert Client(HTTP_X_VIGIL_KEY=raw_key).get("/api/v1/tenant").status_code == 200
    assert Client(HTTP_AUTHORIZATION=f"Basic {basic}").get("/api/v1/tenant").status_code == 200
    assert (
        Client(HTTP_AUTHORIZATION=f"Bearer {UNKNOWN_KEY}").get("/api/v1/tenant").status_code == 401
    )
    invalid = Client(HTTP_AUTHORIZATION=f"Bearer {raw_key}").post(
        "/api/v1/events", "{not json", content_type="application/json"
    )
    assert invalid.status_code == 400

    # Save the judge configuration with a provider key.
    saved = browser.post(
        "/quality/settings/",
        {
            "action": "judge",
            "kind": "openai",
            "base_url": "https://api.openai.com/v1",
            "model": "gpt-4o-mini",
            "api_key": JUDGE_KEY,
            "monthly_cap_usd": "10",
            "requests_per_minute": "30",
            "rubrics": ["faithfulness"],
        },
    )
    assert saved.status_code == 200 and "Judge settings saved." in saved.content.decode()

    # A Stripe webhook with a forged signature.
    forged = public_client().post(
        "/webhooks/stripe",
        data='{"id": "evt_forged", "type": "invoice.paid"}',
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE="t=1,v1=deadbeef",
    )
    assert forged.status_code == 400

    logged = _everything_logged(caplog)
    assert len(caplog.records) > 0  # the bad requests above are logged by django.request
    for secret in (
        TEST_PASSWORD,
        WRONG_PASSWORD,
        raw_key,
        raw_key[3:15],  # no prefix of the secret part either
        UNKNOWN_KEY,
        basic,
        JUDGE_KEY,
        STRIPE_WEBHOOK_SECRET,
        STRIPE_API_KEY,
    ):
        assert secret not in logged, f"a secret was logged: {secret[:6]}..."

    audit = repr(
        list(
            AuditEntry.objects.filter(pk__gt=audit_before).values("before", "after", "actor_label")
        )
    )
    assert "auth.login" in repr(
        list(AuditEntry.objects.filter(pk__gt=audit_before).values_list("action", flat=True))
    )
    for secret in (TEST_PASSWORD, WRONG_PASSWORD, raw_key, JUDGE_KEY):
        assert secret not in audit


def test_error_reports_hide_the_authorization_header_and_key_headers() -> None:
    """Django's report filter masks META names matching AUTH|KEY|...: Vigil relies on it."""
    request = RequestFactory().get(
        "/api/v1/tenant",
        HTTP_AUTHORIZATION="Bearer vk_reportedkey0123456789",
        HTTP_X_VIGIL_KEY="vk_otherreportedkey987654",
    )
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        report = ExceptionReporter(request, *sys.exc_info()).get_traceback_text()
    assert "boom" in report and "HTTP_AUTHORIZATION" in report
    assert "vk_reportedkey0123456789" not in report
    assert "vk_otherreportedkey987654" not in report
