from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from apps.connections.models import Connection
from apps.connections.urlnorm import check_outbound, normalize_base_url
from apps.core.forms import ReasonFormMixin


class ConnectionForm(forms.ModelForm):
    """Add or edit a connection. The token field is write-only: never filled in, blank keeps the stored one."""

    token = forms.CharField(
        required=False,
        max_length=4096,
        strip=True,
        widget=forms.PasswordInput(
            render_value=False, attrs={"autocomplete": "new-password", "spellcheck": "false"}
        ),
        help_text="Stored encrypted and never shown again.",
    )
    base_url = forms.CharField(
        max_length=500,
        label="Instance URL",
        help_text="Paste it as you use it; /api/ext or /api/v2 is removed.",
    )

    class Meta:
        model = Connection
        fields = [
            "name",
            "slug",
            "kind",
            "base_url",
            "environment",
            "timeout",
            "requests_per_minute",
            "verify_tls",
            "notes",
        ]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}
        labels = {"verify_tls": "Verify the TLS certificate", "requests_per_minute": "Requests per minute"}
        help_texts = {"slug": "Short name used in addresses and file names, e.g. tj-prod."}
        error_messages = {
            "slug": {"unique": "Another connection already uses this short name: pick another."},
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["timeout"].min_value = 1
        self.fields["timeout"].max_value = 25
        self.fields["timeout"].widget.attrs.update(min=1, max=25, step="0.5")
        self.fields["notes"].max_length = 4000
        defaults = ", ".join(
            f"{Connection.Kind(kind).label} {rpm}" for kind, rpm in Connection.DEFAULT_RPM.items()
        )
        self.fields[
            "requests_per_minute"
        ].help_text = f"Leave empty for the product's default ({defaults} per minute)."
        self.fields["requests_per_minute"].widget.attrs.update(placeholder="product default")
        if self.instance.pk and self.instance.has_token:
            changed = self.instance.token_changed_at
            self.fields["token"].help_text = (
                f"Set · last changed {changed:%Y-%m-%d %H:%M} UTC. Leave blank to keep it."
                if changed
                else "Set. Leave blank to keep it."
            )

    def clean_base_url(self) -> str:
        return check_outbound(normalize_base_url(self.cleaned_data["base_url"]))

    def clean_timeout(self) -> float:
        value = self.cleaned_data["timeout"]
        if not 1 <= value <= 25:
            raise ValidationError("Choose a timeout between 1 and 25 seconds.")
        return value

    def clean_requests_per_minute(self):
        value = self.cleaned_data.get("requests_per_minute")
        if value is not None and not 1 <= value <= 100_000:
            raise ValidationError("Choose between 1 and 100000 requests per minute, or leave it empty.")
        return value

    def clean_token(self) -> str:
        token = self.cleaned_data.get("token", "")
        if not self.instance.pk and not token:
            raise ValidationError("A new connection needs a token.")
        if any(ch.isspace() for ch in token):
            raise ValidationError("A token cannot contain spaces or line breaks.")
        return token

    def clean(self):
        """An empty rate limit means the product's default (Retool 45/min: its API throttles, retool.md §4). The
        browser always posts the field, empty when untouched, so "empty" and "absent" are treated alike."""
        data = super().clean()
        if (
            data.get("kind")
            and data.get("requests_per_minute") is None
            and "requests_per_minute" not in self.errors
        ):
            data["requests_per_minute"] = Connection.DEFAULT_RPM.get(data["kind"])
        return data


class ConnectionDeleteForm(ReasonFormMixin):
    """Deleting a connection drops its index and the console's way into the instance: say why (audited)."""
