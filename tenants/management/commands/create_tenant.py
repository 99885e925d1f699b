from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.exceptions import ApplicationError
from core.request_context import acting_as
from tenants.services import tenant_create


class Command(BaseCommand):
    help = "Create a tenant: its schema, its host and (optionally) its first admin."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="schema name and host label, e.g. acme")
        parser.add_argument("--name", required=True, help="display name, e.g. 'Acme Corp'")
        parser.add_argument("--admin-email")
        parser.add_argument("--admin-password")

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"Creating tenant {options['slug']} (schema and migrations)...")
        try:
            with acting_as("manage.py create_tenant"):
                tenant = tenant_create(
                    slug=options["slug"],
                    name=options["name"],
                    admin_email=options["admin_email"],
                    admin_password=options["admin_password"],
                )
        except ApplicationError as exc:
            detail = "; ".join(f"{k}: {v}" for k, v in exc.details.items())
            raise CommandError(f"{exc.message} {detail}".strip()) from exc
        domain = tenant.get_primary_domain()
        self.stdout.write(
            self.style.SUCCESS(
                f"Created tenant {tenant.schema_name} at {domain.domain if domain else '?'}"
            )
        )
