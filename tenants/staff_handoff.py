"""Staff opening a tenant from the ops console without logging in again.

Sessions are per host (a tenant's pages live on its own subdomain), so a staff
user logged in on the public host is a stranger on `acme.<domain>`. The ops
console therefore hands over with a signed, short-lived, single-use token:
the public host signs (staff user, tenant, nonce), the tenant host checks the
signature, age, tenant and that the nonce was never used, then logs the user
in. What staff can do there is unchanged: a read-only view, audited.

The token travels in the URL of a redirect, so it can end up in access logs;
by the time a log line is written it has been spent, and an unspent one dies
after a minute, so a log reader cannot use it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.core import signing
from django.core.cache import cache

from compliance.services import audit_record
from core.exceptions import ApplicationError

SALT = "vigil.staff-handoff"
MAX_AGE_S = 60
_USED_KEY = "staff-handoff-used:{nonce}"


@dataclass(frozen=True)
class Handoff:
    user: User
    tenant_slug: str


def staff_handoff_token_create(*, user: User, tenant_slug: str) -> str:
    """A token that lets `user` (staff) enter `tenant_slug`'s host once, within a minute."""
    if not getattr(user, "is_staff", False):
        raise ApplicationError("Only staff can open a tenant from the ops console.")
    payload = {"u": user.pk, "t": tenant_slug, "n": secrets.token_urlsafe(16)}
    return signing.dumps(payload, salt=SALT, compress=True)


def staff_handoff_redeem(*, token: str, tenant_slug: str) -> Handoff:
    """Check the token for this tenant and spend it; ApplicationError says why it fails."""
    try:
        payload = signing.loads(token, salt=SALT, max_age=MAX_AGE_S)
    except signing.SignatureExpired as exc:
        raise ApplicationError(
            "This link has expired. Open the tenant again from the ops console."
        ) from exc
    except signing.BadSignature as exc:
        raise ApplicationError("This link is not valid.") from exc
    if payload.get("t") != tenant_slug:
        raise ApplicationError("This link is for another tenant.")
    user = User.objects.filter(pk=payload.get("u"), is_active=True).first()
    if user is None or not user.is_staff:
        raise ApplicationError("This link is not valid.")
    # cache.add is atomic in Redis (SET NX): only the first redemption wins.
    if not cache.add(_USED_KEY.format(nonce=payload.get("n")), 1, timeout=MAX_AGE_S * 2):
        raise ApplicationError("This link was already used. Open the tenant again.")
    audit_record(
        tenant_slug=tenant_slug,
        action="staff.entered_tenant",
        object_type="tenant",
        object_id=tenant_slug,
        after={"via": "ops console"},
        actor_type="user",
        actor_id=user.pk,
        actor_label=user.get_username(),
    )
    return Handoff(user=user, tenant_slug=tenant_slug)
