"""OTLP/HTTP trace export endpoints, and the few Langfuse endpoints its SDK calls.

The tenant and the API key were resolved by TenantResolutionMiddleware (Bearer,
X-Vigil-Key, or HTTP Basic whose password is the Vigil key). Answers follow the
OTLP/HTTP spec: 200 with an ExportTraceServiceResponse (partial_success naming
rejected spans) in the request's encoding; 400 with a google.rpc.Status for a
body that cannot be decoded; 413/415 for size and media type; 503 with
Retry-After when the database is unavailable, so exporters retry.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from google.protobuf import json_format
from google.rpc.status_pb2 import Status
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from core.exceptions import ApplicationError
from metrics.ingest.ratelimit import ingest_rate_check
from metrics.otel.decode import (
    JSON,
    MAX_BODY_BYTES,
    PROTOBUF,
    OtlpDecodeError,
    decode_traces,
    media_type,
)
from metrics.otel.scores import client_scores_create
from metrics.otel.services import otel_spans_ingest
from tenants.models import ApiKey, Tenant

logger = logging.getLogger(__name__)

GRPC_CODES = {400: 3, 401: 16, 403: 7, 405: 12, 413: 8, 415: 3, 429: 8, 503: 14}  # google.rpc.Code
VIGIL_VERSION = "vigil-0.1"


def _status_response(
    request: HttpRequest, message: str, status: int, *, retry_after_s: int = 5
) -> HttpResponse:
    """An OTLP error: google.rpc.Status as protobuf or JSON (plus Vigil's `error` key)."""
    code = GRPC_CODES.get(status, 2)
    if media_type(request.content_type or "") == PROTOBUF:
        body = Status(code=code, message=message).SerializeToString()
        response = HttpResponse(body, status=status, content_type=PROTOBUF)
    else:
        payload = {"code": code, "message": message, "error": message}
        response = JsonResponse(payload, status=status)
    if status in {429, 503}:
        response["Retry-After"] = str(retry_after_s)
    return response


def _rate_limited(
    request: HttpRequest, tenant: Tenant, kind: str, amount: int
) -> HttpResponse | None:
    decision = ingest_rate_check(tenant_slug=tenant.schema_name, kind=kind, amount=amount)
    if decision.allowed:
        return None
    return _status_response(request, decision.message, 429, retry_after_s=decision.retry_after_s)


def _success_response(request: HttpRequest, rejected: int, error_message: str) -> HttpResponse:
    answer = ExportTraceServiceResponse()
    if rejected:
        answer.partial_success.rejected_spans = rejected
        answer.partial_success.error_message = error_message
    if media_type(request.content_type or "") == PROTOBUF:
        return HttpResponse(answer.SerializeToString(), content_type=PROTOBUF)
    return HttpResponse(json_format.MessageToJson(answer, indent=None), content_type=JSON)


def _refusal(request: HttpRequest) -> HttpResponse | None:
    if request.method != "POST":
        response = _status_response(request, "Use POST to export traces.", 405)
        response["Allow"] = "POST"
        return response
    api_key = getattr(request, "api_key", None)
    if not isinstance(api_key, ApiKey):
        return _status_response(request, "Missing API key.", 401)
    if "ingest" not in api_key.scopes:
        return _status_response(request, "This API key lacks the 'ingest' scope.", 403)
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return _status_response(request, f"Body exceeds {MAX_BODY_BYTES} bytes.", 413)
    return None


def _export(request: HttpRequest, *, source: str) -> HttpResponse:
    refusal = _refusal(request)
    if refusal is not None:
        return refusal
    tenant: Tenant = request.tenant  # type: ignore[attr-defined]
    limited = _rate_limited(request, tenant, "requests", 1)
    if limited is not None:
        return limited
    body = request.read(MAX_BODY_BYTES + 1)
    try:
        decoded = decode_traces(
            body,
            content_type=request.content_type or "",
            content_encoding=request.headers.get("Content-Encoding", ""),
        )
    except OtlpDecodeError as exc:
        return _status_response(request, exc.message, exc.status)
    # Every span counts against the tenant's event rate (context spans cost storage too).
    limited = _rate_limited(request, tenant, "events", len(decoded.spans))
    if limited is not None:
        return limited
    try:
        result = otel_spans_ingest(tenant=tenant, decoded=decoded, source=source)
    except ApplicationError as exc:
        return _status_response(request, exc.message, exc.status_code)
    except DatabaseError:
        logger.exception("otel export for tenant %s could not be stored", tenant.schema_name)
        return _status_response(request, "Storage is unavailable; retry later.", 503)
    return _success_response(request, result.rejected_spans, result.error_message())


@csrf_exempt
def otlp_traces(request: HttpRequest) -> HttpResponse:
    """POST /api/otel/v1/traces (and /api/v1/traces): any OpenTelemetry OTLP/HTTP exporter."""
    return _export(request, source="otel")


def _basic_username(request: HttpRequest) -> str | None:
    scheme, _, credentials = str(request.META.get("HTTP_AUTHORIZATION", "")).partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    return decoded.partition(":")[0]


def _langfuse_key_mismatch(request: HttpRequest) -> HttpResponse | None:
    """LANGFUSE_PUBLIC_KEY must be the Vigil key's visible prefix (LANGFUSE_SECRET_KEY the key)."""
    api_key = getattr(request, "api_key", None)
    public_key = _basic_username(request)
    if not isinstance(api_key, ApiKey) or public_key is None or public_key == api_key.prefix:
        return None
    message = (
        "LANGFUSE_PUBLIC_KEY does not match LANGFUSE_SECRET_KEY: set it to the key's prefix "
        f"'{api_key.prefix}'."
    )
    return _langfuse_error(message, 401)


@csrf_exempt
def langfuse_otel_traces(request: HttpRequest) -> HttpResponse:
    """POST /api/public/otel/v1/traces: the Langfuse SDK's span export."""
    return _langfuse_key_mismatch(request) or _export(request, source="langfuse")


MAX_SCORES_BODY = 1024 * 1024  # the Langfuse SDK caps a score batch at 1 MiB too


def _langfuse_error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message, "message": message, "details": {}}, status=status)


