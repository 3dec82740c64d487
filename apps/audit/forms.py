from __future__ import annotations

from django import forms

from apps.audit.models import AuditEvent


class AuditFilterForm(forms.Form):
    """The filters of the audit list and export; every field optional, all in the query string."""

    q = forms.CharField(
        required=False,
        label="Search",
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search", "data-search-box": True}),
    )
    connection = forms.CharField(required=False, label="Connection", max_length=60)
    actor = forms.CharField(required=False, label="Operator", max_length=150)
    action = forms.ChoiceField(required=False, label="Action")
    target = forms.CharField(
        required=False, label="Target", max_length=250, help_text="type:id, e.g. user:42"
    )
    outcome = forms.ChoiceField(
        required=False, label="Outcome", choices=[("", "Any"), *AuditEvent.Outcome.choices]
    )
    since = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, label="Until", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, connections=(), **kwargs):
        super().__init__(*args, **kwargs)
        groups: dict[str, list[tuple[str, str]]] = {}
        for value, label in AuditEvent.Action.choices:
            groups.setdefault(value.split(".", 1)[0], []).append((value, label))
        prefixes = [(f"{prefix}.", f"any {prefix}.*") for prefix in groups]
        self.fields["action"].choices = [("", "Any"), ("Groups", prefixes), *groups.items()]
        # A select of known connections, but any slug is accepted (deleted connections keep their history).
        self.fields["connection"].widget = forms.Select(choices=[("", "Any"), *connections])

    def filters(self) -> dict:
        """The non-empty cleaned filters. Call after is_valid() returned True."""
        return {k: v for k, v in self.cleaned_data.items() if v not in ("", None)}
