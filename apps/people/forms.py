"""People forms: every change to a user, rendered with a fast input renderer (the detail page has dozens)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.forms.renderers import DjangoTemplates
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

from apps.core.forms import ReasonFormMixin
from apps.providers import jsonguard

KEY_MAX = 100
VALUE_MAX = 1000
NAME_MAX = 36


_INPUT_TEMPLATES = frozenset(
    f"django/forms/widgets/{t}.html"
    for t in ("input", "text", "hidden", "email", "number", "password", "url")
)
_CHECKBOXES = "django/forms/widgets/checkbox_select.html"


def _input_html(widget: dict) -> str:
    """Django's ``input.html`` + ``attrs.html``, in Python."""
    esc = conditional_escape
    html = f'<input type="{esc(widget["type"])}" name="{esc(widget["name"])}"'
    if widget["value"] is not None:
        html += f' value="{esc(str(widget["value"]))}"'
    for name, value in widget["attrs"].items():
        if value is True:
            html += f" {esc(name)}"
        elif value is not False:
            html += f' {esc(name)}="{esc(str(value))}"'
    return html + ">"


def _checkboxes_html(widget: dict) -> str:
    """Django's ``multiple_input.html`` with ``checkbox_option.html`` (ungrouped choices), in Python."""
    esc, attrs = conditional_escape, widget["attrs"]
    html = "<div"
    if attrs.get("id"):
        html += f' id="{esc(attrs["id"])}"'
    if attrs.get("class"):
        html += f' class="{esc(attrs["class"])}"'
    html += ">"
    for _group, options, _index in widget["optgroups"]:
        for option in options:
            # The included option templates each end with a newline, hence the "\n"s.
            tag = _input_html(option) + "\n"
            if option["wrap_label"]:
                label_for = f' for="{esc(option["attrs"]["id"])}"' if option["attrs"].get("id") else ""
                tag = f"<label{label_for}>{tag} {esc(option['label'])}</label>"
            html += f"<div>\n    {tag}\n\n</div>"
    return html + "\n</div>"


class FastInputRenderer(DjangoTemplates):
    """Renders ``<input>`` and checkbox-list widgets in Python, byte for byte what Django's widget templates
    produce; every other template goes through the template engine. The live user detail page renders dozens of
    inputs (a reason and a ticket field per form, hidden ids, group checkboxes per workspace), and each one
    through the engine costs ~0.3 ms."""

    def render(self, template_name, context, request=None):
        widget = context.get("widget")
        if template_name in _INPUT_TEMPLATES:
            return mark_safe(_input_html(widget))  # noqa: S308 - every piece is escaped
        if template_name == _CHECKBOXES and not any(group for group, _o, _i in widget["optgroups"]):
            return mark_safe(_checkboxes_html(widget))  # noqa: S308 - every piece is escaped
        return super().render(template_name, context, request=request)


FAST_RENDERER = FastInputRenderer()


class ChangeForm(ReasonFormMixin):
    """A change form (reason + ticket) rendered with the fast input renderer.

    Hidden fields are set by the page, not the operator: an error on one means a stale or tampered page, and the
    panels show only non-field errors at the top of each form, so it is said there."""

    default_renderer = FAST_RENDERER

    def full_clean(self) -> None:
        super().full_clean()
        if not self.is_bound or not self._errors:
            return
        hidden = [
            str(e)
            for name, errors in self._errors.items()
            if name != NON_FIELD_ERRORS and self.fields[name].widget.is_hidden
            for e in errors
        ]
        if hidden:
            self._errors.setdefault(NON_FIELD_ERRORS, self.error_class(error_class="nonfield")).extend(
                [*hidden, "Nothing was changed. Reload the page and try again."]
            )


