from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from core.request_context import acting_as
from tenants.demo import DEMO_PASSWORD, DEMO_TENANTS, OPS_EMAIL
from tenants.models import Membership, Tenant
from tenants.services import membership_create, tenant_create, user_get_or_create


class Command(BaseCommand):
    help = "Create the demo tenants, users and (where other apps provide it) traffic. Idempotent."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--quiet-logins", action="store_true", help="do not print the logins")
        parser.add_argument(
            "--only-print-logins", action="store_true", help="print logins, seed nothing"
        )
        parser.add_argument("--no-traffic", action="store_true", help="skip the demo traffic")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["only_print_logins"]:
            self._print_logins()
            return
        with acting_as("manage.py seed_demo"):
            self._ensure_ops_user()
            for spec in DEMO_TENANTS:
                tenant = Tenant.objects.filter(schema_name=spec.slug).first()
                if tenant is None:
                    self.stdout.write(
                        f"Creating demo tenant {spec.slug} (schema and migrations)..."
                    )
                    tenant = tenant_create(slug=spec.slug, name=spec.name)
                else:
                    self.stdout.write(f"Demo tenant {spec.slug} exists; keeping it.")
                for email, role in spec.users:
                    user, _ = user_get_or_create(email=email, password=DEMO_PASSWORD)
                    if not Membership.objects.filter(tenant=tenant, user=user).exists():
                        membership_create(tenant=tenant, user=user, role=role)
        if not options["no_traffic"]:
            # Provided by the metrics app (a command, so tenants does not import metrics).
            slugs = [f"--tenant={spec.slug}" for spec in DEMO_TENANTS]
            call_command("seed_demo_traffic", *slugs, stdout=self.stdout)
            # Rate cards and last month's closed statement (billing's own command), so the
            # billing pages and the chargeback export have something to show.
            tenants = ",".join(spec.slug for spec in DEMO_TENANTS)
            call_command("seed_billing_demo", f"--tenants={tenants}", stdout=self.stdout)
        if not options["quiet_logins"]:
            self._print_logins()

    def _ensure_ops_user(self) -> None:
        user_model = get_user_model()
        user, created = user_get_or_create(email=OPS_EMAIL, password=DEMO_PASSWORD)
        if created or not user.is_staff:
            user_model.objects.filter(pk=user.pk).update(is_staff=True)

    def _print_logins(self) -> None:
        port = settings.VIGIL_PUBLIC_PORT
        base = settings.VIGIL_BASE_DOMAIN
        scheme = settings.VIGIL_PUBLIC_SCHEME
        self.stdout.write(self.style.SUCCESS(f"\nDemo logins (password for all: {DEMO_PASSWORD})"))
        self.stdout.write(f"  ops console  {scheme}://{base}:{port}/   {OPS_EMAIL}")
        for spec in DEMO_TENANTS:
            host = f"{spec.slug}.{base}"
            for email, role in spec.users:
                self.stdout.write(
                    f"  {spec.slug:<8} {role:<11} {scheme}://{host}:{port}/   {email}"
                )
