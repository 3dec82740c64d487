"""Forms of the Invites page: a new invite, and revoking or renewing one (reason + ticket each)."""

from __future__ import annotations

from django import forms

from apps.people.forms import KEY_MAX, VALUE_MAX, ChangeForm

ATTRIBUTE_PREFIX = "attr_"


class InviteForm(ChangeForm):
    """E-mail, groups picked by name, metadata rows (repeated ``meta_key`` / ``meta_value``) and one optional field
    per declared user attribute (``attr_<name>``; empty: not set)."""

    email = forms.EmailField(max_length=254)
    groups = forms.MultipleChoiceField(required=False, choices=[], widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, groups=(), attributes=(), admin_groups_allowed=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["groups"].choices = [(g, g) for g in groups]
        self.admin_groups_allowed = admin_groups_allowed
        self.attributes = list(attributes)
        for attribute in self.attributes:
            self.fields[ATTRIBUTE_PREFIX + attribute.name] = forms.CharField(
                required=False,
                max_length=VALUE_MAX,
                strip=True,
                label=attribute.label or attribute.name,
            )

    @property
    def attribute_fields(self):
        return [self[ATTRIBUTE_PREFIX + a.name] for a in self.attributes]

    def metadata_rows(self) -> list[tuple[str, str]]:
        if not self.is_bound:
            return []
        keys, values = self.data.getlist("meta_key"), self.data.getlist("meta_value")
        return [(k.strip(), v.strip()) for k, v in zip(keys, values, strict=False) if k.strip() or v.strip()]

    def clean(self):
        data = super().clean()
        metadata: dict[str, str] = {}
        attribute_names = {a.name for a in self.attributes}
        for key, value in self.metadata_rows():
            if not key:
                self.add_error(None, "Every metadata value needs a key.")
            elif len(key) > KEY_MAX or len(value) > VALUE_MAX:
                self.add_error(None, f"Metadata keys are at most {KEY_MAX} characters, values {VALUE_MAX}.")
            elif key in metadata:
                self.add_error(None, f"The metadata key “{key}” appears twice.")
            elif key in attribute_names:
                self.add_error(None, f"“{key}” is a user attribute: set it in the attributes fields.")
            else:
                metadata[key] = value
        data["metadata"] = metadata
        data["attributes"] = {
            a.name: data[ATTRIBUTE_PREFIX + a.name]
            for a in self.attributes
            if data.get(ATTRIBUTE_PREFIX + a.name)
        }
        return data


class InviteChangeForm(ChangeForm):
    """Revoke or invite again: which invite comes from the URL; the form carries the reason and ticket."""
