from __future__ import annotations

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat

from apps.core.forms import ReasonFormMixin
from apps.transfers.preflight import APP_NAME_MAX_LENGTH

TJDB_CHOICES = (("1", "Include ToolJet database tables"), ("0", "Leave ToolJet database tables out"))


class ExportOptionsForm(forms.Form):
    """Options of a download link (a GET form); everything optional, defaults = newest version with tables."""

    workspace = forms.CharField(max_length=64, widget=forms.HiddenInput)
    version = forms.ChoiceField(required=False, label="Version")
    all_versions = forms.BooleanField(required=False, label="All versions")
    tjdb = forms.ChoiceField(choices=TJDB_CHOICES, required=False, initial="1", label="ToolJet database")

    def __init__(self, *args, versions: list[str] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["version"].choices = [("", "Newest version")] + [(v, v) for v in reversed(list(versions))]

    def options(self) -> dict:
        data = self.cleaned_data
        return {
            "version_name": data.get("version") or None,
            "all_versions": bool(data.get("all_versions")),
            "export_tjdb": (data.get("tjdb") or "1") != "0",
        }


class ImportUploadForm(ReasonFormMixin):
    workspace = forms.ChoiceField(label="Target workspace")
    file = forms.FileField(
        label="ToolJet export file (.json)",
        widget=forms.ClearableFileInput(attrs={"accept": ".json,application/json"}),
    )

    def __init__(self, *args, workspaces=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["workspace"].choices = [(w.id, w.name) for w in workspaces]

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.ADMINUI_IMPORT_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                f"The file is {filesizeformat(upload.size)}; the limit is {filesizeformat(limit)}."
            )
        return upload


class ImportConfirmForm(ReasonFormMixin):
    app_name = forms.CharField(max_length=APP_NAME_MAX_LENGTH, label="Name in the target workspace")
    backup = forms.BooleanField(
        required=False,
        label="First download a backup of the app with the same name on the target (kept as a download)",
    )


class CopyForm(forms.Form):
    target = forms.ChoiceField(label="Copy to (connection → workspace)")
    version = forms.ChoiceField(required=False, label="Version")
    all_versions = forms.BooleanField(required=False, label="All versions")
    tjdb = forms.ChoiceField(choices=TJDB_CHOICES, initial="1", label="ToolJet database")

    def __init__(self, *args, targets=(), versions: list[str] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = list(targets)
        self.fields["version"].choices = [("", "Newest version")] + [(v, v) for v in reversed(list(versions))]

    def target_parts(self) -> tuple[str, str]:
        slug, _, workspace_id = self.cleaned_data["target"].partition("|")
        return slug, workspace_id


class BundleForm(ReasonFormMixin):
    workspace = forms.CharField(max_length=64, widget=forms.HiddenInput)
    apps = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked = every app of the workspace.",
    )
    all_versions = forms.BooleanField(required=False, label="All versions of each app")
    tjdb = forms.ChoiceField(choices=TJDB_CHOICES, initial="1", label="ToolJet database")

    def __init__(self, *args, apps=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["apps"].choices = [(a.id, a.name) for a in apps]


class CloneForm(ReasonFormMixin):
    new_name = forms.CharField(max_length=255, label="Name of the copy")
    folder_id = forms.ChoiceField(required=False, label="Folder")

    def __init__(self, *args, folders=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["folder_id"].choices = [("", "Same as the original / none")] + [
            (f, f) if isinstance(f, str) else tuple(f) for f in folders if f
        ]


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".json,.zip"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        """Each file cleaned on its own; an error names the file it is about."""
        single = super().clean
        if not isinstance(data, list | tuple):
            return [single(data, initial)] if data else []
        cleaned, errors = [], []
        for upload in data:
            try:
                cleaned.append(single(upload, initial))
            except forms.ValidationError as exc:
                name = getattr(upload, "name", "") or "(no name)"
                errors.extend(f"“{name}”: {message}" for message in exc.messages)
        if errors:
            raise forms.ValidationError(errors)
        return cleaned


class UploadBundleForm(ReasonFormMixin):
    files = MultipleFileField(label="Export files downloaded from Retool (JSON or ZIP)")

    def clean_files(self):
        files = self.cleaned_data["files"]
        if not files:
            raise forms.ValidationError("Choose at least one file.")
        total = sum(f.size for f in files)
        if total > settings.ADMINUI_IMPORT_MAX_BYTES:
            raise forms.ValidationError(
                f"The files add up to {filesizeformat(total)}; the limit is "
                f"{filesizeformat(settings.ADMINUI_IMPORT_MAX_BYTES)}."
            )
        return files
