"""Directory forms: the search over the index."""

from __future__ import annotations

from django import forms

from apps.connections.models import Connection
from apps.directory.selectors import ROLE_CHOICES, STATUS_CHOICES


def _choices(values, blank="Any"):
    return [("", blank), *((v, v) for v in values)]


class SearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=200, strip=True, label="Name or e-mail")
    connection = forms.ChoiceField(required=False)
    kind = forms.ChoiceField(required=False, choices=[("", "Any"), *Connection.Kind.choices])
    environment = forms.ChoiceField(required=False, choices=[("", "Any"), *Connection.Environment.choices])
    status = forms.ChoiceField(required=False, choices=_choices(STATUS_CHOICES))
    role = forms.ChoiceField(required=False, choices=_choices(ROLE_CHOICES))
    group = forms.CharField(required=False, max_length=200, strip=True)
    page = forms.IntegerField(required=False, min_value=1, max_value=10_000)

    def __init__(self, *args, connections=(), roles=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["connection"].choices = [("", "Any"), *((c.slug, c.name) for c in connections)]
        if roles:  # one connection's users: only the roles its product has
            self.fields["role"].choices = _choices(roles)

    def filters(self) -> dict:
        data = {k: v for k, v in self.cleaned_data.items() if k != "page" and v}
        return data
