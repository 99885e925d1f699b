"""Every write of the tenants app: tenants, memberships, API keys."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from compliance.services import audit_record
from core.db import tenant_connection
from core.enqueue import enqueue_on_commit
from core.exceptions import ApplicationError
from core.services import model_update
from tenants.keys import generate_key, hash_key, visible_prefix
from tenants.models import ApiKey, ApiKeyScope, Domain, Membership, Role, Tenant, TenantStatus

if TYPE_CHECKING:
    from django.http import HttpRequest

SLUG_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,40}$")
RESERVED_SLUGS = {
    "public",
    "www",
    "api",
    "admin",
    "ops",
    "static",
    "pg_catalog",
    "information_schema",
}


def tenant_domain_for(slug: str) -> str:
    return f"{slug.replace('_', '-')}.{settings.VIGIL_BASE_DOMAIN}"


def tenant_base_url(request: HttpRequest, slug: str) -> str:
    """The tenant's own origin, on the port this request came in on (dev servers)."""
    port = request.get_port()
    suffix = "" if port in ("80", "443") else f":{port}"
    return f"{settings.VIGIL_PUBLIC_SCHEME}://{tenant_domain_for(slug)}{suffix}"


def _validate_slug(slug: str) -> None:
    if not SLUG_PATTERN.match(slug):
        raise ApplicationError(
            "Invalid tenant slug.",
            details={
                "slug": "2-41 characters: lowercase letters, digits and '_', "
                "starting with a letter."
            },
        )
    if slug in RESERVED_SLUGS or slug.startswith("pg_"):
        raise ApplicationError("Invalid tenant slug.", details={"slug": f"'{slug}' is reserved."})
    if Tenant.objects.filter(schema_name=slug).exists():
        raise ApplicationError("Tenant exists.", details={"slug": f"'{slug}' is already taken."})


def user_get_or_create(*, email: str, password: str | None = None) -> tuple[User, bool]:
    email = email.strip().lower()
    if "@" not in email:
        raise ApplicationError("Invalid email.", details={"email": "Enter a valid email address."})
    user_model = get_user_model()
    user = user_model.objects.filter(username=email).first()
    if user is not None:
        return user, False
    if password:
        try:
            validate_password(password)
        except ValidationError as exc:
            raise ApplicationError(
                "Password too weak.", details={"password": " ".join(exc.messages)}
            ) from exc
    user = user_model.objects.create_user(username=email, email=email, password=password)
    if not password:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user, True


def tenant_create(
    *, slug: str, name: str, admin_email: str | None = None, admin_password: str | None = None
) -> Tenant:
    """Create the tenant row, its schema (migrated), its domain and its first admin."""
    slug = slug.strip().lower()
    name = name.strip()
    _validate_slug(slug)
    if not name:
        raise ApplicationError("Name required.", details={"name": "Give the tenant a name."})
    with transaction.atomic():
        tenant = Tenant.objects.create(schema_name=slug, name=name)
        Domain.objects.create(domain=tenant_domain_for(slug), tenant=tenant, is_primary=True)
        audit_record(
            tenant_slug=slug,
            action="tenant.created",
            object_type="tenant",
            object_id=slug,
            after={"name": name, "status": tenant.status},
        )
        if admin_email:
            user, _ = user_get_or_create(email=admin_email, password=admin_password)
            membership_create(tenant=tenant, user=user, role=Role.ADMIN)
    # Schema creation runs migrations in their own transactions; it happens after
    # the row commits so a failure leaves a tenant that `migrate_schemas` can finish.
    tenant.create_schema(check_if_exists=True, verbosity=0)
    tenant_connection().set_schema_to_public()
    return tenant


