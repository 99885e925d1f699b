from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.billing.fake_stripe import API_KEY, FakeStripe, start_fake_stripe

WEBHOOK_SECRET = "whsec_test_vigil_secret"


@pytest.fixture
def fake_stripe(settings) -> Iterator[FakeStripe]:
    fake, server = start_fake_stripe()
    settings.STRIPE_API_KEY = API_KEY
    settings.STRIPE_API_BASE = fake.url
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_METER_EVENT_NAME = "vigil_usage"
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
