"""OTLP and Langfuse-compatible routes (included by core/urls_api.py)."""

from django.urls import path

from metrics.otel import api
from metrics.otel.api_read import TraceDetailView

urlpatterns = [
    path("api/otel/v1/traces", api.otlp_traces, name="otel-traces"),
    path("api/v1/traces", api.otlp_traces, name="otel-traces-alias"),
    path("api/v1/traces/<str:trace_id>", TraceDetailView.as_view(), name="api-trace"),
    path("api/public/otel/v1/traces", api.langfuse_otel_traces, name="langfuse-otel-traces"),
    path("api/public/scores", api.langfuse_scores, name="langfuse-scores"),
    path("api/public/health", api.langfuse_health, name="langfuse-health"),
    path("api/public/projects", api.langfuse_projects, name="langfuse-projects"),
]
