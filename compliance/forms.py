"""Input parsing of the compliance pages (validation of meaning stays in services)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from django import forms

from compliance.models import ReviewState


def day_start(value: date | None) -> datetime | None:
    return datetime.combine(value, time.min, tzinfo=UTC) if value else None


def day_after(value: date | None) -> datetime | None:
    """The end of an inclusive day range: midnight after `value`."""
    return datetime.combine(value + timedelta(days=1), time.min, tzinfo=UTC) if value else None


class PeriodForm(forms.Form):
    start = forms.DateField(required=False, input_formats=["%Y-%m-%d"])
    end = forms.DateField(required=False, input_formats=["%Y-%m-%d"])

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("start"), cleaned.get("end")
        if isinstance(start, date) and isinstance(end, date) and end < start:
            self.add_error("end", "The end is before the start.")
        return cleaned


class AuditFilterForm(PeriodForm):
    actor = forms.CharField(required=False, max_length=254)
    action = forms.CharField(required=False, max_length=64)
    object_type = forms.CharField(required=False, max_length=64)
    object_id = forms.CharField(required=False, max_length=64)


class ViolationFilterForm(PeriodForm):
    policy = forms.CharField(required=False, max_length=128)
    severity = forms.CharField(required=False, max_length=16)
    feature = forms.CharField(required=False, max_length=128)
    review_state = forms.ChoiceField(
        required=False,
        choices=[("", "any"), ("unreviewed", "unreviewed"), *ReviewState.choices],
    )


class ReviewForm(forms.Form):
    state = forms.ChoiceField(choices=ReviewState.choices)
    note = forms.CharField(max_length=2000, required=False)


class ExportRequestForm(PeriodForm):
    start = forms.DateField(input_formats=["%Y-%m-%d"])
    end = forms.DateField(input_formats=["%Y-%m-%d"])
    include_audit = forms.BooleanField(required=False)
    include_violations = forms.BooleanField(required=False)
    include_checkpoints = forms.BooleanField(required=False)


class SettingsForm(forms.Form):
    record_refusals = forms.BooleanField(required=False)
    events_retention_days = forms.IntegerField()
    content_retention_days = forms.IntegerField()
    records_retention_days = forms.IntegerField()
    legal_hold = forms.BooleanField(required=False)
    legal_hold_reason = forms.CharField(required=False, max_length=500)


def form_field_errors(form: forms.Form) -> dict[str, str]:
    return {
        ("form" if field == "__all__" else field): " ".join(str(e) for e in errs)
        for field, errs in form.errors.items()
    }
