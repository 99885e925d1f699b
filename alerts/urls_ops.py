"""Ops console pages of the alerts app (included under /ops/ in the "ops" namespace)."""

from django.urls import path

from alerts.views import ops

urlpatterns = [
    path("alerts/", ops.policies_index, name="alerts-policies"),
    path("alerts/sla/", ops.sla_report, name="alerts-sla"),
    path("alerts/<slug:slug>/", ops.tenant_policies, name="alerts-tenant"),
    path(
        "alerts/<slug:slug>/<str:kind>/<str:pk>/delete",
        ops.policy_delete,
        name="alerts-policy-delete",
    ),
]
