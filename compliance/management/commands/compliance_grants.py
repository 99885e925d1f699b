"""Print (or apply) the privileges that keep the application's role append-only on evidence.

Triggers already refuse UPDATE/DELETE/TRUNCATE; this adds the second layer the
issue asks for: the role the web and worker processes connect as gets only
SELECT and INSERT on the audit, checkpoint, violation and review tables, so
even disabling a trigger needs another role (the tables' owner). Run it as the
owner after `migrate_schemas` and after creating tenants.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from psycopg import sql

PUBLIC_TABLES = ("compliance_auditentry", "compliance_chaincheckpoint")
TENANT_TABLES = ("compliance_violationrecord", "compliance_violationreview")


def grant_statements(*, role: str, tenant_schemas: list[str]) -> list[sql.Composed]:
    who = sql.Identifier(role)
    statements = []
    for schema, tables in [("public", PUBLIC_TABLES)] + [
        (s, TENANT_TABLES) for s in tenant_schemas
    ]:
        statements.append(
            sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(sql.Identifier(schema), who)
        )
        for table in tables:
            name = sql.Identifier(schema, table)
            statements.append(
                sql.SQL("REVOKE UPDATE, DELETE, TRUNCATE ON {} FROM {}").format(name, who)
            )
            statements.append(sql.SQL("GRANT SELECT, INSERT ON {} TO {}").format(name, who))
            statements.append(
                sql.SQL("GRANT USAGE, SELECT ON SEQUENCE {} TO {}").format(
                    sql.Identifier(schema, f"{table}_id_seq"), who
                )
            )
    return statements


class Command(BaseCommand):
    help = "Print or apply SELECT/INSERT-only privileges of an app role on the evidence tables."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--role", required=True, help="the role the application connects as")
        parser.add_argument("--apply", action="store_true", help="execute instead of printing")

    def handle(self, *args: Any, **options: Any) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [options["role"]])
            if cursor.fetchone() is None:
                raise CommandError(f"Role {options['role']!r} does not exist.")
            cursor.execute(
                "SELECT schema_name FROM tenants_tenant WHERE schema_name <> 'public' "
                "ORDER BY schema_name"
            )
            schemas = [row[0] for row in cursor.fetchall()]
        statements = grant_statements(role=options["role"], tenant_schemas=schemas)
        raw = connection.connection  # psycopg connection, to render identifiers safely
        if not options["apply"]:
            for statement in statements:
                self.stdout.write(statement.as_string(raw) + ";")
            return
        with transaction.atomic(), connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement.as_string(raw))
        self.stdout.write(
            self.style.SUCCESS(
                f"{options['role']}: SELECT/INSERT only on evidence tables of public and "
                f"{len(schemas)} tenant schema(s)."
            )
        )
