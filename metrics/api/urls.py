"""/api/v1/metrics/...: the read API of the five layers (API key scope `read`)."""

from django.urls import path

from metrics.api.events import EventDetailView, EventListView
from metrics.api.layers import (
    CostView,
    LatencyView,
    OverviewView,
    QualityView,
    ReliabilityView,
    SafetyView,
)
from metrics.api.prometheus import PrometheusView

urlpatterns = [
    path("overview", OverviewView.as_view(), name="api-metrics-overview"),
    path("cost", CostView.as_view(), name="api-metrics-cost"),
    path("latency", LatencyView.as_view(), name="api-metrics-latency"),
    path("reliability", ReliabilityView.as_view(), name="api-metrics-reliability"),
    path("safety", SafetyView.as_view(), name="api-metrics-safety"),
    path("quality", QualityView.as_view(), name="api-metrics-quality"),
    path("events", EventListView.as_view(), name="api-metrics-events"),
    path("events/<path:event_id>", EventDetailView.as_view(), name="api-metrics-event"),
    path("prometheus", PrometheusView.as_view(), name="api-metrics-prometheus"),
]
