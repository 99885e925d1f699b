from __future__ import annotations

from django import forms


class IngestSettingsForm(forms.Form):
    store_content = forms.BooleanField(required=False)
