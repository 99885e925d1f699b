"""POST /api/v1/budget/check: may the application spend now? (API key scope `budget`)."""

from __future__ import annotations

from decimal import Decimal

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from alerts.budgets.check import budget_check
from tenants.api_auth import scope_required


class BudgetCheckInput(serializers.Serializer):
    feature = serializers.CharField(max_length=128, required=False, allow_blank=True)
    estimated_cost_usd = serializers.DecimalField(
        max_digits=14, decimal_places=6, min_value=Decimal("0"), required=False
    )


class BudgetLimitOutput(serializers.Serializer):
    scope = serializers.CharField()
    period = serializers.CharField()
    amount_usd = serializers.DecimalField(max_digits=16, decimal_places=2)
    spent_usd = serializers.DecimalField(max_digits=20, decimal_places=6)
    remaining_usd = serializers.DecimalField(max_digits=20, decimal_places=6)
    hard_cap = serializers.BooleanField()


class BudgetCheckOutput(serializers.Serializer):
    decision = serializers.ChoiceField(choices=["allow", "deny"])
    allowed = serializers.BooleanField()
    remaining_usd = serializers.DecimalField(max_digits=20, decimal_places=6, allow_null=True)
    reason = serializers.CharField()
    limits = BudgetLimitOutput(many=True)


class BudgetCheckView(APIView):
    permission_classes = [scope_required("budget")]

    @extend_schema(
        summary="Budget check before a call: allow or deny, with what remains",
        request=BudgetCheckInput,
        responses={200: BudgetCheckOutput},
        tags=["alerts"],
    )
    def post(self, request: Request) -> Response:
        serializer = BudgetCheckInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        decision = budget_check(
            feature=data.get("feature", "").strip(),
            estimate_usd=data.get("estimated_cost_usd") or Decimal("0"),
        )
        body = {
            "decision": "allow" if decision.allowed else "deny",
            "allowed": decision.allowed,
            "remaining_usd": decision.remaining_usd,
            "reason": decision.reason,
            "limits": [
                {
                    "scope": lim.scope,
                    "period": lim.period,
                    "amount_usd": lim.amount_usd,
                    "spent_usd": lim.spent_usd,
                    "remaining_usd": lim.remaining_usd,
                    "hard_cap": lim.hard_cap,
                }
                for lim in decision.limits
            ],
        }
        return Response(BudgetCheckOutput(body).data)
