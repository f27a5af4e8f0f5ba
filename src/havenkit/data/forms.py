"""Forms of the data app: catalogue search, ingress upload and review."""

from typing import Any

from django import forms

from havenkit.data import generalisation
from havenkit.data.models import Dataset, Variable
from havenkit.data.validation import ColumnSpec, file_format, parse_schema


class CatalogueSearchForm(forms.Form):
    q = forms.CharField(
        label="Search datasets and variables",
        required=False,
        max_length=200,
        help_text="Words from a title, a description or a variable name, such as 'admissions'.",
    )
    classification = forms.ChoiceField(label="Classification", required=False)

    def __init__(self, *args: Any, classifications: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["classification"].choices = [("", "Any classification")] + [
            (value, value) for value in classifications
        ]


SCHEMA_EXAMPLE = (
    "name,type,required,key,identifier,quasi_identifier,allowed_values,description\n"
    "chi,chi,yes,yes,yes,no,,CHI number\n"
    "sex,string,yes,no,no,yes,F|M,Sex"
)


class IngressUploadForm(forms.Form):
    """What a data steward declares about a file before the airlock checks it."""

    dataset_title = forms.CharField(
        label="Dataset",
        max_length=200,
        help_text="The title of an existing dataset to add a table to, or of a new dataset.",
    )
    dataset_description = forms.CharField(
        label="Description of a new dataset",
        required=False,
        widget=forms.Textarea,
        help_text="Leave empty when adding to an existing dataset.",
    )
    data_controller = forms.CharField(
        label="Data controller of a new dataset", required=False, max_length=200
    )
    table_name = forms.RegexField(
        label="Table name",
        regex=r"^[a-z][a-z0-9_]{0,62}$",
        help_text="Lower-case letters, digits and underscores, such as 'admissions'. "
        "A table of the same name in the dataset is replaced in the new version.",
        error_messages={"invalid": "Use lower-case letters, digits and underscores only."},
    )
    file = forms.FileField(
        label="File",
        help_text="CSV (UTF-8), Parquet, Stata .dta, SPSS .sav or SAS .sas7bdat.",
    )
    schema = forms.CharField(
        label="Declared schema",
        widget=forms.Textarea,
        help_text="One line per column, as CSV with this header: "
        "name,type,required,key,identifier,quasi_identifier,allowed_values,description. "
        "Types: string, chi, integer, number, date. Separate allowed values with |.",
    )

    def clean_file(self) -> Any:
        uploaded = self.cleaned_data["file"]
        if file_format(uploaded.name) is None:
            raise forms.ValidationError("Upload a .csv, .parquet, .dta, .sav or .sas7bdat file.")
        return uploaded

    def clean_schema(self) -> list[ColumnSpec]:
        try:
            return parse_schema(self.cleaned_data["schema"])
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        title = cleaned.get("dataset_title")
        if title and not Dataset.objects.filter(title=title).exists():
            for name in ("dataset_description", "data_controller"):
                if not cleaned.get(name):
                    self.add_error(name, "A new dataset needs this.")
        return cleaned


class AirlockReviewForm(forms.Form):
    """A second person's decision on a file in the airlock; rejecting needs a reason. Each kind
    of file says in its own words what approving does and who the reason is for."""

    approve_label: str
    comment_hint: str
    reason_needed: str

    decision = forms.ChoiceField(
        label="Decision",
        widget=forms.RadioSelect,
        error_messages={"required": "Choose approve or reject."},
    )
    comment = forms.CharField(label="Comment", required=False, widget=forms.Textarea)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["decision"].choices = [("approve", self.approve_label), ("reject", "Reject")]
        self.fields["comment"].help_text = self.comment_hint

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("decision") == "reject" and not cleaned.get("comment", "").strip():
            self.add_error("comment", self.reason_needed)
        return cleaned


class IngressReviewForm(AirlockReviewForm):
    approve_label = "Approve: make it a dataset version"
    comment_hint = "Required when rejecting: say what the steward should fix."
    reason_needed = "Say why the upload is rejected."


class ExtractForm(forms.Form):
    """Which of the variables a project may have go into its extract, and how each is
    generalised. One checkbox and one choice per variable, named by table and column; every
    checkbox starts ticked, since the approved variables are what the extract is for."""

    k_threshold = forms.IntegerField(
        label="Smallest group size (k) to flag",
        min_value=2,
        max_value=100,
        initial=10,
        help_text="Records whose quasi-identifiers are shared by fewer people are counted "
        "in the disclosure-risk report.",
    )

    def __init__(self, *args: Any, variables: list[Variable], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.variables = variables
        for variable in variables:
            name = f"{variable.table}.{variable.name}"
            self.fields[f"include:{name}"] = forms.BooleanField(
                required=False, initial=True, label=f"Include {name}"
            )
            self.fields[f"generalise:{name}"] = forms.ChoiceField(
                required=False, label=f"Generalise {name}", choices=generalisation.CHOICES
            )

    def rows(self) -> list[tuple[Variable, forms.BoundField, forms.BoundField]]:
        return [
            (
                variable,
                self[f"include:{variable.table}.{variable.name}"],
                self[f"generalise:{variable.table}.{variable.name}"],
            )
            for variable in self.variables
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        chosen: dict[str, list[str]] = {}
        generalisations = {}
        for variable in self.variables:
            name = f"{variable.table}.{variable.name}"
            if cleaned.get(f"include:{name}"):
                chosen.setdefault(variable.table, []).append(variable.name)
                if cleaned.get(f"generalise:{name}"):
                    generalisations[name] = cleaned[f"generalise:{name}"]
        if not chosen:
            raise forms.ValidationError("Choose at least one variable.")
        cleaned["variables"] = chosen
        cleaned["generalisations"] = generalisations
        return cleaned


class WithdrawalForm(forms.Form):
    reason = forms.CharField(
        label="Why is this dataset version withdrawn?",
        widget=forms.Textarea,
        help_text="Kept in the deletion record, for the data controller and the auditor.",
    )


class ProjectImportForm(forms.Form):
    """A file a project member brings in through the airlock, and why."""

    file = forms.FileField(
        label="File",
        help_text="Code as .py, .R, .txt or .sql (UTF-8 text), or a reference table as "
        ".csv (UTF-8) or .parquet. No folders in the name.",
    )
    purpose = forms.CharField(
        label="What does the project need this file for?",
        widget=forms.Textarea,
        max_length=2000,
        help_text="The reviewer reads this: say where the file comes from and how you will use it.",
    )


class ProjectImportReviewForm(AirlockReviewForm):
    approve_label = "Approve: place it in the project"
    comment_hint = "Required when rejecting: say what the researcher should change."
    reason_needed = "Say why the import is rejected, so the researcher can act on it."
