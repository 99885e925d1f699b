"""Login and logout on every host; the public home that routes people where they belong."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme

from compliance.services import audit_record
from core.exceptions import ApplicationError
from core.middleware import client_ip
from tenants.login_guard import login_blocked, login_failure_record, login_success_record
from tenants.selectors import membership_role, memberships_of_user
from tenants.staff_handoff import staff_handoff_redeem


class LoginView(auth_views.LoginView):
    template_name = "tenants/login.html"
    redirect_authenticated_user = True

    def _chain(self) -> str | None:
        tenant = getattr(self.request, "tenant", None)
        return tenant.schema_name if tenant is not None else None

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        username = str(request.POST.get("username", ""))[:150]
        if login_blocked(username=username, ip=client_ip(request)):
            form = self.get_form()
            form.errors.clear()
            form.add_error(None, "Too many failed attempts. Try again in 15 minutes.")
            self._record_failure(username, reason="blocked: too many failures")
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        user = form.get_user()
        login_success_record(username=user.get_username(), ip=client_ip(self.request))
        tenant = getattr(self.request, "tenant", None)
        if (
            tenant is not None
            and not user.is_staff
            and membership_role(user=user, tenant=tenant) is None
        ):
            form.add_error(None, "This account has no access to this tenant.")
            self._record_failure(form.cleaned_data.get("username", ""), reason="not a member")
            return self.form_invalid(form, record=False)
        with transaction.atomic():
            response = super().form_valid(form)
            audit_record(
                tenant_slug=self._chain(),
                action="auth.login",
                object_type="user",
                object_id=user.pk,
                after={"username": user.get_username()},
                # The request context still names the anonymous visitor: name the user.
                actor_type="user",
                actor_id=user.pk,
                actor_label=user.get_username(),
            )
        return response

    def form_invalid(self, form: AuthenticationForm, record: bool = True) -> HttpResponse:
        if record:
            username = str(self.request.POST.get("username", ""))[:150]
            login_failure_record(username=username, ip=client_ip(self.request))
            self._record_failure(username, reason="bad credentials")
        return super().form_invalid(form)

    def _record_failure(self, username: str, *, reason: str) -> None:
        audit_record(
            tenant_slug=self._chain(),
            action="auth.login_failed",
            object_type="user",
            object_id="",
            after={"username": username, "reason": reason},
        )


class LogoutView(auth_views.LogoutView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated:
            tenant = getattr(request, "tenant", None)
            audit_record(
                tenant_slug=tenant.schema_name if tenant is not None else None,
                action="auth.logout",
                object_type="user",
                object_id=request.user.pk,
            )
        return super().post(request, *args, **kwargs)


def public_home(request: HttpRequest) -> HttpResponse:
    """Staff go to the ops console; members pick one of their tenants."""
    if not request.user.is_authenticated:
        return redirect("login")
    if request.user.is_staff:
        return redirect("ops:tenants")
    memberships = list(memberships_of_user(user=request.user))
    if len(memberships) == 1:
        domain = memberships[0].tenant.get_primary_domain()
        if domain is not None:
            return HttpResponseRedirect(_tenant_url(request, domain.domain))
    links = [
        {
            "membership": membership,
            "url": _tenant_url(request, d.domain)
            if (d := membership.tenant.get_primary_domain())
            else "",
        }
        for membership in memberships
    ]
    return render(request, "tenants/pick_tenant.html", {"links": links})


def _tenant_url(request: HttpRequest, domain: str) -> str:
    port = request.get_port()
    default_port = "443" if request.is_secure() else "80"
    suffix = f":{port}" if port and port != default_port else ""
    return f"{request.scheme}://{domain}{suffix}/"


def staff_enter(request: HttpRequest) -> HttpResponse:
    """Tenant host: redeem an ops-console handoff token and log the staff user in."""
    tenant = getattr(request, "tenant", None)
    if tenant is None:
        return render(request, "errors/not_found.html", status=404)
    try:
        handoff = staff_handoff_redeem(
            token=str(request.GET.get("token", "")), tenant_slug=tenant.schema_name
        )
    except ApplicationError as exc:
        return render(request, "errors/forbidden.html", {"message": exc.message}, status=403)
    login(request, handoff.user, backend="django.contrib.auth.backends.ModelBackend")
    next_path = str(request.GET.get("next", "/"))
    if not url_has_allowed_host_and_scheme(next_path, allowed_hosts=None):
        next_path = "/"
    return HttpResponseRedirect(next_path)
