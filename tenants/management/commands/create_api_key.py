from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.http import Http404

from core.exceptions import ApplicationError
from core.request_context import acting_as
from tenants.selectors import tenant_get_by_slug
from tenants.services import api_key_create


class Command(BaseCommand):
    help = "Create an API key for a tenant. The key is printed alone on the last line."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument(
            "--scopes", default="ingest", help="comma-separated: ingest,read,budget"
        )
        parser.add_argument("--name", default="cli")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            tenant = tenant_get_by_slug(slug=options["slug"])
        except Http404 as exc:
            raise CommandError(f"No tenant '{options['slug']}'.") from exc
        try:
            with acting_as("manage.py create_api_key"):
                created = api_key_create(
                    tenant=tenant, name=options["name"], scopes=options["scopes"].split(",")
                )
        except ApplicationError as exc:
            detail = "; ".join(f"{k}: {v}" for k, v in exc.details.items())
            raise CommandError(f"{exc.message} {detail}".strip()) from exc
        self.stdout.write(
            f"Created key {created.api_key.prefix}… for {tenant.schema_name} "
            f"with scopes {','.join(created.api_key.scopes)}. It is shown only now:"
        )
        self.stdout.write(created.raw_key)
