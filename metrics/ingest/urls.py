"""REST ingestion route (included by core/urls_api.py)."""

from django.urls import path

from metrics.ingest.api import EventBatchView

urlpatterns = [
    path("api/v1/events", EventBatchView.as_view(), name="api-events"),
]
