"""Typed access to django-tenants' connection (its schema switching methods)."""

from __future__ import annotations

from typing import cast

from django.db import connection
from django_tenants.postgresql_backend.base import DatabaseWrapper


def tenant_connection() -> DatabaseWrapper:
    """The default connection, typed as django-tenants' wrapper (set_tenant, schema_name...)."""
    return cast(DatabaseWrapper, connection)
