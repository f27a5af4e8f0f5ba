"""Forms of the workspace: adding a code file (typed or uploaded), editing one, running it."""

import re
from typing import Any

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat

from havenkit.workspaces.models import CodeFile, DataSource

CODE_FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}\.(py|R)$")
NAME_RULES = (
    "A name such as analysis.py or model.R: letters, digits, '_', '-' and '.', "
    "ending in .py (Python) or .R (R), with no folders."
)


def _check_size(code: str) -> str:
    limit = settings.MAX_CODE_FILE_BYTES
    if len(code.encode("utf-8")) > limit:
        raise forms.ValidationError(
            f"The code is larger than {filesizeformat(limit)}, the most a code file may hold."
        )
    if not code.strip():
        raise forms.ValidationError("The code is empty. Type or upload some code to save.")
    return code


class CodeTextField(forms.CharField):
    """Code typed into a textarea: not empty, not over the size limit.

    Browsers send a textarea's lines ending in CRLF; they are stored as LF so that saving
    unchanged code gives the same SHA-256.
    """

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 20, "spellcheck": "false"}))
        super().__init__(strip=False, **kwargs)

    def clean(self, value: str | None) -> str:
        code = super().clean(value).replace("\r\n", "\n")
        return _check_size(code) if code else code


class AddCodeFileForm(forms.Form):
    """A new code file: its name, and its code typed in or uploaded (one of the two)."""

    name = forms.CharField(label="File name", max_length=100, help_text=NAME_RULES)
    code = CodeTextField(label="Code", required=False)
    upload = forms.FileField(
        label="Upload a file",
        required=False,
        help_text="Instead of typing, upload a .py or .R file of UTF-8 text.",
    )

    def __init__(self, *args: Any, project: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.project = project

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if ".." in name or not CODE_FILE_NAME.match(name):
            raise forms.ValidationError(f"{name!r} is not a valid file name. {NAME_RULES}")
        if CodeFile.objects.filter(project=self.project, name=name).exists():
            raise forms.ValidationError(
                f"This workspace already has a code file called {name}. "
                "Open it to save a new version, or choose another name."
            )
        return name

    def clean_upload(self) -> str | None:
        upload = self.cleaned_data.get("upload")
        if upload is None:
            return None
        limit = settings.MAX_CODE_FILE_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                f"{upload.name} is {filesizeformat(upload.size)}; a code file may be at most "
                f"{filesizeformat(limit)}."
            )
        raw = upload.read()
        try:
            code = raw.decode("utf-8")
        except UnicodeDecodeError:
            code = None
        if code is None or "\x00" in code:
            raise forms.ValidationError(
                f"{upload.name} is not a text file (it is not UTF-8 text). "
                "Upload code as plain text, such as a .py or .R file."
            )
        return _check_size(code)

    def clean(self) -> dict:
        data = super().clean()
        typed, uploaded = data.get("code"), data.get("upload")
        if self.errors:
            return data
        if typed and uploaded:
            raise forms.ValidationError("Either type the code or upload a file, not both.")
        if not typed and not uploaded:
            raise forms.ValidationError("The code is empty. Type the code or upload a file.")
        data["content"] = typed or uploaded
        return data


class EditCodeForm(forms.Form):
    """The next version of an existing code file."""

    code = CodeTextField(label="Code")


DATA_SOURCE_HINTS = {
    DataSource.DUMMY: "Generated values with the extract's tables and columns. Its outputs "
    "cannot be released.",
    DataSource.REAL: "The project's extract itself. Its outputs can go in a release request.",
}


class RunJobForm(forms.Form):
    """Which data the job reads at ``/data``: only the sources this person may choose.

    With no extract there is nothing to choose and the job runs without data.
    """

    data_source = forms.ChoiceField(label="Which data should the job read?", required=False)

    def __init__(self, *args: Any, sources: list[DataSource], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["data_source"]
        field.choices = [(source.value, source.label) for source in sources]
        field.required = bool(sources)
        field.error_messages["required"] = "Choose dummy data or the real extract."
        field.error_messages["invalid_choice"] = (
            "You may not run this project's code on %(value)s data: choose dummy data, which "
            "has the same tables and columns."
        )
        # Each choice's value, label and hint, for the template's radio buttons.
        self.options = [
            (source.value, source.label, DATA_SOURCE_HINTS[source]) for source in sources
        ]

    def clean_data_source(self) -> DataSource:
        value = self.cleaned_data["data_source"]
        return DataSource(value) if value else DataSource.REAL
