from __future__ import annotations

from django import forms


class IngestSettingsForm(forms.Form):
    store_content = forms.BooleanField(required=False)
    content_retention_days = forms.IntegerField(min_value=1, max_value=3650)
    sample_rate_percent = forms.DecimalField(min_value=0, max_value=100, decimal_places=3)
