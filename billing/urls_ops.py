"""Ops billing console (mounted under /ops/billing/ in the `ops` namespace)."""

from django.urls import path

from billing.views import ops

urlpatterns = [
    path("billing/", ops.overview, name="billing"),
    path("billing/<slug:slug>/", ops.tenant_billing, name="billing-tenant"),
    path("billing/<slug:slug>/rate-cards", ops.rate_card_add, name="billing-rate-card-add"),
    path("billing/<slug:slug>/account", ops.account_update, name="billing-account"),
    path("billing/<slug:slug>/close", ops.close_month, name="billing-close"),
    path(
        "billing/<slug:slug>/statements/<int:statement_id>/download/<str:fmt>",
        ops.statement_download,
        name="billing-statement-download",
    ),
]
