"""Redis down: pages that queue a follow-up task or use the login guard still answer.

The change is saved and the page answers normally; the task that could not be
queued is logged for operators (and, where it exists, the periodic job catches up).
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.test import Client

from core.enqueue import enqueue
from tenants.models import Membership
from tests.conftest import TEST_PASSWORD, host_of
from tests.faults.support import RedisServer, free_port

pytestmark = pytest.mark.django_db


def test_enqueue_reports_a_down_broker_instead_of_raising(
    private_broker: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    from tenants.tasks import send_invitation

    with caplog.at_level(logging.ERROR, logger="core.enqueue"):
        assert enqueue(send_invitation, 12345) is False
    assert "Could not queue" in caplog.text and "12345" in caplog.text


def test_inviting_a_member_while_the_broker_is_down_saves_and_answers(
    tenant: Any,
    admin_user: Any,
    tenant_client: Any,
    private_broker: RedisServer,
    caplog: pytest.LogCaptureFixture,
    django_capture_on_commit_callbacks: Any,
) -> None:
    client = tenant_client(tenant, admin_user)
    with (
        caplog.at_level(logging.ERROR, logger="core.enqueue"),
        django_capture_on_commit_callbacks(execute=True) as sent,
    ):
        response = client.post(
            "/settings/members/",
            {"email": "new.person@example.test", "role": "analyst"},
            HTTP_HX_REQUEST="true",
        )
    assert response.status_code == 200
    assert Membership.objects.filter(tenant=tenant, user__email="new.person@example.test").exists()
    assert len(sent) == 1 and "send_invitation" in caplog.text


def test_login_works_while_the_cache_is_down(
    tenant: Any, admin_user: Any, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings.CACHES = {
        "default": {
            **settings.CACHES["default"],
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",  # nothing listens there
        }
    }
    browser = Client(HTTP_HOST=host_of(tenant))
    with caplog.at_level(logging.ERROR, logger="tenants.login_guard"):
        wrong = browser.post("/login/", {"username": admin_user.username, "password": "nope"})
        right = browser.post(
            "/login/", {"username": admin_user.username, "password": TEST_PASSWORD}
        )
    assert wrong.status_code == 200 and b"Please enter a correct" in wrong.content
    assert right.status_code == 302
    assert "cache unavailable" in caplog.text
