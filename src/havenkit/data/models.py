"""Datasets in the catalogue, their immutable versions, and the extracts made for projects."""

from django.conf import settings
from django.db import models


class Dataset(models.Model):
    title = models.CharField(max_length=200, unique=True)
    description = models.TextField()
    data_controller = models.CharField(max_length=200)
    classification = models.CharField(max_length=50, default="Personal data (pseudonymised)")

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

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["dataset", "version"], name="one_number_per_version")
        ]

    def __str__(self) -> str:
        return f"{self.dataset} v{self.version}"


class Extract(models.Model):
    """The data one project may read: minimised, pseudonymised with that project's own key."""

    project = models.ForeignKey("projects.Project", on_delete=models.PROTECT, related_name="+")
    dataset_version = models.ForeignKey(DatasetVersion, on_delete=models.PROTECT)
    version = models.PositiveIntegerField(default=1)
    storage_path = models.CharField(max_length=500)
    recipe = models.JSONField(default=dict, help_text="How the extract was built, to rebuild it.")
    tables = models.JSONField(default=dict)
    key_version = models.PositiveIntegerField(default=1)
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
