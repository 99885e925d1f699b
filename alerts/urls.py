"""Alert pages on a tenant's host (mounted under /alerts/)."""

from django.urls import path

from alerts.views import incidents, rules, settings

urlpatterns = [
    path("", incidents.incident_list, name="alerts-incidents"),
    path("incidents/<str:incident_id>/", incidents.incident_detail, name="alerts-incident"),
    path(
        "incidents/<str:incident_id>/<str:action>",
        incidents.incident_action,
        name="alerts-incident-action",
    ),
    path("rules/", rules.rule_list, name="alerts-rules"),
    path("rules/new/", rules.rule_form, name="alerts-rule-new"),
    path("rules/preview/", rules.rule_preview, name="alerts-rule-preview"),
    path("rules/<str:rule_id>/", rules.rule_form, name="alerts-rule"),
    path("rules/<str:rule_id>/delete", rules.rule_delete, name="alerts-rule-delete"),
    path("channels/", settings.channels, name="alerts-channels"),
    path(
        "channels/<str:channel_id>/<str:action>",
        settings.channel_action,
        name="alerts-channel-action",
    ),
    path("silences/", settings.silences, name="alerts-silences"),
    path("silences/<str:silence_id>/end", settings.silence_stop, name="alerts-silence-end"),
    path("policies/", settings.policies, name="alerts-policies"),
    path("quality/", settings.quality, name="alerts-quality"),
]
