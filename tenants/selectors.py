"""Reads of the tenants app."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from tenants.keys import hash_key
from tenants.models import ApiKey, Membership, Tenant, TenantStatus


def tenant_get_by_slug(*, slug: str) -> Tenant:
    tenant = Tenant.objects.filter(schema_name=slug).exclude(schema_name="public").first()
    if tenant is None:
        raise Http404("No such tenant.")
    return tenant


def tenants_list() -> QuerySet[Tenant]:
    return Tenant.objects.exclude(schema_name="public").prefetch_related("domains").order_by("name")


def tenants_active() -> QuerySet[Tenant]:
    return tenants_list().filter(status=TenantStatus.ACTIVE)


def membership_role(*, user: AbstractBaseUser | AnonymousUser, tenant: Tenant) -> str | None:
    if not user.is_authenticated:
        return None
    return (
        Membership.objects.filter(user_id=user.pk, tenant=tenant)
        .values_list("role", flat=True)
        .first()
    )


def memberships_of_user(*, user: AbstractBaseUser) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(user_id=user.pk, tenant__status=TenantStatus.ACTIVE)
        .select_related("tenant")
        .prefetch_related("tenant__domains")
        .order_by("tenant__name")
    )


def members_list(*, tenant: Tenant) -> QuerySet[Membership]:
    return Membership.objects.filter(tenant=tenant).select_related("user").order_by("user__email")


def membership_get(*, tenant: Tenant, membership_id: int) -> Membership:
    """The one lookup for a membership named in a URL: 404 unless it is this tenant's."""
    membership = (
        Membership.objects.filter(tenant=tenant, pk=membership_id)
        .select_related("user", "tenant")
        .first()
    )
    if membership is None:
        raise Http404("No such member.")
    return membership


def api_keys_list(*, tenant: Tenant) -> QuerySet[ApiKey]:
    return ApiKey.objects.filter(tenant=tenant).select_related("created_by").order_by("-created_at")


def api_key_get(*, tenant: Tenant, api_key_id: int) -> ApiKey:
    api_key = ApiKey.objects.filter(tenant=tenant, pk=api_key_id).select_related("tenant").first()
    if api_key is None:
        raise Http404("No such API key.")
    return api_key


@dataclass(frozen=True)
class KeyResolution:
    api_key: ApiKey | None
    error: str | None
    status: int


def api_key_resolve(*, raw_key: str) -> KeyResolution:
    """Find the live key for a presented secret, or say why it is refused."""
    if not raw_key:
        return KeyResolution(None, "Missing API key: send 'Authorization: Bearer <key>'.", 401)
    api_key = ApiKey.objects.select_related("tenant").filter(key_hash=hash_key(raw_key)).first()
    if api_key is None:
        return KeyResolution(None, "Unknown API key.", 401)
    if api_key.revoked_at is not None and api_key.revoked_at <= timezone.now():
        return KeyResolution(None, "This API key has been revoked.", 401)
    if api_key.tenant.status != TenantStatus.ACTIVE:
        return KeyResolution(None, "This tenant is suspended; its keys are refused.", 403)
    return KeyResolution(api_key, None, 200)
