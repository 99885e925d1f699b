"""REST endpoints of the quality layer: deployments (write: ingest scope) and findings (read)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from metrics.quality.drift import deployment_record
from metrics.quality.selectors import deployments_list, quality_findings_active
from tenants.api_auth import request_api_key, scope_required


class DeploymentsView(APIView):
    """POST records a model/prompt release (starts a 30-day quality watch); GET lists them."""

    def get_permissions(self):
        scope = "ingest" if self.request.method == "POST" else "read"
        return [scope_required(scope)()]

    class DeploymentInputSerializer(serializers.Serializer):
        release = serializers.CharField(max_length=128)
        model = serializers.CharField(max_length=128, required=False, allow_blank=True, default="")
        feature = serializers.CharField(
            max_length=128, required=False, allow_blank=True, default=""
        )
        description = serializers.CharField(
            max_length=2000, required=False, allow_blank=True, default=""
        )
        deployed_at = serializers.DateTimeField(required=False)
        watch_days = serializers.IntegerField(min_value=1, max_value=180, default=30)

    class DeploymentOutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        release = serializers.CharField()
        model = serializers.CharField()
        feature = serializers.CharField()
        description = serializers.CharField()
        deployed_at = serializers.DateTimeField()
        watch_days = serializers.IntegerField()

    @extend_schema(
        request=DeploymentInputSerializer,
        responses={201: DeploymentOutputSerializer},
        summary="Record a model or prompt release",
    )
    def post(self, request: Request) -> Response:
        api_key = request_api_key(request)
        serializer = self.DeploymentInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        dep = deployment_record(tenant_slug=api_key.tenant.schema_name, **serializer.validated_data)
        return Response(self.DeploymentOutputSerializer(dep).data, status=201)

    @extend_schema(responses=DeploymentOutputSerializer(many=True), summary="Recent releases")
    def get(self, request: Request) -> Response:
        return Response(self.DeploymentOutputSerializer(deployments_list(), many=True).data)


class QualityFindingsView(APIView):
    """Active quality findings (drift, judge agreement) of the key's tenant."""

    permission_classes = [scope_required("read")]

    class QualityFindingOutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        kind = serializers.CharField()
        feature = serializers.CharField()
        category = serializers.CharField()
        subject = serializers.CharField()
        delta_points = serializers.FloatField()
        ci_low = serializers.FloatField()
        ci_high = serializers.FloatField()
        started_on = serializers.DateField(allow_null=True)
        detected_at = serializers.DateTimeField()
        method = serializers.CharField()
        release = serializers.CharField()

    @extend_schema(
        responses=QualityFindingOutputSerializer(many=True), summary="Active quality findings"
    )
    def get(self, request: Request) -> Response:
        return Response(
            self.QualityFindingOutputSerializer(quality_findings_active(), many=True).data
        )
