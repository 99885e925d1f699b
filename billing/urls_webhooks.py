"""Stripe's webhook on the public host (not under /api/, which requires an API key)."""

from django.urls import path

from billing.views.webhook import stripe_webhook

urlpatterns = [path("webhooks/stripe", stripe_webhook, name="stripe-webhook")]