def tenant_set_status(*, tenant: Tenant, status: str) -> Tenant:
    if status not in TenantStatus.values:
        raise ApplicationError(
            "Invalid status.", details={"status": f"One of {TenantStatus.values}"}
        )
    with transaction.atomic():
        tenant, before, after = model_update(
            instance=tenant,
            fields=["status", "status_changed_at"],
            data={"status": status, "status_changed_at": timezone.now()},
        )
        if "status" in after:
            audit_record(
                tenant_slug=tenant.schema_name,
                action="tenant.suspended"
                if status == TenantStatus.SUSPENDED
                else "tenant.reactivated",
                object_type="tenant",
                object_id=tenant.schema_name,
                before={"status": before["status"]},
                after={"status": after["status"]},
            )
    return tenant


def membership_create(*, tenant: Tenant, user: User, role: str) -> Membership:
    if role not in Role.values:
        raise ApplicationError(
            "Invalid role.", details={"role": f"One of {', '.join(Role.values)}."}
        )
    with transaction.atomic():
        if Membership.objects.filter(tenant=tenant, user=user).exists():
            raise ApplicationError(
                "Already a member.", details={"email": f"{user.email} is already a member."}
            )
        membership = Membership.objects.create(tenant=tenant, user=user, role=role)
        audit_record(
            tenant_slug=tenant.schema_name,
            action="member.added",
            object_type="membership",
            object_id=membership.pk,
            after={"email": user.email, "role": role},
        )
    return membership


def member_invite(*, tenant: Tenant, email: str, role: str) -> Membership:
    """Add a user (created without a password if new) to the tenant with a role.

    The invitation mail (sent by a task once the membership is committed) links a new
    user to the set-password page.
    """
    from tenants.tasks import send_invitation  # tasks import services; import at call time

    with transaction.atomic():
        user, _ = user_get_or_create(email=email)
        membership = membership_create(tenant=tenant, user=user, role=role)
        enqueue_on_commit(send_invitation, membership.pk)
    return membership


def _lock_memberships(tenant_id: int) -> None:
    """Serialise role changes of one tenant (in pk order) so two admins can't demote each other."""
    list(Membership.objects.select_for_update().filter(tenant_id=tenant_id).order_by("pk"))


def _admins_left_after(membership: Membership, *, new_role: str | None) -> int:
    others = Membership.objects.filter(tenant_id=membership.tenant_id, role=Role.ADMIN).exclude(
        pk=membership.pk
    )
    return others.count() + (1 if new_role == Role.ADMIN else 0)


def member_change_role(*, membership: Membership, role: str) -> Membership:
    if role not in Role.values:
        raise ApplicationError(
            "Invalid role.", details={"role": f"One of {', '.join(Role.values)}."}
        )
    with transaction.atomic():
        _lock_memberships(membership.tenant_id)
        if membership.role == Role.ADMIN and _admins_left_after(membership, new_role=role) == 0:
            raise ApplicationError(
                "A tenant needs an admin.",
                details={"role": "This is the last admin of the tenant."},
            )
        membership, before, after = model_update(
            instance=membership, fields=["role"], data={"role": role}
        )
        if after:
            audit_record(
                tenant_slug=membership.tenant.schema_name,
                action="member.role_changed",
                object_type="membership",
                object_id=membership.pk,
                before={"email": membership.user.email, **before},
                after={"email": membership.user.email, **after},
            )
    return membership


def member_remove(*, membership: Membership) -> None:
    with transaction.atomic():
        _lock_memberships(membership.tenant_id)
        if membership.role == Role.ADMIN and _admins_left_after(membership, new_role=None) == 0:
            raise ApplicationError(
                "A tenant needs an admin.",
                details={"member": "This is the last admin of the tenant."},
            )
        audit_record(
            tenant_slug=membership.tenant.schema_name,
            action="member.removed",
            object_type="membership",
            object_id=membership.pk,
            before={"email": membership.user.email, "role": membership.role},
        )
        membership.delete()


@dataclass(frozen=True)
class CreatedApiKey:
    api_key: ApiKey
    raw_key: str  # shown once, never stored


def _validate_scopes(scopes: list[str]) -> list[str]:
    cleaned = sorted({scope.strip() for scope in scopes if scope.strip()})
    unknown = [scope for scope in cleaned if scope not in ApiKeyScope.values]
    if not cleaned or unknown:
        raise ApplicationError(
            "Invalid scopes.",
            details={"scopes": f"Choose one or more of {', '.join(ApiKeyScope.values)}."},
        )
    return cleaned


