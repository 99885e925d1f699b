"""Celery wrappers of the compliance services (queue `compliance`)."""

from __future__ import annotations

import logging

from celery import shared_task

from compliance.chain import chain_verify, chains_verify_all, checkpoints_create
from compliance.evidence import evidence_export_build
from compliance.retention import retention_run
from core.exceptions import ApplicationError
from core.request_context import acting_as

logger = logging.getLogger("vigil.compliance")


@shared_task(name="compliance.checkpoint_chains", time_limit=300, soft_time_limit=240)
def checkpoint_chains() -> int:
    """Beat, in `public`: sign the head of every audit chain that moved."""
    try:
        return checkpoints_create()
    except ApplicationError as exc:  # no key yet: say how to fix it, without a traceback
        logger.error("audit checkpoints not signed: %s", "; ".join(map(str, exc.details.values())))
        return 0


@shared_task(name="compliance.verify_chains", time_limit=3600, soft_time_limit=3500)
def verify_chains() -> int:
    """Beat, daily, in `public`: re-hash every link of every chain; return broken chains."""
    return sum(1 for result in chains_verify_all() if result.status != "ok")


@shared_task(name="compliance.build_evidence_export", time_limit=3600, soft_time_limit=3500)
def build_evidence_export(export_id: int) -> str:
    """In the requesting tenant's schema: build one evidence ZIP; return its status."""
    return evidence_export_build(export_id=export_id).status


@shared_task(name="compliance.retention_sweep", time_limit=300, soft_time_limit=280)
def retention_sweep() -> int:
    """Fanned out daily into each tenant schema: expire old events and content."""
    with acting_as("retention sweep"):
        result = retention_run(max_seconds=240.0)
    return result.events_deleted + result.content_cleared


@shared_task(name="compliance.verify_chain", time_limit=3600, soft_time_limit=3500)
def verify_chain(chain: str) -> str:
    """One chain, on request from the audit log page; returns ok or broken."""
    return str(chain_verify(chain=chain).status)
