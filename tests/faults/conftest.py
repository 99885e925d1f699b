"""Fixtures of the fault tests: a private Redis as Celery broker, committed API keys."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django_tenants.utils import tenant_context

from core.request_context import acting_as
from tenants.models import ApiKey, Tenant
from tenants.services import api_key_create
from tests.faults.support import RedisServer


@pytest.fixture
def private_redis() -> Iterator[RedisServer]:
    """A redis-server of this test only (never the shared one): tests stop and start it."""
    server = RedisServer()
    try:
        yield server
    finally:
        server.kill()


@pytest.fixture
def private_broker(private_redis: RedisServer, settings: Any) -> Iterator[RedisServer]:
    """Celery's broker (and Django's Redis) switched to the private Redis, which starts *down*.

    Kombu keeps connection and producer pools per broker URL; the app caches one of each.
    Dropping the cached ones makes the next send use the new URL; they are put back after.
    """
    from core.celery import app

    saved = {
        "broker_url": app.conf.broker_url,
        "broker_connection_timeout": app.conf.broker_connection_timeout,
    }
    saved_pools = (app._pool, app.amqp._producer_pool)
    settings.REDIS_URL = private_redis.url(0)
    app.conf.broker_url = private_redis.url(1)
    app._pool = app.amqp._producer_pool = None
    try:
        yield private_redis
    finally:
        for pool in (app.amqp._producer_pool, app._pool):
            if pool is not None:
                pool.force_close_all()
        app._pool, app.amqp._producer_pool = saved_pools
        app.conf.update(saved)


@pytest.fixture
def committed_key(committed_db: None, session_tenants: dict[str, Tenant]) -> Iterator[str]:
    """A committed ingest key of `alpha` (for servers in other processes); deleted after."""
    tenant = Tenant.objects.get(schema_name="alpha")
    with acting_as("fault tests"):
        created = api_key_create(tenant=tenant, name="faults", scopes=["ingest", "read"])
    try:
        yield created.raw_key
    finally:
        ApiKey.objects.filter(pk=created.api_key.pk).delete()


def delete_events(tenant: Tenant, feature: str) -> None:
    """Remove what a committed test stored under its own feature name, with what refers to
    it (grades, violation records), and rebuild the hours it was in without it."""
    from django.db.models.functions import TruncHour

    from metrics.models import Event
    from metrics.rollups.services import rollup_hour_rebuild

    with tenant_context(tenant):
        events = Event.objects.filter(feature=feature)
        hours = set(events.annotate(h=TruncHour("timestamp")).values_list("h", flat=True))
        events.delete()
        for hour in sorted(hours):
            rollup_hour_rebuild(hour=hour)
