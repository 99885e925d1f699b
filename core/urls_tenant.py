"""A tenant's host: its dashboard and settings (and the API, whose key must match)."""

from django.urls import include, path

from core.urls_api import urlpatterns as api_urlpatterns
from core.urls_auth import urlpatterns as auth_urlpatterns
from metrics.quality.urls import page_urlpatterns as quality_page_urlpatterns
from tenants.views import settings as tenant_settings

urlpatterns = [
    # The dashboard: "" is the overview (url name "home"), then one page per layer.
    path("", include("metrics.urls")),
    *auth_urlpatterns,
    path("settings/members/", tenant_settings.members, name="members"),
    path(
        "settings/members/<int:membership_id>/role", tenant_settings.member_role, name="member-role"
    ),
    path(
        "settings/members/<int:membership_id>/remove",
        tenant_settings.member_remove,
        name="member-remove",
    ),
    path("settings/api-keys/", tenant_settings.api_keys, name="api-keys"),
    path(
        "settings/api-keys/<int:api_key_id>/revoke",
        tenant_settings.api_key_revoke,
        name="api-key-revoke",
    ),
    path(
        "settings/api-keys/<int:api_key_id>/rotate",
        tenant_settings.api_key_rotate,
        name="api-key-rotate",
    ),
    path("compliance/", include("compliance.urls")),
    path("alerts/", include("alerts.urls")),
    path("pricing/", include("metrics.pricing.urls")),
    path("billing/", include("billing.urls")),
    *quality_page_urlpatterns,
    path("settings/ingestion/", include("metrics.ingest.page_urls")),
    *api_urlpatterns,
]

handler400 = "core.views.handler400"
handler403 = "core.views.handler403"
handler404 = "core.views.handler404"
handler500 = "core.views.handler500"
