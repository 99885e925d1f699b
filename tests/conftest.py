"""Shared fixtures.

Two tenants (`alpha`, `beta`) are created once per test session: creating a
schema runs every tenant migration, far too slow to repeat per test. Tests
run inside a transaction that is rolled back (pytest-django's `db`), so rows
they write in either schema vanish after each test.

Tests that need a real server (HTTP clients, OpenTelemetry exporters, the
browser) use `live_server_url`: a threaded WSGI server over the same test
database. Their data must be committed, so they use `committed_db` instead of
`db` and name their rows uniquely; nothing is flushed, because the audit log
refuses TRUNCATE by design.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.test import Client

from core.db import tenant_connection
from core.request_context import acting_as
from tenants.models import Membership, Tenant
from tenants.services import api_key_create, tenant_create, tenant_domain_for

TEST_PASSWORD = "correct-horse-battery-9"
SESSION_TENANTS = {"alpha": "Alpha Corp", "beta": "Beta Industries"}


def _ensure_tenant(slug: str, name: str) -> Tenant:
    tenant = Tenant.objects.filter(schema_name=slug).first()
    if tenant is not None:
        if tenant.status != "active":
            Tenant.objects.filter(pk=tenant.pk).update(status="active")
            tenant.refresh_from_db()
        return tenant
    with acting_as("test setup"):
        return tenant_create(slug=slug, name=name)


@pytest.fixture(scope="session")
def session_tenants(django_db_setup: Any, django_db_blocker: Any) -> dict[str, Tenant]:
    with django_db_blocker.unblock():
        tenants = {slug: _ensure_tenant(slug, name) for slug, name in SESSION_TENANTS.items()}
        tenant_connection().set_schema_to_public()
    return tenants


@pytest.fixture(autouse=True)
def _back_to_public() -> Iterator[None]:
    yield
    tenant_connection().set_schema_to_public()


@pytest.fixture
def tenant(session_tenants: dict[str, Tenant], db: None) -> Tenant:
    # A fresh instance per test: a test that suspends it must not leak into the next.
    return Tenant.objects.get(pk=session_tenants["alpha"].pk)


@pytest.fixture
def other_tenant(session_tenants: dict[str, Tenant], db: None) -> Tenant:
    return Tenant.objects.get(pk=session_tenants["beta"].pk)


def pytest_sessionstart(session: pytest.Session) -> None:
    """Always set up the test database, also for a run of only `committed_db` tests.

    pytest-django creates the test database only when some collected test asks for
    `db`/`transactional_db`/`live_server` or carries the django_db marker; a run of only
    committed_db/live_server_url tests would otherwise write into the development DB.
    """
    import pytest_django.fixtures as django_fixtures

    original = django_fixtures._get_databases_for_setup

    def with_default(items: Any) -> tuple[set[str], set[str]]:
        aliases, serialized = original(items)
        return {*aliases, "default"}, serialized

    django_fixtures._get_databases_for_setup = with_default


@pytest.fixture
def committed_db(django_db_blocker: Any) -> Iterator[None]:
    """Database access without the per-test transaction: writes are committed."""
    from django.db import connection

    name = str(connection.settings_dict["NAME"])
    assert name.startswith("test_"), f"committed_db must run on the test database, not {name}"
    with django_db_blocker.unblock():
        tenant_connection().set_schema_to_public()
        last_user = get_user_model().objects.order_by("-pk").values_list("pk", flat=True).first()
        yield
        tenant_connection().set_schema_to_public()
        # Users (and with them their memberships) a committed test made would stay members
        # of alpha and beta in a reused test database; audit entries cannot be removed
        # (append-only), so tests count only the entries they wrote.
        get_user_model().objects.filter(pk__gt=last_user or 0).delete()


def make_user(*, email: str | None = None, is_staff: bool = False) -> User:
    email = email or f"user-{uuid.uuid4().hex[:10]}@example.test"
    user = get_user_model().objects.create_user(
        username=email, email=email, password=TEST_PASSWORD, is_staff=is_staff
    )
    return user


@pytest.fixture
def member_factory(db: None) -> Callable[..., User]:
    def make(tenant: Tenant, role: str = "admin", email: str | None = None) -> User:
        user = make_user(email=email)
        Membership.objects.create(user=user, tenant=tenant, role=role)
        return user

    return make


@pytest.fixture
def admin_user(tenant: Tenant, member_factory: Callable[..., User]) -> User:
    return member_factory(tenant, "admin")


@pytest.fixture
def staff_user(db: None) -> User:
    return make_user(is_staff=True)


def host_of(tenant: Tenant) -> str:
    return tenant_domain_for(tenant.schema_name)


@pytest.fixture
def tenant_client() -> Callable[..., Client]:
    """A browser-like client on a tenant's host, logged in as `user` if given."""

    def make(tenant: Tenant, user: User | None = None) -> Client:
        client = Client(HTTP_HOST=host_of(tenant))
        if user is not None:
            client.force_login(user)
        return client

    return make


@pytest.fixture
def public_client() -> Callable[..., Client]:
    def make(user: User | None = None) -> Client:
        client = Client(HTTP_HOST="localhost")
        if user is not None:
            client.force_login(user)
        return client

    return make


@pytest.fixture
def api_key_factory(db: None) -> Callable[..., str]:
    """Create a key and return the raw secret."""

    def make(tenant: Tenant, scopes: list[str] | None = None) -> str:
        return api_key_create(
            tenant=tenant, name="test", scopes=scopes or ["ingest", "read"]
        ).raw_key

    return make


@pytest.fixture
def api_client(tenant: Tenant, api_key_factory: Callable[..., str]) -> Client:
    """An API client holding an ingest+read+budget key of `tenant`."""
    raw_key = api_key_factory(tenant, ["ingest", "read", "budget"])
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw_key}")


@pytest.fixture(scope="session")
def live_server_url(session_tenants: dict[str, Tenant], django_db_blocker: Any) -> Iterator[str]:
    """Vigil served over real HTTP on 127.0.0.1 (threaded WSGI), for the session."""
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
    from django.core.wsgi import get_wsgi_application

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

    django_db_blocker.unblock()
    server = ThreadedWSGIServer(("127.0.0.1", 0), QuietHandler, allow_reuse_address=True)
    server.set_app(get_wsgi_application())
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        django_db_blocker.restore()


@pytest.fixture
def celery_eager() -> Iterator[None]:
    """Run tasks in-process when sent (for tests of what a task does after a commit)."""
    from core.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = previous
