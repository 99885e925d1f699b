"""/api/v1/alerts/...: rules and incidents (read: scope `read`; changes: scope `alerts`)."""

from django.urls import path

from alerts.api.incidents import (
    IncidentAcknowledgeView,
    IncidentDetailView,
    IncidentListView,
    IncidentResolveView,
)
from alerts.api.rules import RuleDetailView, RuleListView

urlpatterns = [
    path("rules", RuleListView.as_view(), name="api-alert-rules"),
    path("rules/<str:rule_id>", RuleDetailView.as_view(), name="api-alert-rule"),
    path("incidents", IncidentListView.as_view(), name="api-alert-incidents"),
    path("incidents/<str:incident_id>", IncidentDetailView.as_view(), name="api-alert-incident"),
    path(
        "incidents/<str:incident_id>/acknowledge",
        IncidentAcknowledgeView.as_view(),
        name="api-alert-incident-ack",
    ),
    path(
        "incidents/<str:incident_id>/resolve",
        IncidentResolveView.as_view(),
        name="api-alert-incident-resolve",
    ),
]