def api_key_create(
    *, tenant: Tenant, name: str, scopes: list[str], created_by: User | None = None
) -> CreatedApiKey:
    name = name.strip()
    if not name or len(name) > 100:
        raise ApplicationError("Invalid name.", details={"name": "1-100 characters."})
    scopes = _validate_scopes(scopes)
    raw_key = generate_key()
    with transaction.atomic():
        api_key = ApiKey.objects.create(
            tenant=tenant,
            name=name,
            prefix=visible_prefix(raw_key),
            key_hash=hash_key(raw_key),
            scopes=scopes,
            created_by=created_by,
        )
        audit_record(
            tenant_slug=tenant.schema_name,
            action="api_key.created",
            object_type="api_key",
            object_id=api_key.pk,
            after={"name": name, "prefix": api_key.prefix, "scopes": scopes},
        )
    return CreatedApiKey(api_key=api_key, raw_key=raw_key)


def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    with transaction.atomic():
        now = timezone.now()
        if api_key.revoked_at is not None and api_key.revoked_at <= now:
            return api_key
        api_key, before, after = model_update(
            instance=api_key, fields=["revoked_at"], data={"revoked_at": now}
        )
        audit_record(
            tenant_slug=api_key.tenant.schema_name,
            action="api_key.revoked",
            object_type="api_key",
            object_id=api_key.pk,
            before=before,
            after={"prefix": api_key.prefix, **after},
        )
    return api_key


def api_key_rotate(
    *, api_key: ApiKey, grace_seconds: int = 0, created_by: User | None = None
) -> CreatedApiKey:
    """Issue a replacement with the same name and scopes.

    The old key keeps working for `grace_seconds`, so deployments can switch over.
    """
    if api_key.revoked_at is not None and api_key.revoked_at <= timezone.now():
        raise ApplicationError("Key revoked.", details={"key": "A revoked key cannot be rotated."})
    if not 0 <= grace_seconds <= 7 * 24 * 3600:
        raise ApplicationError("Invalid grace period.", details={"grace_seconds": "0 to 7 days."})
    with transaction.atomic():
        created = api_key_create(
            tenant=api_key.tenant, name=api_key.name, scopes=api_key.scopes, created_by=created_by
        )
        api_key, before, after = model_update(
            instance=api_key,
            fields=["revoked_at", "replaced_by"],
            data={
                "revoked_at": timezone.now() + timedelta(seconds=grace_seconds),
                "replaced_by": created.api_key,
            },
        )
        audit_record(
            tenant_slug=api_key.tenant.schema_name,
            action="api_key.rotated",
            object_type="api_key",
            object_id=api_key.pk,
            before={"revoked_at": before.get("revoked_at")},
            after={"revoked_at": after["revoked_at"], "replaced_by": created.api_key.prefix},
        )
    return created


KEY_USE_RESOLUTION = timedelta(minutes=1)


def api_key_mark_used(*, api_key: ApiKey) -> None:
    """Record use at most once a minute per key: the loaded row tells whether it is due,
    so most requests write nothing; the conditional UPDATE keeps racing workers to one write."""
    now = timezone.now()
    if api_key.last_used_at is not None and api_key.last_used_at > now - KEY_USE_RESOLUTION:
        return
    ApiKey.objects.filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - KEY_USE_RESOLUTION),
        pk=api_key.pk,
    ).update(last_used_at=now)


HEARTBEAT_CACHE_PREFIX = "worker-heartbeat:"


def tenant_heartbeat_record(*, schema_name: str) -> None:
    """Note that a worker ran a task in this tenant now (read by the ops console)."""
    from django.core.cache import cache
    from django_tenants.utils import schema_context

    with schema_context("public"):
        cache.set(HEARTBEAT_CACHE_PREFIX + schema_name, timezone.now().isoformat(), timeout=3600)
