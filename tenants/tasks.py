from __future__ import annotations

from celery import shared_task

from core.db import tenant_connection
from tenants.invitations import invitation_send
from tenants.services import tenant_heartbeat_record


@shared_task(name="tenants.record_heartbeat", time_limit=30, soft_time_limit=20)
def record_heartbeat() -> None:
    """Runs in each tenant's schema every minute: proves workers reach that tenant."""
    tenant_heartbeat_record(schema_name=tenant_connection().schema_name)


@shared_task(name="tenants.send_invitation", time_limit=60, soft_time_limit=45, max_retries=5)
def send_invitation(membership_id: int) -> None:
    invitation_send(membership_id=membership_id)
