from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm

from apps.accounts.models import User
from apps.accounts.oidc import local_login_allowed
from apps.accounts.roles import ROLE_ORDER
from apps.core.forms import ReasonFormMixin


class LoginForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "That username and password do not match. Repeated failures lock the account for a while.",
        "local_off": "Password sign-in is switched off here. Use the single sign-on button.",
    }

    def clean(self):
        if not local_login_allowed(self.cleaned_data.get("username")):
            raise forms.ValidationError(self.error_messages["local_off"], code="local_off")
        return super().clean()


class ReasonForm(ReasonFormMixin):
    """Reason and ticket of an operator change (disable, password reset)."""


ROLE_CHOICES = [(r, r.capitalize()) for r in ROLE_ORDER]


class InviteForm(ReasonForm):
    username = forms.RegexField(regex=r"^[\w.@+-]{1,150}$", max_length=150)
    email = forms.EmailField(required=False)
    role = forms.ChoiceField(choices=ROLE_CHOICES, initial="viewer")

    def clean_username(self) -> str:
        username = self.cleaned_data["username"]
        if User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError("An operator with this username exists already.")
        return username


class RoleForm(ReasonForm):
    role = forms.ChoiceField(choices=[("", "No role (no access)"), *ROLE_CHOICES], required=False)


class ScopeForm(ReasonForm):
    limit_environments = forms.BooleanField(required=False, label="Limit to environments")
    environments = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)
    connections = forms.ModelMultipleChoiceField(
        queryset=None, required=False, widget=forms.CheckboxSelectMultiple, label="Or these connections"
    )

    def __init__(self, *args, **kwargs):
        # the operator's scope names connections by relation (accounts sits below the connections app)
        Connection = get_user_model()._meta.get_field("scope_connections").related_model  # noqa: N806

        super().__init__(*args, **kwargs)
        self.fields["environments"].choices = Connection.Environment.choices
        self.fields["connections"].queryset = Connection.objects.order_by("name")


class ReauthForm(forms.Form):
    password = forms.CharField(widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))


class CodeForm(forms.Form):
    code = forms.RegexField(
        regex=r"^\s*\d{3}\s?\d{3}\s*$",
        error_messages={"invalid": "Enter the 6 digits your authenticator app shows."},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )
