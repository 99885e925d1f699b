"""/api/v1/alerts/incidents: list, read, acknowledge, resolve."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from alerts.api.common import AlertsScope, actor_label, object_or_404
from alerts.incidents import selectors
from alerts.incidents.models import Incident
from alerts.incidents.services import incident_acknowledge, incident_resolve
from core.exceptions import ApplicationError

ERRORS = {400: dict, 403: dict, 404: dict}
PAGE = 200


class IncidentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    rule_id = serializers.IntegerField(allow_null=True)
    rule_name = serializers.CharField()
    metric = serializers.CharField()
    split_key = serializers.CharField()
    filters = serializers.DictField(child=serializers.CharField())
    status = serializers.CharField()
    severity = serializers.CharField()
    value = serializers.FloatField(allow_null=True)
    peak_value = serializers.FloatField(allow_null=True)
    threshold = serializers.FloatField(allow_null=True)
    opened_at = serializers.DateTimeField()
    acknowledged_at = serializers.DateTimeField(allow_null=True)
    acknowledged_by = serializers.CharField()
    resolved_at = serializers.DateTimeField(allow_null=True)
    resolution = serializers.CharField()


class IncidentResolveInput(serializers.Serializer):
    note = serializers.CharField(max_length=300, required=False, allow_blank=True)


class IncidentListView(APIView):
    permission_classes = [AlertsScope]

    @extend_schema(
        summary="Incidents, newest first (at most 200)",
        parameters=[OpenApiParameter("status", str, enum=["active", *selectors.STATUSES])],
        responses={200: IncidentOutput(many=True), **ERRORS},
        tags=["alerts"],
    )
    def get(self, request: Request) -> Response:
        status = request.query_params.get("status") or None
        if status is not None and status not in ("active", *selectors.STATUSES):
            raise ApplicationError(
                "Invalid filter.", details={"status": "active, open, acknowledged or resolved"}
            )
        incidents = selectors.incident_list(status=status)[:PAGE]
        return Response(IncidentOutput(incidents, many=True).data)


class IncidentDetailView(APIView):
    permission_classes = [AlertsScope]

    @extend_schema(
        summary="One incident", responses={200: IncidentOutput, **ERRORS}, tags=["alerts"]
    )
    def get(self, request: Request, incident_id: str) -> Response:
        return Response(IncidentOutput(object_or_404(Incident, incident_id)).data)


class IncidentAcknowledgeView(APIView):
    permission_classes = [AlertsScope]

    @extend_schema(
        summary="Acknowledge an open incident (scope alerts)",
        request=None,
        responses={200: IncidentOutput, **ERRORS},
        tags=["alerts"],
    )
    def post(self, request: Request, incident_id: str) -> Response:
        incident = object_or_404(Incident, incident_id)
        incident = incident_acknowledge(incident=incident, by=actor_label(request))
        return Response(IncidentOutput(incident).data)


class IncidentResolveView(APIView):
    permission_classes = [AlertsScope]

    @extend_schema(
        summary="Resolve an incident by hand (scope alerts)",
        request=IncidentResolveInput,
        responses={200: IncidentOutput, **ERRORS},
        tags=["alerts"],
    )
    def post(self, request: Request, incident_id: str) -> Response:
        incident = object_or_404(Incident, incident_id)
        serializer = IncidentResolveInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        incident = incident_resolve(
            incident=incident,
            by=actor_label(request),
            note=serializer.validated_data.get("note", ""),
        )
        return Response(IncidentOutput(incident).data)
