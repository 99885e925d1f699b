from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from tenants.api_auth import request_api_key, scope_required


class TenantInfoView(APIView):
    """Which tenant this key belongs to, and what it may do."""

    permission_classes = [scope_required("read")]

    class OutputSerializer(serializers.Serializer):
        slug = serializers.CharField()
        name = serializers.CharField()
        status = serializers.CharField()
        key_prefix = serializers.CharField()
        scopes = serializers.ListField(child=serializers.CharField())

    @extend_schema(responses=OutputSerializer, summary="The tenant of the calling API key")
    def get(self, request: Request) -> Response:
        api_key = request_api_key(request)
        tenant = api_key.tenant
        data = {
            "slug": tenant.schema_name,
            "name": tenant.name,
            "status": tenant.status,
            "key_prefix": api_key.prefix,
            "scopes": api_key.scopes,
        }
        return Response(self.OutputSerializer(data).data)
