"""Datasets in the catalogue, their immutable versions, and the extracts made for projects."""

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone


class Dataset(models.Model):
    title = models.CharField(max_length=200, unique=True)
    description = models.TextField()
    data_controller = models.CharField(max_length=200)
    classification = models.CharField(max_length=50, default="Personal data (pseudonymised)")
    coverage_start = models.DateField(null=True, blank=True)
    coverage_end = models.DateField(null=True, blank=True)
    update_schedule = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class DatasetVersion(models.Model):
    """An approved, immutable copy of a dataset: one folder of Parquet tables with checksums."""

    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="versions")
    version = models.PositiveIntegerField()
    # Relative to HAVENKIT_HOME, so an instance can be moved as one folder.
    storage_path = models.CharField(max_length=500)
    tables = models.JSONField(
        default=dict, help_text="Table name to {file, rows, sha256, columns}."
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # A withdrawn version's files are deleted; the row stays so extracts and the audit log
    # can still say what they came from.
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    withdrawal_reason = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["dataset", "version"], name="one_number_per_version")
        ]

    def __str__(self) -> str:
        return f"{self.dataset} v{self.version}"

    @property
    def row_count(self) -> int:
        return sum(entry["rows"] for entry in self.tables.values())


class Extract(models.Model):
    """The data one project may read: minimised, pseudonymised with that project's own key."""

    project = models.ForeignKey("projects.Project", on_delete=models.PROTECT, related_name="+")
    dataset_version = models.ForeignKey(DatasetVersion, on_delete=models.PROTECT)
    version = models.PositiveIntegerField(default=1)
    storage_path = models.CharField(max_length=500)
    recipe = models.JSONField(default=dict, help_text="How the extract was built, to rebuild it.")
    tables = models.JSONField(default=dict)
    key_version = models.PositiveIntegerField(default=1)
    # When several dataset versions are linked: per version, counts of records and people
    # whose CHI is in no other version (never which ones).
    linkage = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "version"], name="one_extract_number")
        ]

    def __str__(self) -> str:
        return f"Extract {self.version} for project {self.project_id}"


class VariableType(models.TextChoices):
    """The types a declared schema may give a column; ``chi`` is text that must be a valid CHI."""

    STRING = "string", "Text"
    INTEGER = "integer", "Whole number"
    NUMBER = "number", "Number"
    DATE = "date", "Date"
    CHI = "chi", "CHI number"


class Variable(models.Model):
    """One column of one table in a dataset version, as the catalogue describes it."""

    dataset_version = models.ForeignKey(
        DatasetVersion, on_delete=models.CASCADE, related_name="variables"
    )
    table = models.CharField(max_length=100)
    name = models.CharField(max_length=100)
    type = models.CharField(max_length=10, choices=VariableType.choices)
    description = models.TextField(blank=True)
    allowed_values = models.JSONField(
        default=list, blank=True, help_text="The values a coded variable may take; empty if any."
    )
    missing_fraction = models.FloatField(
        null=True, blank=True, help_text="Share of rows with no value, 0 to 1."
    )
    is_identifier = models.BooleanField(default=False)
    is_quasi_identifier = models.BooleanField(default=False)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["table", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["dataset_version", "table", "name"], name="one_variable_per_column"
            )
        ]

    def __str__(self) -> str:
        return f"{self.table}.{self.name}"


class AirlockReview(models.Model):
    """What every file brought to the airlock keeps: who brought it in, and the decision of the
    second person who reviewed it (an uploader never reviews their own)."""

    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_comment = models.TextField(blank=True)

    class Meta:
        abstract = True
        ordering = ["-created_at"]

    @property
    def uploader_id(self) -> int:
        """Who brought the file in: the one person who may not approve it."""
        return self.uploaded_by_id

    def mark_reviewed(self, reviewer: Any, comment: str) -> None:
        """Note the reviewer's decision on the record; the caller sets the state and saves."""
        self.reviewed_by = reviewer
        self.reviewed_at = timezone.now()
        self.review_comment = comment


class IngressState(models.TextChoices):
    RECEIVING = "receiving", "Receiving"
    VALIDATING = "validating", "Validating"
    FAILED = "failed", "Failed"
    INVALID = "invalid", "Failed validation"
    AWAITING_REVIEW = "awaiting_review", "Awaiting review"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class IngressUpload(AirlockReview):
    """A file brought to the ingress airlock: validated, then approved or rejected by a second
    person. Only an approved upload becomes (part of) a dataset version."""

    dataset_title = models.CharField(max_length=200)
    dataset_description = models.TextField(blank=True)
    data_controller = models.CharField(max_length=200, blank=True)
    table_name = models.CharField(max_length=100)
    original_name = models.CharField(max_length=255)
    file_format = models.CharField(max_length=10)
    schema = models.JSONField(default=list, help_text="The declared columns, in order.")
    state = models.CharField(
        max_length=20, choices=IngressState.choices, default=IngressState.RECEIVING
    )
    failure_reason = models.TextField(blank=True)
    size_bytes = models.BigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    rows = models.BigIntegerField(null=True, blank=True)
    report = models.JSONField(default=dict, blank=True)
    dataset_version = models.ForeignKey(
        DatasetVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    def __str__(self) -> str:
        return f"Upload {self.pk}: {self.original_name} for {self.dataset_title}"


class ImportKind(models.TextChoices):
    """What a researcher may bring into a project through the airlock."""

    CODE = "code", "Code file"
    REFERENCE_TABLE = "reference_table", "Reference table"


class ImportState(models.TextChoices):
    AWAITING_REVIEW = "awaiting_review", "Awaiting review"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    # The project closed while the import awaited review: it can no longer be placed anywhere.
    CLOSED = "closed", "Closed with the project"


class ProjectImport(AirlockReview):
    """A code file or reference table a project member brings in through the airlock.

    It waits outside the project until a data steward or approver who is not the uploader
    approves it; only then is it placed in the workspace (code) or beside the extract
    (reference table). A rejected import's file is deleted; the record and reason stay.
    """

    project = models.ForeignKey("projects.Project", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=ImportKind.choices)
    file_name = models.CharField(max_length=100)
    purpose = models.TextField(help_text="Why the project needs this file, for the reviewer.")
    state = models.CharField(
        max_length=20, choices=ImportState.choices, default=ImportState.AWAITING_REVIEW
    )
    size_bytes = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    # For a reference table: rows, columns with types, and the columns that look like CHI.
    report = models.JSONField(default=dict, blank=True)
    # Where an approved import went: the code version it became, or the reference table path.
    code_version = models.ForeignKey(
        "workspaces.CodeVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    delivered_as = models.CharField(max_length=300, blank=True)

    def __str__(self) -> str:
        return f"Import {self.pk}: {self.file_name} for project {self.project_id}"

    @property
    def is_code(self) -> bool:
        return self.kind == ImportKind.CODE
