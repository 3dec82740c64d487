"""Forms for groups. Everything the upstream would reject is rejected here first, so nothing is sent
for invalid names, empty resource lists, duplicate apply-to-all entries or unknown apps."""

from __future__ import annotations

import re
from typing import Any

from django import forms

from apps.core.forms import ReasonFormMixin
from apps.providers.retool import vocabulary as retool
from apps.providers.tooljet import vocabulary as tooljet

GROUP_NAME_RE = re.compile(r"^[a-zA-Z0-9_ -]+$")
GRANULAR_ROWS = 3


class GroupSearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=100, strip=True)
    page = forms.IntegerField(required=False, min_value=1)


# -- ToolJet --------------------------------------------------------------------------------------------------


def _split_names(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"[\n,]", text or "") if p.strip()]


class ToolJetGroupForm(ReasonFormMixin):
    """Name, the workspace permission checkboxes, and up to ``GRANULAR_ROWS`` granular entries to add or update
    (ToolJet merges them into the group's existing entries; it has no way to remove one through the API)."""

    name = forms.CharField(max_length=tooljet.GROUP_NAME_MAX, strip=True)
    version = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, apps: list[tuple[str, str]] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.apps = apps or []
        for key, label in tooljet.PERMISSIONS:
            self.fields[f"perm_{key}"] = forms.BooleanField(required=False, label=label)
        for i in range(GRANULAR_ROWS):
            self.fields[f"g{i}_type"] = forms.ChoiceField(
                required=False, choices=[("", "—"), *tooljet.GRANULAR_TYPES], label="Type"
            )
            self.fields[f"g{i}_all"] = forms.BooleanField(required=False, label="Apply to all")
            self.fields[f"g{i}_resources"] = forms.CharField(
                required=False,
                label="Resources",
                help_text="Names, one per line or comma-separated (apps: as listed in the workspace).",
                widget=forms.Textarea(attrs={"rows": 2}),
            )
            self.fields[f"g{i}_access"] = forms.ChoiceField(
                required=False,
                label="Access",
                choices=[("view", "View / use"), ("edit", "Edit"), ("configure", "Configure (data sources)")],
                initial="view",
            )
            self.fields[f"g{i}_hide"] = forms.BooleanField(required=False, label="Hide from dashboard")
            self.fields[f"g{i}_envs"] = forms.MultipleChoiceField(
                required=False,
                label="Environments",
                choices=tooljet.APP_ENVIRONMENTS,
                widget=forms.CheckboxSelectMultiple,
            )

    # -- rendering helpers ------------------------------------------------------------------------------
    def permission_fields(self):
        return [self[f"perm_{key}"] for key, _ in tooljet.PERMISSIONS]

    def granular_rows(self):
        return [
            {
                "index": i,
                "type": self[f"g{i}_type"],
                "all": self[f"g{i}_all"],
                "resources": self[f"g{i}_resources"],
                "access": self[f"g{i}_access"],
                "hide": self[f"g{i}_hide"],
                "envs": self[f"g{i}_envs"],
            }
            for i in range(GRANULAR_ROWS)
        ]

    # -- validation ------------------------------------------------------------------------------------
    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if len(name) > tooljet.GROUP_NAME_MAX:
            raise forms.ValidationError(
                f"At most {tooljet.GROUP_NAME_MAX} characters (this has {len(name)})."
            )
        if not GROUP_NAME_RE.match(name):
            bad = "".join(dict.fromkeys(ch for ch in name if not GROUP_NAME_RE.match(ch)))
            raise forms.ValidationError(
                f"ToolJet allows only ASCII letters (A–Z, a–z), digits, spaces, hyphens and underscores in a group "
                f"name, so “{bad}” cannot be used (accented letters included)."
            )
        return name

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        app_ids = {name.lower(): app_id for app_id, name in self.apps}
        entries: list[dict[str, Any]] = []
        seen_all: set[str] = set()
        for i in range(GRANULAR_ROWS):
            kind = data.get(f"g{i}_type") or ""
            if not kind:
                continue
            apply_all = bool(data.get(f"g{i}_all"))
            names = _split_names(data.get(f"g{i}_resources", ""))
            access = data.get(f"g{i}_access") or "view"
            if apply_all and names:
                self.add_error(f"g{i}_resources", "Leave the resources empty when the entry applies to all.")
                continue
            if not apply_all and not names:
                self.add_error(f"g{i}_resources", "Name at least one resource, or tick “Apply to all”.")
                continue
            if apply_all:
                if kind in seen_all:
                    self.add_error(f"g{i}_all", "Only one “apply to all” entry per type is allowed.")
                    continue
                seen_all.add(kind)
            resources = names
            if kind == "app" and names:
                unknown = [n for n in names if n.lower() not in app_ids]
                if unknown:
                    self.add_error(f"g{i}_resources", f"No app named {', '.join(unknown)} in this workspace.")
                    continue
                resources = [app_ids[n.lower()] for n in names]
            if kind == "data_source":
                if access == "edit":
                    self.add_error(f"g{i}_access", "Data sources are either used or configured.")
                    continue
                perms: dict[str, Any] = {
                    "canUse": access != "configure",
                    "canConfigure": access == "configure",
                }
            else:
                if access == "configure":
                    self.add_error(f"g{i}_access", "“Configure” is for data sources; choose view or edit.")
                    continue
                perms = {"canEdit": access == "edit"}
                if kind == "app":
                    if data.get(f"g{i}_hide"):
                        if access == "edit":
                            self.add_error(f"g{i}_hide", "Only apps people cannot edit can be hidden.")
                            continue
                        perms["hideFromDashboard"] = True
                    perms["environments"] = list(data.get(f"g{i}_envs") or [])
            entries.append(
                {
                    "type": kind,
                    "applyToAll": apply_all,
                    "resources": [] if apply_all else resources,
                    "permissions": perms,
                }
            )
        data["granular_permissions"] = entries
        data["permissions"] = {key: bool(data.get(f"perm_{key}")) for key, _ in tooljet.PERMISSIONS}
        return data


