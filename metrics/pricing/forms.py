from __future__ import annotations

from django import forms


class PriceOverrideForm(forms.Form):
    model = forms.CharField(max_length=128)
    input_per_m = forms.DecimalField(max_digits=14, decimal_places=6, min_value=0)
    output_per_m = forms.DecimalField(max_digits=14, decimal_places=6, min_value=0)
    cached_input_per_m = forms.DecimalField(
        max_digits=14, decimal_places=6, min_value=0, required=False
    )
    effective_from = forms.DateField()
    effective_to = forms.DateField(required=False)
    note = forms.CharField(max_length=256, required=False)
