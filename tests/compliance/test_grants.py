"""The second layer: the app role cannot rewrite evidence even with the triggers switched off."""

from __future__ import annotations

import uuid

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.utils import DatabaseError

from compliance.services import audit_record

pytestmark = pytest.mark.django_db


def test_app_role_gets_select_insert_only(tenant):
    role = f"vigil_app_{uuid.uuid4().hex[:8]}"
    audit_record(tenant_slug=tenant.schema_name, action="thing.changed", object_type="thing")
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE ROLE "{role}" NOLOGIN')  # rolled back with the test
    call_command("compliance_grants", role=role, apply=True)
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE compliance_auditentry DISABLE TRIGGER USER")
        cursor.execute(f'SET ROLE "{role}"')
        cursor.execute("SELECT count(*) FROM public.compliance_auditentry")
        for statement in (
            "UPDATE public.compliance_auditentry SET action = 'x'",
            "DELETE FROM public.compliance_auditentry",
            "DELETE FROM alpha.compliance_violationrecord",
        ):
            with pytest.raises(DatabaseError) as excinfo, transaction.atomic():
                cursor.execute(statement)
            assert "permission denied" in str(excinfo.value)
        cursor.execute("RESET ROLE")
        cursor.execute("ALTER TABLE compliance_auditentry ENABLE TRIGGER USER")


def test_printed_statements_and_unknown_role(capsys):
    with pytest.raises(CommandError):
        call_command("compliance_grants", role="no_such_role_here")
    call_command("compliance_grants", role="postgres")
    out = capsys.readouterr().out
    assert (
        'REVOKE UPDATE, DELETE, TRUNCATE ON "public"."compliance_auditentry" FROM "postgres";'
        in out
    )
    assert '"alpha"."compliance_violationrecord"' in out
