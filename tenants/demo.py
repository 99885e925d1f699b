"""The demo tenants and users that `seed_demo` creates (other apps add traffic)."""

from __future__ import annotations

from dataclasses import dataclass

DEMO_PASSWORD = "vigil-demo-2026"  # noqa: S105 - the demo's published login
OPS_EMAIL = "ops@vigil.demo"


@dataclass(frozen=True)
class DemoTenant:
    slug: str
    name: str
    users: tuple[tuple[str, str], ...]  # (email, role)


DEMO_TENANTS = (
    DemoTenant(
        slug="acme",
        name="Acme Support AI",
        users=(
            ("admin@acme.demo", "admin"),
            ("analyst@acme.demo", "analyst"),
            ("compliance@acme.demo", "compliance"),
            ("reviewer@acme.demo", "reviewer"),
        ),
    ),
    DemoTenant(
        slug="globex",
        name="Globex Newsroom",
        users=(("admin@globex.demo", "admin"), ("analyst@globex.demo", "analyst")),
    ),
)
