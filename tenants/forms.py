from __future__ import annotations

from django import forms

from tenants.models import ApiKeyScope, Role


class TenantCreateForm(forms.Form):
    slug = forms.CharField(max_length=41, help_text="Schema name and host: lowercase, digits, _")
    name = forms.CharField(max_length=200)
    admin_email = forms.EmailField(required=False)


class MemberInviteForm(forms.Form):
    email = forms.EmailField()
    role = forms.ChoiceField(choices=Role.choices)


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class ApiKeyCreateForm(forms.Form):
    name = forms.CharField(max_length=100)
    scopes = forms.MultipleChoiceField(
        choices=ApiKeyScope.choices, widget=forms.CheckboxSelectMultiple
    )


class ApiKeyRotateForm(forms.Form):
    grace_seconds = forms.IntegerField(min_value=0, max_value=7 * 24 * 3600, initial=0)
