"""The tenant-aware Celery app.

tenant-schemas-celery stamps every task sent from inside a tenant schema with
that schema and switches the worker's connection to it before the task runs,
so a task always runs where it was sent from.
"""

from __future__ import annotations

import os

from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "core.settings")

app = CeleryApp("vigil")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.autodiscover_tasks(["metrics.rollups"])  # metrics.rollups.tasks
app.autodiscover_tasks(["metrics.quality"])  # metrics.quality.tasks
app.autodiscover_tasks(["metrics.otel"])  # metrics.otel.tasks
app.autodiscover_tasks(["metrics.pricing"])  # metrics.pricing.tasks (reprice)
