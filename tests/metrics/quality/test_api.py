"""POST /api/v1/deployments and GET /api/v1/quality/findings: scopes, validation, isolation."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from compliance.models import AuditEntry
from core.db import tenant_connection
from metrics.quality.models import Deployment, QualityFinding


def _client(raw_key: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw_key}")


def _post(client: Client, body) -> tuple[int, dict]:
    raw = body if isinstance(body, str) else json.dumps(body)
    response = client.post("/api/v1/deployments", data=raw, content_type="application/json")
    return response.status_code, response.json()


def test_record_a_deployment(tenant, api_key_factory) -> None:
    client = _client(api_key_factory(tenant, ["ingest"]))
    status, body = _post(
        client,
        {
            "release": "prompt-v12",
            "model": "gpt-4o",
            "feature": "support-bot",
            "deployed_at": "2026-11-20T10:00:00Z",
        },
    )
    assert status == 201, body
    assert body["release"] == "prompt-v12" and body["watch_days"] == 30
    assert body["deployed_at"].startswith("2026-11-20T10:00:00")
    tenant_connection().set_tenant(tenant)
    dep = Deployment.objects.get(release="prompt-v12")
    assert AuditEntry.objects.filter(
        chain="alpha", action="quality.deployment_recorded", object_id=str(dep.pk)
    ).exists()


def test_scopes(tenant, api_key_factory) -> None:
    read_only = _client(api_key_factory(tenant, ["read"]))
    status, body = _post(read_only, {"release": "x"})
    assert status == 403 and "ingest" in body["error"]
    ingest_only = _client(api_key_factory(tenant, ["ingest"]))
    assert ingest_only.get("/api/v1/deployments").status_code == 403
    assert ingest_only.get("/api/v1/quality/findings").status_code == 403
    assert Client().post(
        "/api/v1/deployments", data="{}", content_type="application/json"
    ).status_code in (401, 403)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"release": ""},
        {"release": "r" * 200},
        {"release": "v1", "watch_days": 0},
        {"release": "v1", "watch_days": "many"},
        {"release": "v1", "deployed_at": "yesterday"},
        {"release": "v1", "deployed_at": "2999-01-01T00:00:00Z"},
        {"release": ["v1"]},
        "not json at all",
        "[1, 2, 3]",
        '{"release": "\\u0000"}',
    ],
)
def test_bad_input_answers_400(tenant, api_key_factory, body) -> None:
    status, answer = _post(_client(api_key_factory(tenant, ["ingest"])), body)
    assert status == 400, answer
    assert "error" in answer


def test_tenants_see_only_their_own(tenant, other_tenant, api_key_factory) -> None:
    alpha = _client(api_key_factory(tenant, ["ingest", "read"]))
    beta = _client(api_key_factory(other_tenant, ["ingest", "read"]))
    assert _post(alpha, {"release": "alpha-only-release"})[0] == 201
    tenant_connection().set_tenant(tenant)
    QualityFinding.objects.create(
        kind="drift", feature="chat", content_category="alpha-cat", delta_points=-2.5,
        ci_low=-4, ci_high=-1, detected_at="2026-11-20T00:00:00Z", method="cusum-rolling",
    )  # fmt: skip
    tenant_connection().set_schema_to_public()
    alpha_list = alpha.get("/api/v1/deployments").json()
    assert [d["release"] for d in alpha_list] == ["alpha-only-release"]
    assert beta.get("/api/v1/deployments").json() == []
    findings = alpha.get("/api/v1/quality/findings").json()
    assert [(f["category"], f["delta_points"]) for f in findings] == [("alpha-cat", -2.5)]
    assert beta.get("/api/v1/quality/findings").json() == []
