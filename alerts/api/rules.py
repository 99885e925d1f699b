"""/api/v1/alerts/rules: list, create, read, change, delete alert rules."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from alerts.api.common import AlertsScope, object_or_404
from alerts.rules import selectors
from alerts.rules.models import AlertRule, Comparison, Metric, NoData, SplitBy
from alerts.rules.services import alert_rule_create, alert_rule_delete, alert_rule_update

ERRORS = {400: dict, 403: dict, 404: dict}


class RuleOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    metric = serializers.CharField()
    feature = serializers.CharField()
    endpoint = serializers.CharField()
    model = serializers.CharField()
    provider = serializers.CharField()
    customer = serializers.CharField()
    content_category = serializers.CharField()
    split_by = serializers.CharField()
    window_minutes = serializers.IntegerField()
    comparison = serializers.CharField()
    warning_threshold = serializers.FloatField(allow_null=True)
    critical_threshold = serializers.FloatField(allow_null=True)
    for_evaluations = serializers.IntegerField()
    min_samples = serializers.IntegerField()
    no_data = serializers.CharField()
    repeat_minutes = serializers.IntegerField()
    hysteresis_pct = serializers.FloatField()
    enabled = serializers.BooleanField()
    is_default = serializers.BooleanField()
    channels = serializers.SerializerMethodField()
    budget_id = serializers.IntegerField(allow_null=True)
    slo_id = serializers.IntegerField(allow_null=True)

    def get_channels(self, rule: AlertRule) -> list[int]:
        return sorted(c.pk for c in rule.channels.all())


class RuleInput(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=500, required=False, allow_blank=True)
    metric = serializers.ChoiceField(
        choices=[
            m for m in Metric.values if m not in ("budget_used", "monthly_forecast", "slo_burn")
        ]
    )
    feature = serializers.CharField(max_length=128, required=False, allow_blank=True)
    endpoint = serializers.CharField(max_length=256, required=False, allow_blank=True)
    model = serializers.CharField(max_length=128, required=False, allow_blank=True)
    provider = serializers.CharField(max_length=64, required=False, allow_blank=True)
    customer = serializers.CharField(max_length=128, required=False, allow_blank=True)
    content_category = serializers.CharField(max_length=128, required=False, allow_blank=True)
    split_by = serializers.ChoiceField(choices=SplitBy.values, required=False, allow_blank=True)
    window_minutes = serializers.IntegerField(min_value=1, max_value=43_200, required=False)
    comparison = serializers.ChoiceField(choices=Comparison.values, required=False)
    warning_threshold = serializers.FloatField(required=False, allow_null=True)
    critical_threshold = serializers.FloatField(required=False, allow_null=True)
    for_evaluations = serializers.IntegerField(min_value=1, max_value=1440, required=False)
    min_samples = serializers.IntegerField(min_value=0, max_value=10**9, required=False)
    no_data = serializers.ChoiceField(choices=NoData.values, required=False)
    repeat_minutes = serializers.IntegerField(min_value=0, max_value=10_080, required=False)
    hysteresis_pct = serializers.FloatField(min_value=0, max_value=100, required=False)
    enabled = serializers.BooleanField(required=False)
    channels = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**62),
        required=False,
        max_length=50,
    )


class RuleUpdateInput(RuleInput):
    name = serializers.CharField(max_length=200, required=False)
    metric = serializers.ChoiceField(choices=Metric.values, required=False)


def _valid(
    serializer_class: type[serializers.Serializer], data: Any, partial: bool = False
) -> dict[str, Any]:
    serializer = serializer_class(data=data, partial=partial)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class RuleListView(APIView):
    permission_classes = [AlertsScope]

    @extend_schema(
        summary="Alert rules", responses={200: RuleOutput(many=True), **ERRORS}, tags=["alerts"]
    )
    def get(self, request: Request) -> Response:
        return Response(RuleOutput(selectors.rule_list(), many=True).data)

    @extend_schema(
        summary="Create an alert rule (scope alerts)",
        request=RuleInput,
        responses={201: RuleOutput, **ERRORS},
        tags=["alerts"],
    )
    def post(self, request: Request) -> Response:
        data = _valid(RuleInput, request.data)
        channels = data.pop("channels", None)
        rule = alert_rule_create(data=data, channel_ids=channels)
        return Response(RuleOutput(rule).data, status=status.HTTP_201_CREATED)


class RuleDetailView(APIView):
    permission_classes = [AlertsScope]

    @extend_schema(summary="One alert rule", responses={200: RuleOutput, **ERRORS}, tags=["alerts"])
    def get(self, request: Request, rule_id: str) -> Response:
        return Response(RuleOutput(object_or_404(AlertRule, rule_id)).data)

    @extend_schema(
        summary="Change an alert rule (scope alerts)",
        request=RuleUpdateInput,
        responses={200: RuleOutput, **ERRORS},
        tags=["alerts"],
    )
    def patch(self, request: Request, rule_id: str) -> Response:
        rule = object_or_404(AlertRule, rule_id)
        data = _valid(RuleUpdateInput, request.data, partial=True)
        channels = data.pop("channels", None)
        rule = alert_rule_update(rule=rule, data=data, channel_ids=channels)
        return Response(RuleOutput(rule).data)

    @extend_schema(
        summary="Delete an alert rule (scope alerts)",
        responses={204: None, **ERRORS},
        tags=["alerts"],
    )
    def delete(self, request: Request, rule_id: str) -> Response:
        alert_rule_delete(rule=object_or_404(AlertRule, rule_id))
        return Response(status=status.HTTP_204_NO_CONTENT)
