"""Quality pages (tenant hosts) and API routes (every host)."""

from django.urls import path

from metrics.quality import api, views

page_urlpatterns = [
    path("quality/over-time/", views.quality_page, name="quality-time"),
    path("quality/review/", views.review_queue, name="review-queue"),
    path("quality/review/<int:item_id>/", views.review_item, name="review-item"),
    path("quality/calibration/", views.calibration_page, name="quality-calibration"),
    path("quality/settings/", views.quality_settings, name="quality-settings"),
    path("quality/grades/<int:grade_id>/retry", views.grade_retry_view, name="quality-grade-retry"),
]

api_urlpatterns = [
    path("api/v1/deployments", api.DeploymentsView.as_view(), name="api-deployments"),
    path("api/v1/quality/findings", api.QualityFindingsView.as_view(), name="api-quality-findings"),
]
