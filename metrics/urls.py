"""The tenant dashboard's pages (included by core/urls_tenant.py at the site root)."""

from django.urls import path

from metrics.views import events, layers, overview

urlpatterns = [
    path("", overview.overview_page, name="home"),
    path("cost/", layers.cost_page, name="dash-cost"),
    path("latency/", layers.latency_page, name="dash-latency"),
    path("quality/", layers.quality_page, name="dash-quality"),
    path("reliability/", layers.reliability_page, name="dash-reliability"),
    path("safety/", layers.safety_page, name="dash-safety"),
    path("events/", events.events_page, name="dash-events"),
    path("events/<path:event_id>/", events.event_page, name="dash-event"),
    path("traces/<str:trace_id>/", events.trace_page, name="dash-trace"),
]
