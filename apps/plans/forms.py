from __future__ import annotations

from django import forms

from apps.core.forms import ReasonFormMixin

ROLE_CHOICES = [
    ("admin", "admin"),
    ("builder", "builder (ToolJet)"),
    ("end-user", "end-user (ToolJet)"),
    ("member", "member (Retool)"),
]


class OffboardForm(forms.Form):
    email = forms.EmailField(max_length=320)
    include_groups = forms.BooleanField(required=False, initial=True, label="Also remove from custom groups")


class RoleForm(forms.Form):
    email = forms.EmailField(max_length=320)
    role = forms.ChoiceField(choices=ROLE_CHOICES)


class SubmitForm(ReasonFormMixin):
    expires_in_hours = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=24 * 90,
        label="Time-boxed: revert after (hours)",
        widget=forms.NumberInput(attrs={"placeholder": "e.g. 8"}),
    )


class TicketForm(forms.Form):
    ticket = forms.CharField(max_length=64, required=False, strip=True)


SELECTION_ACTIONS = [
    ("offboard", "Offboard"),
    ("role", "Change role"),
    ("group_add", "Add to group"),
    ("group_remove", "Remove from group"),
]


class SelectionForm(forms.Form):
    """The search results' multi-select: each ``account`` checkbox carries the index ids of one result row's
    accounts (comma-separated)."""

    action = forms.ChoiceField(choices=SELECTION_ACTIONS)
    role = forms.ChoiceField(choices=[("", "—"), *ROLE_CHOICES], required=False)
    group = forms.CharField(max_length=200, required=False, strip=True)

    def account_ids(self) -> list[int]:
        ids: list[int] = []
        for value in self.data.getlist("account"):
            ids.extend(int(part) for part in value.split(",") if part.strip().isdigit())
        return ids


class CsvUploadForm(forms.Form):
    file = forms.FileField(label="CSV file")


class CopyAccessForm(forms.Form):
    email = forms.EmailField(max_length=320)
    source_email = forms.EmailField(max_length=320, label="Copy access from (e-mail)")
