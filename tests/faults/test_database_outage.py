"""PostgreSQL goes away in the middle of a stream of batches (issue 9, fault a — quick variant).

gunicorn serves Vigil through a TCP proxy in front of the real PostgreSQL; the proxy is cut
(every connection reset, new ones refused, as during a restart) while the official client
streams batches, then restored. The client retries with the same event ids, so the stored
count is exact: nothing lost, nothing doubled; and no answer was a 500 (503 + Retry-After
while the database is away). The restart of a real PostgreSQL cluster is in `make faults`
(benchmarks/faults.py).
"""

from __future__ import annotations

import threading
import uuid
from pathlib import Path
from typing import Any

from django.db import connection
from django_tenants.utils import tenant_context

from metrics.models import Event
from tenants.models import Tenant
from tests.faults.conftest import delete_events
from tests.faults.support import TcpProxy, database_url, gunicorn, wait_until
from vigil_client import VigilClient

EVENTS = 3000


def test_batches_survive_a_database_cut_exactly_once(
    committed_key: str, tmp_path: Path, session_tenants: dict[str, Tenant]
) -> None:
    tenant = Tenant.objects.get(schema_name="alpha")
    feature = f"fault-db-{uuid.uuid4().hex[:8]}"
    params = connection.settings_dict
    proxy = TcpProxy(str(params.get("HOST") or "127.0.0.1"), int(params.get("PORT") or 5432))
    access_log = tmp_path / "access.log"
    env = {
        "DATABASE_URL": database_url(port=proxy.port),
        "DEBUG": "0",
        "LOG_LEVEL": "CRITICAL",
        "VIGIL_INGEST_RATE_REQUESTS": "0",
        "VIGIL_INGEST_RATE_EVENTS": "0",
    }
    client: VigilClient | None = None
    try:
        with gunicorn(env, access_log=access_log) as url:
            client = VigilClient(
                api_key=committed_key,
                base_url=url,
                feature=feature,
                batch_size=100,
                flush_interval_s=0.05,
                max_queue=EVENTS,
                max_retries=30,
                backoff_base_s=0.1,
                backoff_max_s=1.0,
                timeout_s=10,
            )
            sent: list[str] = []

            def stream() -> None:
                for n in range(EVENTS):
                    event_id = client.record(model="gpt-4o-mini", input_tokens=n % 97)
                    assert event_id is not None
                    sent.append(event_id)
                    if n % 100 == 99:
                        threading.Event().wait(0.02)  # a steady stream, not one burst

            producer = threading.Thread(target=stream)
            producer.start()
            wait_until(lambda: client.stats["sent"] >= 500, timeout_s=60, what="first batches")
            proxy.cut()  # mid-stream: in-flight transactions and idle connections die
            wait_until(lambda: client.stats["retries"] > 0, timeout_s=30, what="a retry")
            proxy.restore()
            producer.join()
            assert client.flush(timeout_s=120), client.stats
            stats: dict[str, Any] = client.stats
        with tenant_context(tenant):
            stored = Event.objects.filter(feature=feature).count()
            stored_ids = set(
                Event.objects.filter(feature=feature).values_list("event_id", flat=True)
            )
        assert stats["dropped"] == 0 and stats["failed"] == 0, stats
        assert stats["retries"] > 0  # the cut really hit the stream
        assert stored == EVENTS == len(set(sent))
        assert stored_ids == set(sent)
        statuses = [line.split()[0] for line in access_log.read_text().splitlines() if line]
        assert "503" in statuses  # the database outage was answered, and retried
        assert not [s for s in statuses if s.startswith("5") and s != "503"], statuses
    finally:
        if client is not None:
            client.shutdown()
        proxy.close()
        delete_events(tenant, feature)
