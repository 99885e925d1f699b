"""The public host: login, the ops console and the API."""

from django.urls import URLPattern, URLResolver, include, path

from core.urls_api import urlpatterns as api_urlpatterns
from core.urls_auth import urlpatterns as auth_urlpatterns
from tenants.views import auth, ops

ops_routes: list[URLPattern | URLResolver] = [
    path("", include("metrics.urls_ops")),  # every tenant side by side
    path("tenants/", ops.tenants, name="tenants"),
    path("tenants/<slug:slug>/status", ops.tenant_status, name="tenant-status"),
    path("tenants/<slug:slug>/open", ops.tenant_open, name="tenant-open"),
    path("", include("billing.urls_ops")),  # /ops/billing/...
    path("", include("alerts.urls_ops")),  # /ops/alerts/...: budgets, SLOs, SLA report
    path("", include("compliance.urls_ops")),  # /ops/compliance/chains/: audit integrity
]
ops_patterns = (ops_routes, "ops")

urlpatterns = [
    path("", auth.public_home, name="home"),
    *auth_urlpatterns,
    path("ops/", include(ops_patterns)),
    path("", include("billing.urls_webhooks")),  # POST /webhooks/stripe (Stripe-signed)
    *api_urlpatterns,
]

handler400 = "core.views.handler400"
handler403 = "core.views.handler403"
handler404 = "core.views.handler404"
handler500 = "core.views.handler500"
