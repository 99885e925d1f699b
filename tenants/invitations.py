"""Invitation mail: a new member sets their password through a one-time link."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from tenants.models import Membership


def tenant_base_url(domain: str) -> str:
    """How people reach a tenant host, from the public scheme/port settings."""
    scheme = settings.VIGIL_PUBLIC_SCHEME
    port = str(settings.VIGIL_PUBLIC_PORT)
    default_port = "443" if scheme == "https" else "80"
    suffix = f":{port}" if port and port != default_port else ""
    return f"{scheme}://{domain}{suffix}"


def invitation_send(*, membership_id: int) -> bool:
    """Mail the member a link to the tenant; with a set-password link if they have none."""
    membership = (
        Membership.objects.select_related("user", "tenant").filter(pk=membership_id).first()
    )
    if membership is None:  # removed before the mail went out
        return False
    user = membership.user
    domain = membership.tenant.get_primary_domain()
    base_url = tenant_base_url(domain.domain if domain else settings.VIGIL_BASE_DOMAIN)
    set_password_url = ""
    if not user.has_usable_password():
        uid = urlsafe_base64_encode(force_bytes(user.pk))
        token = default_token_generator.make_token(user)
        set_password_url = f"{base_url}/reset/{uid}/{token}/"
    context = {
        "tenant": membership.tenant,
        "role": membership.get_role_display(),
        "login_url": f"{base_url}/login/",
        "set_password_url": set_password_url,
    }
    send_mail(
        subject=f"You have been invited to {membership.tenant.name} on Vigil",
        message=render_to_string("tenants/email/invitation.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[user.email],
    )
    return True
