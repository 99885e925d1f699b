"""Ingestion settings page (included by core/urls_tenant.py under settings/ingestion/)."""

from django.urls import path

from metrics.ingest import views

urlpatterns = [
    path("", views.ingest_settings, name="ingest-settings"),
]
