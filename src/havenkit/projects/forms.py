"""Forms for changing a project's members; the membership service checks what they mean."""

from typing import Any

from django import forms

from havenkit.data.models import Dataset
from havenkit.people.forms import DateField, NhsForm
from havenkit.people.models import User
from havenkit.projects.applications import APPROVER_STEPS
from havenkit.projects.models import MembershipChange, ProjectStatus, Vote


class MembershipRequestForm(NhsForm):
    username = forms.CharField(
        label="Username of the person",
        max_length=150,
        error_messages={"required": "Enter the username of the person to add or remove."},
    )
    change = forms.ChoiceField(
        label="Change",
        choices=MembershipChange.choices,
        widget=forms.Select(attrs={"class": "nhsuk-select"}),
    )
    ends_on = DateField(label="Membership end date", required=False)
    reason = forms.CharField(
        label="Why",
        widget=forms.Textarea(attrs={"class": "nhsuk-textarea", "rows": 3}),
        error_messages={"required": "Say why this change is needed."},
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        adding = data.get("change") == MembershipChange.ADD
        if adding and not data.get("ends_on") and "ends_on" not in self.errors:
            self.add_error("ends_on", "Enter the date the membership ends.")
        return data


class ApproverListForm(forms.Form):
    """The state an approver narrows the Applications list to; empty for every state."""

    state = forms.ChoiceField(
        label="State",
        required=False,
        choices=[
            ("", "Every state with a step for an approver"),
            *((state, ProjectStatus(state).label) for state in APPROVER_STEPS),
        ],
        widget=forms.Select(attrs={"class": "nhsuk-select"}),
    )


class FastTrackDecisionForm(NhsForm):
    """One approver's fast-track decision, carried by the button pressed: Approve or Reject, the
    words of the application's own states, with a note the applicant sees."""

    note = forms.CharField(
        label="Note to the PI",
        required=False,
        widget=forms.Textarea(attrs={"class": "nhsuk-textarea", "rows": 2}),
        help_text="Needed when you reject.",
    )
    decision = forms.ChoiceField(
        label="Decision",
        choices=[("approve", "Approve"), ("reject", "Reject")],
        widget=forms.HiddenInput,
        error_messages={
            "required": "Press Approve or Reject.",
            "invalid_choice": "Press Approve or Reject.",
        },
    )


class DecisionForm(NhsForm):
    """A note, and the decision on a membership request carried by the button pressed (Approve
    or Refuse, the words of the request's own states)."""

    note = forms.CharField(
        label="Note to the PI",
        required=False,
        widget=forms.Textarea(attrs={"class": "nhsuk-textarea", "rows": 2}),
        help_text="Needed when you refuse.",
    )
    decision = forms.ChoiceField(
        label="Decision",
        choices=[("approve", "Approve"), ("refuse", "Refuse")],
        widget=forms.HiddenInput,
        error_messages={"required": "Press Approve or Refuse."},
    )


def _text(label: str, missing: str, *, long: bool = True, required: bool = True, **kw: Any):
    widget = (
        forms.Textarea(attrs={"class": "nhsuk-textarea", "rows": 4}) if long else forms.TextInput()
    )
    return forms.CharField(
        label=label,
        required=required,
        widget=widget,
        error_messages={"required": missing},
        **kw,
    )


class AboutStep(NhsForm):
    title = _text("Title", "Enter a title.", long=False, max_length=300)
    lay_summary = _text(
        "Lay summary",
        "Enter a lay summary.",
        help_text="What you will do and why, in words anyone can follow. It is published.",
    )
    public_benefit = _text(
        "Public benefit", "Say how the public will benefit.", help_text="It is published."
    )
    purpose = _text("Purpose", "Enter the purpose of the research.")


class UsernamesField(forms.CharField):
    """Usernames separated by commas or spaces, each of which must be an account here."""

    def clean(self, value: Any) -> list[User]:
        names = [name for name in (super().clean(value) or "").replace(",", " ").split() if name]
        people = {person.username: person for person in User.objects.filter(username__in=names)}
        unknown = [name for name in names if name not in people]
        if unknown:
            raise forms.ValidationError(
                f"There is nobody with the username {', '.join(unknown)}: check the spelling."
            )
        return [people[name] for name in names]


class VariablesField(forms.Field):
    """The ticked variables, as stored ("<dataset id>:table.column"), each once. Whether each
    is a column of a chosen dataset is for the applications service to check."""

    widget = forms.CheckboxSelectMultiple

    def to_python(self, value: Any) -> list[str]:
        return list(dict.fromkeys(str(item).strip() for item in value or [] if str(item).strip()))


class DataStep(NhsForm):
    datasets = forms.ModelMultipleChoiceField(
        label="Datasets",
        queryset=Dataset.objects.order_by("title"),
        widget=forms.CheckboxSelectMultiple(attrs={"class": "nhsuk-checkboxes__input"}),
        error_messages={
            "required": "Choose at least one dataset from the catalogue.",
            "invalid_choice": "Dataset %(value)s is not in the catalogue: choose from the list.",
            "invalid_pk_value": "Dataset %(pk)s is not in the catalogue: choose from the list.",
        },
    )
    variables = VariablesField(
        label="Variables",
        error_messages={"required": "Tick the variables you need from the chosen datasets."},
    )
    linkage_wanted = _text(
        "Linkage wanted",
        "",
        required=False,
        help_text="Data outside the chosen datasets you want linked in. Leave empty for none.",
    )

    def __init__(self, *args: Any, showing_variables: bool = False, **kwargs: Any) -> None:
        """``showing_variables``: the applicant pressed "Show their variables" after choosing
        datasets, so the draft is saved without variables being required yet."""
        super().__init__(*args, **kwargs)
        self.fields["variables"].required = not showing_variables


class GovernanceStep(NhsForm):
    outputs_expected = _text("Outputs expected", "Say what outputs you expect to take out.")
    legal_basis = _text(
        "Legal basis",
        "Enter the legal basis for processing.",
        long=False,
        max_length=300,
        help_text="For example, UK GDPR Article 6(1)(e) and 9(2)(j).",
    )
    ethics_reference = _text("Ethics reference", "", long=False, required=False, max_length=100)
    data_controller = _text(
        "Data controller", "Enter the data controller.", long=False, max_length=200
    )
    funder = _text("Funder", "Enter the funder, or 'None'.", long=False, max_length=200)


class TeamStep(NhsForm):
    organisation = _text("Organisation", "Enter your organisation.", long=False, max_length=200)
    team = UsernamesField(
        label="Team",
        required=False,
        help_text="Usernames of the researchers who will work on the project, besides you.",
    )
    start_date = DateField(label="Start date")
    end_date = DateField(label="End date")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end <= start:
            self.add_error("end_date", "The end date must be after the start date.")
        return data


STEP_FORMS: dict[int, type[NhsForm]] = {
    1: AboutStep,
    2: DataStep,
    3: GovernanceStep,
    4: TeamStep,
}


class QuestionsForm(NhsForm):
    questions = forms.CharField(
        label="Questions for the applicant",
        help_text="One question per line.",
        widget=forms.Textarea(attrs={"class": "nhsuk-textarea", "rows": 3}),
        error_messages={"required": "Write at least one question for the applicant."},
    )

    def clean_questions(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["questions"].splitlines() if line]


class AnswerForm(NhsForm):
    answer = forms.CharField(
        label="Your answer",
        widget=forms.Textarea(attrs={"class": "nhsuk-textarea", "rows": 3}),
        error_messages={"required": "Write an answer."},
    )


class PanelForm(NhsForm):
    members = UsernamesField(
        label="Panel members", help_text="Usernames, separated by commas.", required=True
    )
    chair = UsernamesField(label="Chair", help_text="The username of one of the members.")

    def clean_chair(self) -> User:
        chair = self.cleaned_data["chair"]
        if len(chair) != 1:
            raise forms.ValidationError("Name exactly one chair.")
        return chair[0]


class VoteForm(NhsForm):
    comment = forms.CharField(
        label="Comment",
        widget=forms.Textarea(attrs={"class": "nhsuk-textarea", "rows": 3}),
        error_messages={"required": "Add a comment to your vote."},
    )
    vote = forms.ChoiceField(
        choices=Vote.choices, widget=forms.HiddenInput, error_messages={"required": "Vote."}
    )


class OutcomeForm(NhsForm):
    note = forms.CharField(
        label="The panel's decision, in words",
        required=False,
        widget=forms.Textarea(attrs={"class": "nhsuk-textarea", "rows": 3}),
    )
    questions = forms.CharField(
        label="Questions, if returning",
        required=False,
        help_text="One per line.",
        widget=forms.Textarea(attrs={"class": "nhsuk-textarea", "rows": 3}),
    )
    outcome = forms.ChoiceField(choices=Vote.choices, widget=forms.HiddenInput)

    def clean_questions(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["questions"].splitlines() if line]
