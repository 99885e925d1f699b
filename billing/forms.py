"""Page forms of billing: parse and validate input; the services decide the rest."""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

from django import forms

from billing.ratecards.models import PricingMode
from billing.stripe.models import SubscriptionStatus

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def parse_month(raw: str | None) -> date | None:
    """'YYYY-MM' -> the month's first day; None when malformed."""
    match = _MONTH.match((raw or "").strip())
    if not match:
        return None
    year, month = int(match.group(1)), int(match.group(2))
    if not (2000 <= year <= 2999 and 1 <= month <= 12):
        return None
    return date(year, month, 1)


class MonthForm(forms.Form):
    month = forms.CharField(max_length=7)

    def clean_month(self) -> date:
        month = parse_month(self.cleaned_data["month"])
        if month is None:
            raise forms.ValidationError("Use YYYY-MM.")
        return month


class PeriodForm(forms.Form):
    """Any period of whole UTC days, both ends included (at most a year)."""

    start = forms.DateField()
    end = forms.DateField()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        for name, day in (("start", start), ("end", end)):
            if day and not 2000 <= day.year <= 2999:
                self.add_error(name, "A day between 2000 and 2999.")
                return data
        if start and end:
            if end < start:
                self.add_error("end", "The end is before the start.")
            elif (end - start).days > 366:
                self.add_error("end", "At most one year.")
        return data


class RateCardForm(forms.Form):
    effective_from = forms.DateField()
    mode = forms.ChoiceField(choices=PricingMode.choices)
    markup_percent = forms.DecimalField(
        required=False, min_value=0, max_value=10_000, decimal_places=3, max_digits=8
    )
    prices = forms.CharField(required=False, widget=forms.Textarea, max_length=20_000)
    included_usd = forms.DecimalField(required=False, min_value=0, max_digits=14, decimal_places=2)
    minimum_usd = forms.DecimalField(required=False, min_value=0, max_digits=14, decimal_places=2)
    note = forms.CharField(required=False, max_length=500)

    def clean_prices(self) -> Any:
        raw = (self.cleaned_data.get("prices") or "").strip()
        if not raw:
            return {}
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise forms.ValidationError('Prices are JSON, e.g. {"*": "0.002"}.') from exc


class BillingAccountForm(forms.Form):
    stripe_customer_id = forms.CharField(required=False, max_length=64)
    stripe_subscription_id = forms.CharField(required=False, max_length=64)
    status = forms.ChoiceField(choices=SubscriptionStatus.choices)
    metering_enabled = forms.BooleanField(required=False)
