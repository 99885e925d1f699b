"""Pricing pages of the tenant dashboard (included by core/urls_tenant.py under pricing/)."""

from django.urls import path

from metrics.pricing import views

urlpatterns = [
    path("unpriced/", views.unpriced_models, name="pricing-unpriced"),
    path("overrides/", views.price_override_add, name="pricing-override-add"),
]
