from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client

from compliance.models import AuditEntry
from tenants.models import Domain, Membership, Tenant

pytestmark = pytest.mark.django_db


def schema_exists(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM information_schema.schemata WHERE schema_name = %s", [name])
        return cursor.fetchone() is not None


def test_create_tenant_creates_schema_domain_and_admin(tenant):
    out = StringIO()
    call_command(
        "create_tenant",
        "gamma",
        "--name",
        "Gamma Ltd",
        "--admin-email",
        "boss@gamma.test",
        "--admin-password",
        "a-strong-password-42",
        stdout=out,
    )
    created = Tenant.objects.get(schema_name="gamma")
    assert created.name == "Gamma Ltd" and created.status == "active"
    assert Domain.objects.get(tenant=created).domain == "gamma.localhost"
    assert schema_exists("gamma")
    assert Membership.objects.get(tenant=created, user__email="boss@gamma.test").role == "admin"
    assert AuditEntry.objects.filter(chain="gamma", action="tenant.created").exists()
    assert "gamma.localhost" in out.getvalue()
    client = Client(HTTP_HOST="gamma.localhost")
    assert client.login(username="boss@gamma.test", password="a-strong-password-42")
    assert client.get("/").status_code == 200


def test_create_tenant_reports_bad_input(tenant):
    with pytest.raises(CommandError, match="already taken"):
        call_command("create_tenant", "alpha", "--name", "Again")
    with pytest.raises(CommandError, match="Password too weak"):
        call_command(
            "create_tenant",
            "delta",
            "--name",
            "D",
            "--admin-email",
            "a@d.test",
            "--admin-password",
            "123",
        )


def test_create_api_key_prints_the_key_alone_on_the_last_line(tenant):
    out = StringIO()
    call_command("create_api_key", "alpha", "--scopes", "ingest,read", "--name", "ci", stdout=out)
    raw_key = out.getvalue().strip().splitlines()[-1]
    assert raw_key.startswith("vk_") and " " not in raw_key
    response = Client().get("/api/v1/tenant", HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    assert response.status_code == 200
    assert response.json()["scopes"] == ["ingest", "read"]


def test_create_api_key_errors(tenant):
    with pytest.raises(CommandError, match="No tenant"):
        call_command("create_api_key", "nosuch")
    with pytest.raises(CommandError, match="Invalid scopes"):
        call_command("create_api_key", "alpha", "--scopes", "root")


def test_seed_demo_is_idempotent_and_prints_logins(tenant):
    out = StringIO()
    # Traffic is seeded by metrics' seed_demo_traffic (tested in tests/metrics).
    call_command("seed_demo", "--no-traffic", stdout=out)
    call_command("seed_demo", "--no-traffic", stdout=StringIO())
    assert set(
        Tenant.objects.filter(schema_name__in=["acme", "globex"]).values_list(
            "schema_name", flat=True
        )
    ) == {"acme", "globex"}
    assert Membership.objects.filter(tenant__schema_name="acme").count() == 4
    assert "admin@acme.demo" in out.getvalue() and "ops@vigil.demo" in out.getvalue()
    client = Client(HTTP_HOST="acme.localhost")
    assert client.login(username="admin@acme.demo", password="vigil-demo-2026")
