"""POST /webhooks/stripe on the public host: Stripe-signed, no session, no API key.

Only the database is touched here (Stripe is never called back), so Stripe gets
its answer fast; bad signatures, replays older than five minutes and malformed
bodies are refused with 400, repeated event ids are acknowledged with 200.
"""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from billing.stripe.webhooks import MAX_BODY, webhook_event_process, webhook_event_verify
from core.exceptions import ApplicationError
from core.request_context import acting_as


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> JsonResponse:
    length = request.META.get("CONTENT_LENGTH") or "0"
    if not length.isdigit() or int(length) > MAX_BODY:
        return JsonResponse({"error": "Payload too large."}, status=413)
    try:
        event = webhook_event_verify(
            payload=request.body, signature=request.headers.get("Stripe-Signature", "")
        )
    except ApplicationError as exc:
        return JsonResponse({"error": exc.message}, status=exc.status_code)
    with acting_as("stripe webhook", actor_type="system"):
        result = webhook_event_process(event=event)
    return JsonResponse({"received": True, "id": result.event_id, "outcome": result.outcome})