# -- Retool ---------------------------------------------------------------------------------------------------


class RetoolGroupForm(ReasonFormMixin):
    name = forms.CharField(max_length=200, strip=True)
    version = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        for key, label, levels in retool.ACCESS_LEVELS:
            self.fields[key] = forms.ChoiceField(
                choices=[(v, v) for v in levels], label=label, initial="none"
            )
        for key, label in retool.FLAGS:
            self.fields[key] = forms.BooleanField(required=False, label=label)

    def access_fields(self):
        return [self[key] for key, _, _ in retool.ACCESS_LEVELS]

    def flag_fields(self):
        return [self[key] for key, _ in retool.FLAGS]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        perms: dict[str, Any] = {key: data.get(key) or "none" for key, _, _ in retool.ACCESS_LEVELS}
        perms.update({key: bool(data.get(key)) for key, _ in retool.FLAGS})
        data["permissions"] = perms
        data["granular_permissions"] = []
        return data


def group_form_initial(group, version: str) -> dict[str, Any]:
    initial: dict[str, Any] = {"name": group.name, "version": version}
    for key, value in group.permissions.items():
        initial[key] = value
        initial[f"perm_{key}"] = value
    return initial


# -- members, delete, drift -------------------------------------------------------------------------------------


class MemberAddForm(ReasonFormMixin):
    user_id = forms.CharField(max_length=200, strip=True, error_messages={"required": "Pick a person first."})
    is_group_admin = forms.BooleanField(required=False, label="Group admin")


class MemberChangeForm(ReasonFormMixin):
    user_id = forms.CharField(max_length=200, strip=True)
    expected_groups = forms.CharField(required=False)
    is_group_admin = forms.BooleanField(required=False)

    def expected(self) -> list[str] | None:
        if "expected_groups" not in self.data:
            return None
        return [g for g in (self.cleaned_data.get("expected_groups") or "").split(",") if g]


class GroupDeleteForm(ReasonFormMixin):
    pass


class DriftForm(forms.Form):
    left = forms.SlugField()
    left_ws = forms.CharField(required=False)
    right = forms.SlugField()
    right_ws = forms.CharField(required=False)


# -- access (what a group can use) ------------------------------------------------------------------------------


class AccessChangeForm(ReasonFormMixin):
    """Grant (with a level) or revoke on one folder or app of the group's access panel. ``objects`` are the
    panel's (``kind:id``, label) choices: nothing outside them is sent."""

    object = forms.ChoiceField(label="Folder or app")
    level = forms.ChoiceField(
        required=False, choices=[("use", "Use"), ("edit", "Edit"), ("own", "Own")], initial="use"
    )

    def __init__(self, *args: Any, objects: list[tuple[str, str]] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["object"].choices = objects or []

    def target(self) -> tuple[str, str]:
        kind, _, object_id = self.cleaned_data["object"].partition(":")
        return kind, object_id

    def target_name(self) -> str:
        value = self.cleaned_data["object"]
        label = dict(self.fields["object"].choices).get(value, "")
        return label.lstrip("— ").rstrip("/")
