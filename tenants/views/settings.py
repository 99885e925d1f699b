"""Tenant settings pages: members and API keys (admins write, staff read)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods, require_POST

from core.exceptions import ApplicationError
from core.roles import tenant_page
from core.views_helpers import form_errors_from, form_field_errors, render_page
from tenants import selectors, services
from tenants.forms import ApiKeyCreateForm, ApiKeyRotateForm, MemberInviteForm, MemberRoleForm
from tenants.models import ApiKeyScope, Role


def _members_context(request: HttpRequest, **extra: object) -> dict[str, object]:
    tenant = request.tenant  # type: ignore[attr-defined]
    return {
        "members": selectors.members_list(tenant=tenant),
        "roles": Role.choices,
        "invite_form": extra.pop("invite_form", MemberInviteForm()),
        **extra,
    }


@tenant_page("settings")
@require_http_methods(["GET", "POST"])
def members(request: HttpRequest) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    form = MemberInviteForm(request.POST or None)
    errors: dict[str, str] = {}
    if request.method == "POST":
        if form.is_valid():
            try:
                services.member_invite(tenant=tenant, **form.cleaned_data)
            except ApplicationError as exc:
                errors = form_errors_from(exc)
            else:
                messages.success(request, f"{form.cleaned_data['email']} was added.")
                form = MemberInviteForm()
        else:
            errors = form_field_errors(form)
    context = _members_context(request, invite_form=form, errors=errors)
    return render_page(request, "tenants/members.html", "tenants/_members.html", context)


@tenant_page("settings", write=True)
@require_POST
def member_role(request: HttpRequest, membership_id: int) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    membership = selectors.membership_get(tenant=tenant, membership_id=membership_id)
    form = MemberRoleForm(request.POST)
    errors: dict[str, str] = {}
    if not form.is_valid():
        errors = {"role": "Choose a valid role."}
    else:
        try:
            services.member_change_role(membership=membership, role=form.cleaned_data["role"])
        except ApplicationError as exc:
            errors = form_errors_from(exc)
        else:
            messages.success(
                request, f"{membership.user.email} is now {membership.get_role_display()}."
            )
    context = _members_context(request, errors=errors)
    return render_page(request, "tenants/members.html", "tenants/_members.html", context)


@tenant_page("settings", write=True)
@require_POST
def member_remove(request: HttpRequest, membership_id: int) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    membership = selectors.membership_get(tenant=tenant, membership_id=membership_id)
    errors: dict[str, str] = {}
    try:
        services.member_remove(membership=membership)
    except ApplicationError as exc:
        errors = form_errors_from(exc)
    else:
        messages.success(request, f"{membership.user.email} was removed.")
    context = _members_context(request, errors=errors)
    return render_page(request, "tenants/members.html", "tenants/_members.html", context)


def _keys_context(request: HttpRequest, **extra: object) -> dict[str, object]:
    tenant = request.tenant  # type: ignore[attr-defined]
    return {
        "keys": selectors.api_keys_list(tenant=tenant),
        "scopes": ApiKeyScope.choices,
        "create_form": extra.pop("create_form", ApiKeyCreateForm(initial={"scopes": ["ingest"]})),
        "ingest_url": request.build_absolute_uri("/api/v1/events"),
        **extra,
    }


@tenant_page("settings")
@require_http_methods(["GET", "POST"])
def api_keys(request: HttpRequest) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    form = ApiKeyCreateForm(request.POST or None, initial={"scopes": ["ingest"]})
    errors: dict[str, str] = {}
    new_key = None
    if request.method == "POST":
        if form.is_valid():
            try:
                new_key = services.api_key_create(
                    tenant=tenant,
                    name=form.cleaned_data["name"],
                    scopes=form.cleaned_data["scopes"],
                    created_by=request.user,  # type: ignore[arg-type]
                )
            except ApplicationError as exc:
                errors = form_errors_from(exc)
            else:
                form = ApiKeyCreateForm(initial={"scopes": ["ingest"]})
        else:
            errors = form_field_errors(form)
    context = _keys_context(request, create_form=form, errors=errors, new_key=new_key)
    return render_page(request, "tenants/api_keys.html", "tenants/_api_keys.html", context)


@tenant_page("settings", write=True)
@require_POST
def api_key_revoke(request: HttpRequest, api_key_id: int) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    api_key = selectors.api_key_get(tenant=tenant, api_key_id=api_key_id)
    services.api_key_revoke(api_key=api_key)
    messages.success(request, f"Key {api_key.prefix}… was revoked.")
    return render_page(
        request, "tenants/api_keys.html", "tenants/_api_keys.html", _keys_context(request)
    )


@tenant_page("settings", write=True)
@require_POST
def api_key_rotate(request: HttpRequest, api_key_id: int) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    api_key = selectors.api_key_get(tenant=tenant, api_key_id=api_key_id)
    form = ApiKeyRotateForm(request.POST)
    errors: dict[str, str] = {}
    new_key = None
    if form.is_valid():
        try:
            new_key = services.api_key_rotate(
                api_key=api_key,
                grace_seconds=form.cleaned_data["grace_seconds"],
                created_by=request.user,  # type: ignore[arg-type]
            )
        except ApplicationError as exc:
            errors = form_errors_from(exc)
    else:
        errors = {"grace_seconds": "0 to 604800 seconds."}
    context = _keys_context(request, errors=errors, new_key=new_key)
    return render_page(request, "tenants/api_keys.html", "tenants/_api_keys.html", context)


@tenant_page("overview")
def tenant_home(request: HttpRequest) -> HttpResponse:
    """The tenant's start page: where to send events, and the areas this role may open."""
    return render(
        request, "tenants/home.html", {"ingest_url": request.build_absolute_uri("/api/v1/events")}
    )
