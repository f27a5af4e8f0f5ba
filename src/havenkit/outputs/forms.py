"""Forms of release requests: choosing outputs, adding one, and a checker's review of a file."""

from typing import Any

from django import forms

from havenkit.outputs import policies
from havenkit.outputs.models import Decision
from havenkit.outputs.services import FileChoice
from havenkit.workspaces.models import JobOutput

DESCRIPTION_HELP = "What the file shows, how it was made, and why it is safe to release."


def _output_value(output: JobOutput) -> str:
    return f"{output.job_id}/{output.name}"


def _output_label(output: JobOutput) -> str:
    return f"{output.name} from job {output.job_id} ({output.size_bytes:,} bytes)"


def _parse_output_value(value: str) -> tuple[int, str]:
    job_id, _, name = value.partition("/")
    return int(job_id), name


class NewReleaseRequestForm(forms.Form):
    """One checkbox and one description per finished output of the project.

    Fields are named by the output's id, not its position, so an output that appears between
    showing the form and posting it cannot shift a tick onto another file.
    """

    def __init__(self, *args: Any, outputs: list[JobOutput], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.outputs = outputs
        for output in outputs:
            self.fields[f"include_{output.pk}"] = forms.BooleanField(
                required=False, label=f"Include {_output_label(output)}"
            )
            self.fields[f"description_{output.pk}"] = forms.CharField(
                required=False,
                max_length=5000,
                widget=forms.Textarea(attrs={"rows": 3}),
                label=f"Description of {output.name} from job {output.job_id}",
                help_text=DESCRIPTION_HELP,
            )

    def rows(self) -> list[tuple[JobOutput, forms.BoundField, forms.BoundField]]:
        """Each output with its checkbox and description field, for the template."""
        return [
            (output, self[f"include_{output.pk}"], self[f"description_{output.pk}"])
            for output in self.outputs
        ]

    def clean(self) -> dict:
        data = super().clean()
        if not any(data.get(f"include_{output.pk}") for output in self.outputs):
            raise forms.ValidationError("Choose at least one output file.")
        return data

    def choices(self) -> list[FileChoice]:
        return [
            FileChoice(
                job_id=output.job_id,
                name=output.name,
                description=self.cleaned_data[f"description_{output.pk}"],
            )
            for output in self.outputs
            if self.cleaned_data[f"include_{output.pk}"]
        ]


class AddFileForm(forms.Form):
    """Add an output to a draft or returned request, or change the file of that name."""

    output = forms.ChoiceField(label="Output file")
    description = forms.CharField(
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=DESCRIPTION_HELP,
    )

    def __init__(self, *args: Any, outputs: list[JobOutput], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["output"].choices = [
            (_output_value(output), _output_label(output)) for output in outputs
        ]

    def choice(self) -> FileChoice:
        job_id, name = _parse_output_value(self.cleaned_data["output"])
        return FileChoice(job_id=job_id, name=name, description=self.cleaned_data["description"])


class ReviewForm(forms.Form):
    """One output checker's decision on one file; refusals must say why."""

    decision = forms.ChoiceField(
        choices=Decision.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose approve, request changes or reject."},
    )
    comment = forms.CharField(
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Comment for the researcher",
        help_text="Needed when you request changes or reject.",
    )

    def clean(self) -> dict:
        data = super().clean()
        if "decision" in data:
            try:
                policies.check_review_comment(data["decision"], data.get("comment", ""))
            except policies.ReleaseRequestError as error:
                self.add_error("comment", str(error))
        return data


class JustificationForm(forms.Form):
    """The researcher's reasons for releasing a file the output-checking rules did not pass."""

    justification = forms.CharField(
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Justification",
        help_text="Why this file is safe to release although the rules did not pass it. "
        "Output checkers read this.",
        error_messages={"required": "Write why this file is safe to release."},
    )


class ReplyForm(forms.Form):
    """A project member's answer to an output checker's comment on a file."""

    text = forms.CharField(
        max_length=policies.REPLY_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Your answer",
        help_text="Output checkers read it beside their comment when you resubmit.",
        error_messages={
            "required": "Write your answer to the output checker's comment.",
            "max_length": (
                f"Keep your answer to {policies.REPLY_MAX_CHARS:,} characters (it has "
                "%(show_value)d); put longer explanations in the file's description."
            ),
        },
    )