class RoleForm(ChangeForm):
    role = forms.ChoiceField(choices=[])
    workspace_id = forms.CharField(required=False, max_length=100, widget=forms.HiddenInput)

    def __init__(self, *args, roles=(), per_workspace=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [(r, r) for r in roles]
        self.per_workspace = per_workspace

    def clean_workspace_id(self) -> str:
        workspace_id = self.cleaned_data.get("workspace_id", "")
        if self.per_workspace and not workspace_id:
            raise ValidationError(
                "This form does not say which workspace the role is for (roles here are per workspace)."
            )
        return workspace_id


class StatusForm(ChangeForm):
    status = forms.ChoiceField(choices=[(s, s) for s in ("active", "archived", "disabled")])
    workspace_id = forms.CharField(required=False, max_length=100, widget=forms.HiddenInput)


USER_TYPES = ("default", "mobile", "embed")  # Retool's user_type (retool.md §6)


class ProfileForm(ChangeForm):
    first_name = forms.CharField(max_length=NAME_MAX, strip=True)
    last_name = forms.CharField(max_length=NAME_MAX, strip=True, required=False)
    email = forms.EmailField(required=False, max_length=254)
    user_type = forms.ChoiceField(required=False, choices=[(t, t) for t in USER_TYPES], label="User type")

    def __init__(
        self,
        *args,
        email_editable=True,
        email_locked_reason="",
        last_name_required=False,
        user_types=False,
        **kwargs,
    ):
        """``last_name_required``: the instance refuses an empty last name (Retool: 1 to 36 characters);
        ``user_types``: the instance has a user type that can be changed (Retool)."""
        super().__init__(*args, **kwargs)
        self.email_editable = email_editable
        if last_name_required:
            self.fields["last_name"].required = True
            self.fields["last_name"].error_messages["required"] = (
                "This instance needs a last name (1 to 36 characters); it refuses an empty one."
            )
        if not user_types:
            del self.fields["user_type"]
        # an empty e-mail changes nothing: the field is disabled (so not sent) for whoever may not change it
        if not email_editable:
            self.fields["email"].disabled = True
            self.fields["email"].help_text = (
                email_locked_reason or "Retool e-mail addresses cannot be changed after creation."
            )


class CreateForm(ChangeForm):
    email = forms.EmailField(max_length=254)
    first_name = forms.CharField(max_length=NAME_MAX, strip=True)
    last_name = forms.CharField(max_length=NAME_MAX, strip=True)
    user_type = forms.ChoiceField(required=False, choices=[(t, t) for t in ("default", "mobile", "embed")])
    workspace_id = forms.ChoiceField(required=False, choices=[])
    role = forms.ChoiceField(required=False, choices=[])
    groups = forms.MultipleChoiceField(required=False, choices=[], widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, workspaces=(), roles=(), needs_workspace=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.needs_workspace = needs_workspace
        self.fields["workspace_id"].choices = [(w.id, w.name) for w in workspaces]
        self.fields["workspace_id"].required = needs_workspace
        self.fields["role"].choices = [(r, r) for r in roles if r != "member"]
        self.fields["role"].required = needs_workspace
        if self.fields["role"].choices:
            # the products list roles from most to least privileged: a new user starts with the least
            self.fields["role"].initial = self.fields["role"].choices[-1][0]
        self.fields["groups"].choices = sorted(
            {(g.id, f"{g.name} ({w.name})") for w in workspaces for g in w.groups}, key=lambda c: c[1]
        )
        self.group_workspace = {g.id: w.id for w in workspaces for g in w.groups}

    def clean(self):
        data = super().clean()
        ws = data.get("workspace_id")
        wrong = [g for g in data.get("groups") or () if self.group_workspace.get(g) != ws]
        if wrong:
            self.add_error("groups", "Pick custom groups of the chosen workspace only.")
        return data


class MetadataForm(ChangeForm):
    """Rows come as repeated ``key`` / ``value`` fields; a row with both empty is dropped."""

    workspace_id = forms.CharField(max_length=100, widget=forms.HiddenInput)
    fingerprint = forms.CharField(max_length=64, widget=forms.HiddenInput)

    def rows(self) -> list[tuple[str, str]]:
        if not self.is_bound:
            return []
        keys = self.data.getlist("key")
        values = self.data.getlist("value")
        return [(k.strip(), v) for k, v in zip(keys, values, strict=False) if k.strip() or v]

    def clean(self):
        data = super().clean()
        seen: set[str] = set()
        errors = []
        for key, value in self.rows():
            if not key:
                errors.append("Every value needs a key.")
            elif key in seen:
                errors.append(f"The key “{key}” appears twice.")
            elif len(key) > KEY_MAX:
                errors.append(f"The key “{key[:20]}…” is longer than {KEY_MAX} characters.")
            if len(value) > VALUE_MAX:
                errors.append(f"The value of “{key[:20]}” is longer than {VALUE_MAX} characters.")
            seen.add(key)
        for error in dict.fromkeys(errors):
            self.add_error(None, error)
        data["items"] = self.rows()
        return data


class AttributeForm(ChangeForm):
    name = forms.CharField(max_length=255, widget=forms.HiddenInput)
    value = forms.CharField(required=False, max_length=VALUE_MAX, strip=False)
    delete = forms.BooleanField(required=False)

    def __init__(self, *args, attributes=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.types = {a.name: a.data_type or "string" for a in attributes}

    def clean(self):
        data = super().clean()
        name, value = data.get("name"), data.get("value") or ""
        if name and name not in self.types:
            self.add_error("name", "This attribute is not declared in the Retool org.")
        elif name and not data.get("delete"):
            kind = self.types[name]
            if not value:
                self.add_error("value", "Enter a value, or tick “remove” to delete it.")
            elif kind == "number":
                try:
                    float(value)
                except ValueError:
                    self.add_error("value", "This attribute is a number.")
            elif kind == "json":
                try:
                    jsonguard.loads(value)
                except ValueError:
                    self.add_error("value", "This attribute holds JSON; the value is not valid JSON.")
        return data


class WorkspaceAddForm(ChangeForm):
    workspace_id = forms.ChoiceField(choices=[])
    role = forms.ChoiceField(choices=[])
    groups = forms.MultipleChoiceField(required=False, choices=[], widget=forms.CheckboxSelectMultiple)
    fingerprint = forms.CharField(max_length=64, widget=forms.HiddenInput)

    def __init__(self, *args, workspaces=(), roles=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["workspace_id"].choices = [(w.id, w.name) for w in workspaces]
        self.fields["role"].choices = [(r, r) for r in roles]
        if roles:
            self.fields["role"].initial = roles[-1]  # the least privileged role
        self.fields["groups"].choices = [(g.id, f"{g.name} ({w.name})") for w in workspaces for g in w.groups]
        self.group_workspace = {g.id: w.id for w in workspaces for g in w.groups}

    def clean(self):
        data = super().clean()
        ws = data.get("workspace_id")
        if any(self.group_workspace.get(g) != ws for g in data.get("groups") or ()):
            self.add_error("groups", "Pick custom groups of the chosen workspace only.")
        return data


class WorkspaceRemoveForm(ChangeForm):
    workspace_id = forms.CharField(max_length=100, widget=forms.HiddenInput)
    fingerprint = forms.CharField(max_length=64, widget=forms.HiddenInput)


class WorkspaceGroupsForm(ChangeForm):
    workspace_id = forms.CharField(max_length=100, widget=forms.HiddenInput)
    groups = forms.MultipleChoiceField(required=False, choices=[], widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, groups=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["groups"].choices = [(g.id, g.name) for g in groups]


class AccessRevokeForm(ReasonFormMixin):
    """Revoke one of the person's own grants (``kind:id``), among those their apps panel shows."""

    object = forms.ChoiceField()

    def __init__(self, *args, grants=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["object"].choices = [(g, g) for g in grants]

    def target(self) -> tuple[str, str]:
        kind, _, object_id = self.cleaned_data["object"].partition(":")
        return kind, object_id
