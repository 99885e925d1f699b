"""Live-server ingest tests commit their events: remove them afterwards.

The server answers from other threads, so those tests use `committed_db` and
their rows outlive the test; later tests (selectors, rollups) compare numbers
with the raw events of the session tenants and must not see them. Rows
received since the test started are the test's own: a pytest process runs
one test at a time.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from metrics.models import DirtyHour, Event
from tenants.models import Tenant


@pytest.fixture(autouse=True)
def _forget_committed_events(request: pytest.FixtureRequest) -> Iterator[None]:
    if "committed_db" not in request.fixturenames:
        yield
        return
    started = timezone.now()
    yield
    for tenant in Tenant.objects.filter(schema_name__in=["alpha", "beta"]):
        with tenant_context(tenant):
            Event.objects.filter(received_at__gte=started).delete()
            DirtyHour.objects.filter(marked_at__gte=started).delete()
