"""Place every model in exactly one kind of schema.

django-tenants decides by app: SHARED_APPS migrate into `public`, TENANT_APPS
into each tenant schema, and an app in both gets every table twice. Some
Vigil apps own data of both kinds (compliance keeps the hash-chained audit log
in `public` next to per-tenant violation records), so for the apps listed in
VIGIL_DUAL_APPS the model decides: models named in VIGIL_PUBLIC_MODELS live in
`public`, all the others in tenant schemas. See docs/decisions/0001.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import connections
from django_tenants.routers import TenantSyncRouter
from django_tenants.utils import get_public_schema_name


class VigilSchemaRouter(TenantSyncRouter):
    def allow_migrate(
        self, db: str, app_label: str, model_name: str | None = None, **hints: Any
    ) -> bool | None:
        verdict = super().allow_migrate(db, app_label, model_name, **hints)
        if verdict is False or app_label not in settings.VIGIL_DUAL_APPS:
            return verdict
        # RunSQL/RunPython operations pass the model they touch as a hint.
        model_name = model_name or hints.get("model_name")
        if model_name is None:
            return verdict
        public = get_public_schema_name()
        in_public = getattr(connections[db], "schema_name", public) == public
        is_public_model = f"{app_label}.{model_name.lower()}" in settings.VIGIL_PUBLIC_MODELS
        return verdict if in_public == is_public_model else False
