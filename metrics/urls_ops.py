"""The ops console's metrics pages (public host; included under /ops/ in the "ops" namespace)."""

from django.urls import path

from metrics.views import ops

urlpatterns = [
    path("", ops.ops_overview, name="overview"),
]
