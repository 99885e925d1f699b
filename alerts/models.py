"""Alert data (tenant schema); each sub-domain keeps its models in its own package."""

from alerts.budgets.models import Budget
from alerts.incidents.models import Incident, IncidentEvent, Notification, Silence
from alerts.rules.models import AlertRule, AlertSettings, Channel, RuleState
from alerts.slo.models import Slo

__all__ = [
    "AlertRule",
    "AlertSettings",
    "Budget",
    "Channel",
    "Incident",
    "IncidentEvent",
    "Notification",
    "RuleState",
    "Silence",
    "Slo",
]
