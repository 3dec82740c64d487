from __future__ import annotations

from django import forms
from django.conf import settings


class ReasonFormMixin(forms.Form):
    """Every change carries a reason (required while ADMINUI_REQUIRE_REASON is on) and an optional ticket id.
    Render the two fields with {% reason_fields form %} (apps/core/templatetags/adminui.py)."""

    reason = forms.CharField(
        max_length=500,
        required=False,
        strip=True,
        widget=forms.TextInput(
            attrs={
                "placeholder": "Why? e.g. “moved to the finance team, per HR request”",
                "autocomplete": "off",
            }
        ),
    )
    ticket = forms.CharField(
        max_length=64,
        required=False,
        strip=True,
        widget=forms.TextInput(attrs={"placeholder": "e.g. HELP-1234", "autocomplete": "off"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if settings.ADMINUI_REQUIRE_REASON:
            # the browser asks for it before a confirm dialog or a request; the server still checks (clean_reason)
            self.fields["reason"].widget.attrs["required"] = True

    def clean_reason(self) -> str:
        reason = self.cleaned_data.get("reason", "")
        if settings.ADMINUI_REQUIRE_REASON and not reason:
            raise forms.ValidationError("Say why you are making this change; it goes into the audit trail.")
        return reason
