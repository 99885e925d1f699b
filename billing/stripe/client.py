"""The official Stripe client, configured from settings (STRIPE_API_BASE for mocks)."""

from __future__ import annotations

from django.conf import settings
from stripe import StripeClient

from core.exceptions import ApplicationError


def stripe_client() -> StripeClient:
    """A client for tasks only: Stripe is never called inside a web request."""
    key = settings.STRIPE_API_KEY
    if not key:
        raise ApplicationError("Stripe is not configured.", details={"STRIPE_API_KEY": "unset"})
    base = settings.STRIPE_API_BASE.rstrip("/")
    addresses = {"api": base, "meter_events": base, "files": base} if base else {}
    # Retries belong to Celery (same identifiers and idempotency keys), not to the client.
    return StripeClient(key, base_addresses=addresses, max_network_retries=0)  # type: ignore[arg-type]
