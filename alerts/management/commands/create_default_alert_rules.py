"""Create the default alert rule set in every active tenant that does not have it yet.

The evaluation task does this lazily for each tenant at its first evaluation;
this command is the data step for existing tenants (and for seed scripts that
want the rules before the first minute passes). Safe to run twice.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django_tenants.utils import tenant_context

from alerts.rules.services import alert_rules_ensure_defaults
from core.db import tenant_connection
from core.request_context import acting_as
from tenants.models import Tenant


class Command(BaseCommand):
    help = "Create the default alert rules in tenants that have none yet."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--tenant", help="only this tenant (schema name)")

    def handle(self, *args: Any, **options: Any) -> None:
        tenants = Tenant.objects.filter(status="active").exclude(schema_name="public")
        if options.get("tenant"):
            tenants = tenants.filter(schema_name=options["tenant"])
        created = 0
        with acting_as("create_default_alert_rules"):
            for tenant in tenants.order_by("schema_name"):
                with tenant_context(tenant):
                    if alert_rules_ensure_defaults():
                        created += 1
                        self.stdout.write(f"{tenant.schema_name}: default rules created")
        tenant_connection().set_schema_to_public()
        self.stdout.write(f"{created} tenant(s) given the default rules")
