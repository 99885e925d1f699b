"""Compliance pages on a tenant's host (mounted under /compliance/)."""

from django.urls import path

from compliance import views

urlpatterns = [
    path("audit/", views.audit_log, name="compliance-audit"),
    path("audit/verify/", views.audit_verify, name="compliance-audit-verify"),
    path("violations/", views.violations, name="compliance-violations"),
    path("violations/<int:record_id>/", views.violation_detail, name="compliance-violation"),
    path("exports/", views.exports, name="compliance-exports"),
    path("exports/status/", views.exports_status, name="compliance-exports-status"),
    path(
        "exports/<int:export_id>/download/",
        views.export_download,
        name="compliance-export-download",
    ),
    path("settings/", views.compliance_settings, name="compliance-settings"),
]
