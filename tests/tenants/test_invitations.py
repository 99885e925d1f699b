from __future__ import annotations

import re

import pytest
from django.test import Client

from tenants import services
from tests.conftest import host_of

pytestmark = pytest.mark.django_db


def test_invited_user_sets_password_from_the_mail_and_logs_in(
    tenant, mailoutbox, celery_eager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.member_invite(tenant=tenant, email="newbie@example.test", role="analyst")
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["newbie@example.test"]
    assert "Alpha Corp" in mail.subject
    link = re.search(r"https?://alpha\.localhost(?::\d+)?(/reset/[^/\s]+/[^/\s]+/)", mail.body)
    assert link, mail.body
    client = Client(HTTP_HOST=host_of(tenant))
    form_page = client.get(link.group(1), follow=True)
    assert form_page.status_code == 200 and b"new_password1" in form_page.content
    response = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "a-fresh-password-77", "new_password2": "a-fresh-password-77"},
    )
    assert response.status_code == 302
    assert client.login(username="newbie@example.test", password="a-fresh-password-77")
    assert client.get("/").status_code == 200


def test_existing_user_gets_a_login_link_only(
    tenant,
    other_tenant,
    member_factory,
    mailoutbox,
    celery_eager,
    django_capture_on_commit_callbacks,
):
    user = member_factory(other_tenant, "admin")
    with django_capture_on_commit_callbacks(execute=True):
        services.member_invite(tenant=tenant, email=user.email, role="analyst")
    assert "/reset/" not in mailoutbox[0].body
    assert "alpha.localhost" in mailoutbox[0].body


def test_no_mail_when_the_invitation_fails(
    tenant, admin_user, mailoutbox, celery_eager, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(Exception, match="Already a member"),
    ):
        services.member_invite(tenant=tenant, email=admin_user.email, role="analyst")
    assert mailoutbox == []


def test_password_reset_page_answers_on_tenant_and_public_hosts(tenant, admin_user, mailoutbox):
    for host in (host_of(tenant), "localhost"):
        client = Client(HTTP_HOST=host)
        assert client.get("/password-reset/").status_code == 200
        response = client.post("/password-reset/", {"email": admin_user.email})
        assert response.status_code == 302
    assert len(mailoutbox) == 2
