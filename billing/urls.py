"""Billing pages on a tenant's host (mounted under /billing/)."""

from django.urls import path

from billing.views import tenant

urlpatterns = [
    path("", tenant.billing_home, name="billing"),
    path("statements/<int:statement_id>/", tenant.statement_detail, name="billing-statement"),
    path(
        "statements/<int:statement_id>/download/<str:fmt>",
        tenant.statement_download,
        name="billing-statement-download",
    ),
    path("cost-lines/<str:fmt>", tenant.cost_lines_download, name="billing-cost-lines"),
]
