"""Every service that writes calls audit_record: a guard over all `services` modules.

A public function in a services module that (itself or through a helper in the
same module) creates, updates, saves or deletes rows must also reach
`audit_record`. New services are covered automatically; the few writes that
are not a person's state change (derived data, telemetry, delivery
bookkeeping) are listed below, each with its reason. A failure here names the
function that forgot its audit entry.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = ("core", "tenants", "metrics", "alerts", "billing", "compliance")
WRITES = {
    "create",
    "bulk_create",
    "update",
    "delete",
    "save",
    "get_or_create",
    "update_or_create",
    "bulk_update",
    "model_update",
}
NOT_A_STATE_CHANGE = {
    "compliance/services.py:audit_record": "it is the audit log",
    "core/services.py:model_update": "helper; its callers record the entry",
    "tenants/services.py:user_get_or_create": "the membership it serves is audited",
    "tenants/services.py:api_key_mark_used": "usage timestamp on the ingest hot path",
    "metrics/otel/services.py:trace_spans_store": "telemetry data, like events",
    "metrics/otel/services.py:otel_spans_ingest": "telemetry data, like events",
    "metrics/rollups/services.py:dirty_hours_process": "derived rollups",
    "metrics/rollups/services.py:rollups_rebuild_range": "derived rollups",
    "alerts/budgets/services.py:budget_config_invalidate": "cache invalidation",
    "alerts/incidents/services.py:timeline_add": "the incident's own history",
    "alerts/incidents/services.py:notifications_queue": "delivery bookkeeping",
    "alerts/incidents/services.py:incident_open": "evaluator transition, on the timeline",
    "alerts/incidents/services.py:incident_escalate": "evaluator transition, on the timeline",
    "alerts/incidents/services.py:incident_resolve_auto": "evaluator transition, on the timeline",
    "alerts/channels/services.py:notification_deliver": "delivery attempt bookkeeping",
    "alerts/channels/services.py:channel_test": "a test message, recorded as a notification",
}


def _service_modules() -> list[Path]:
    found = []
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            if path.name == "services.py" or "services" in path.relative_to(ROOT).parts[:-1]:
                found.append(path)
    return sorted(found)


def _called_names(function: ast.FunctionDef) -> set[str]:
    names = set()
    for node in ast.walk(function):
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Name):
                names.add(node.func.id)
            elif isinstance(node.func, ast.Attribute):
                names.add(node.func.attr)
    return names


def _unaudited_writers(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    functions = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    calls = {name: _called_names(fn) for name, fn in functions.items()}

    def reaches(name: str, targets: set[str], seen: frozenset[str] = frozenset()) -> bool:
        if name in seen:
            return False
        if calls[name] & targets:
            return True
        return any(
            reaches(callee, targets, seen | {name}) for callee in calls[name] if callee in functions
        )

    return [
        name
        for name in functions
        if not name.startswith("_")
        and reaches(name, WRITES)
        and not reaches(name, {"audit_record"})
    ]


def test_the_guard_sees_the_project_services():
    modules = {str(p.relative_to(ROOT)) for p in _service_modules()}
    assert {"tenants/services.py", "compliance/services.py"} <= modules


def test_every_writing_service_records_an_audit_entry():
    missing = []
    for path in _service_modules():
        relative = str(path.relative_to(ROOT))
        missing += [
            f"{relative}:{name}"
            for name in _unaudited_writers(path)
            if f"{relative}:{name}" not in NOT_A_STATE_CHANGE
        ]
    assert not missing, (
        "These services write without calling compliance.services.audit_record in the same "
        "transaction (add the call, or list the function in NOT_A_STATE_CHANGE with why): "
        + ", ".join(missing)
    )


def test_the_guard_catches_an_unaudited_writer(tmp_path):
    module = tmp_path / "services.py"
    module.write_text(
        "def thing_update(*, thing):\n"
        "    _save(thing)\n"
        "def _save(thing):\n"
        "    thing.save()\n"
        "def thing_delete(*, thing):\n"
        "    thing.delete()\n"
        "    audit_record(tenant_slug='t', action='thing.deleted', object_type='thing')\n"
    )
    assert _unaudited_writers(module) == ["thing_update"]
