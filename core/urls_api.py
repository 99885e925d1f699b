"""The REST API, served on every host; the API key decides the tenant."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from alerts.api.budget import BudgetCheckView
from core.views import health
from metrics.quality.urls import api_urlpatterns as quality_api_urlpatterns
from tenants.api import TenantInfoView

urlpatterns = [
    path("api/health", health, name="api-health"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script as its own file (?script): CSP-safe.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/v1/tenant", TenantInfoView.as_view(), name="api-tenant"),
    *quality_api_urlpatterns,  # POST /api/v1/deployments, GET /api/v1/quality/findings
    path("", include("metrics.ingest.urls")),  # POST /api/v1/events
    path("api/v1/metrics/", include("metrics.api.urls")),
    path("api/v1/alerts/", include("alerts.api.urls")),  # rules and incidents
    path("api/v1/budget/check", BudgetCheckView.as_view(), name="api-budget-check"),
    path("", include("metrics.otel.urls")),  # OTLP traces and the Langfuse-compatible paths
]
