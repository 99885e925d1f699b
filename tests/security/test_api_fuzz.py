"""Property-based fuzzing of every documented API operation with schemathesis: no input,
valid or not, may make Vigil answer 5xx.

The schema is the one `/api/schema/` serves (drf-spectacular's generator), the requests go
straight into the WSGI application inside the test's transaction, and they carry a key of
tenant alpha holding every scope, so each operation is exercised past authentication.
Schemathesis generates schema-conforming and schema-violating cases (its coverage phase adds
boundary and missing/extra-field cases); `max_examples` bounds the random phase so the whole
module stays within a couple of minutes on two cores.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from tenants.models import ApiKeyScope
from tenants.services import api_key_create

EXAMPLES_PER_OPERATION = 25


def _schema() -> Any:
    raw = SchemaGenerator().get_schema(request=None, public=True)
    loaded = schemathesis.openapi.from_dict(raw)
    loaded.app = get_wsgi_application()  # what from_wsgi sets: calls go into the app in-process
    return loaded


schema = _schema()


@pytest.fixture
def in_test_transaction() -> Iterator[None]:
    """Keep the WSGI app on the test's connection, as Django's test Client does: the
    handler's request signals would otherwise close it (and the test transaction) after
    the first request."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def all_scopes_key(tenant: Any, settings: Any, in_test_transaction: None) -> str:
    # Fuzzing sends hundreds of ingest requests in seconds: the per-tenant limit would
    # answer most of them 429 before the code under test runs.
    settings.VIGIL_INGEST_RATE_REQUESTS = 0
    settings.VIGIL_INGEST_RATE_EVENTS = 0
    return api_key_create(tenant=tenant, name="fuzz", scopes=list(ApiKeyScope.values)).raw_key


def test_the_fuzzed_schema_is_the_served_one(client: Any) -> None:
    served = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert served.status_code == 200
    assert set(served.json()["paths"]) == set(schema.raw_schema["paths"])
    assert "/api/v1/events" in served.json()["paths"]


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,  # the same cases on every run: a failure here is reproducible
)
def test_no_operation_answers_a_server_error(case: Any, all_scopes_key: str) -> None:
    case.call_and_validate(
        headers={"Authorization": f"Bearer {all_scopes_key}"},
        checks=[not_a_server_error],
    )