@csrf_exempt
def langfuse_scores(request: HttpRequest) -> HttpResponse:
    """POST /api/public/scores: a list of Langfuse scores (202 all kept, 207 with errors)."""
    if request.method != "POST":
        return _langfuse_error("Use POST.", 405)
    refusal = _langfuse_key_mismatch(request)
    if refusal is not None:
        return refusal
    api_key = getattr(request, "api_key", None)
    if not isinstance(api_key, ApiKey) or "ingest" not in api_key.scopes:
        return _langfuse_error("This API key lacks the 'ingest' scope.", 403)
    tenant: Tenant = request.tenant  # type: ignore[attr-defined]
    body = request.read(MAX_SCORES_BODY + 1)
    if len(body) > MAX_SCORES_BODY:
        return _langfuse_error(f"Body exceeds {MAX_SCORES_BODY} bytes.", 413)
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return _langfuse_error("Body is not valid JSON.", 400)
    raw_scores = payload if isinstance(payload, list) else [payload]
    limited = _rate_limited(request, tenant, "events", len(raw_scores))
    if limited is not None:
        return limited
    try:
        result = client_scores_create(tenant=tenant, raw_scores=raw_scores)
    except DatabaseError:
        logger.exception("langfuse scores for tenant %s could not be stored", tenant.schema_name)
        response = _langfuse_error("Storage is unavailable; retry later.", 503)
        response["Retry-After"] = "5"
        return response
    if not result.errors:
        return JsonResponse({"message": "Accepted"}, status=202)
    errors = [{"message": message} for message in result.errors]
    return JsonResponse(
        {"accepted": result.accepted, "rejected": result.rejected, "errors": errors}, status=207
    )


def langfuse_health(request: HttpRequest) -> HttpResponse:
    """GET /api/public/health, shaped like Langfuse's HealthResponse."""
    return _langfuse_key_mismatch(request) or JsonResponse(
        {"status": "OK", "version": VIGIL_VERSION}
    )


def langfuse_projects(request: HttpRequest) -> HttpResponse:
    """GET /api/public/projects: the key's tenant as the one project (SDK auth_check, URLs)."""
    if request.method != "GET":
        return _langfuse_error("Use GET.", 405)
    mismatch = _langfuse_key_mismatch(request)
    if mismatch is not None:
        return mismatch
    tenant: Tenant = request.tenant  # type: ignore[attr-defined]
    project = {
        "id": tenant.schema_name,
        "name": tenant.name,
        "organization": {"id": tenant.schema_name, "name": tenant.name},
        "metadata": {},
    }
    return HttpResponse(json.dumps({"data": [project]}), content_type=JSON)
