"""A project's code, the jobs that run it, and the files those jobs write."""

from django.conf import settings
from django.db import models


class CodeFile(models.Model):
    """A named script in a project's workspace; every save adds a :class:`CodeVersion`."""

    project = models.ForeignKey("projects.Project", on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="one_code_file_per_name")
        ]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def latest_version(self) -> "CodeVersion | None":
        return self.versions.order_by("-number").first()


class CodeVersion(models.Model):
    code_file = models.ForeignKey(CodeFile, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    content = models.TextField()
    sha256 = models.CharField(max_length=64)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["code_file", "number"], name="one_number_per_code")
        ]

    def __str__(self) -> str:
        return f"{self.code_file} v{self.number}"


class JobState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"
    TIMED_OUT = "timed_out", "Timed out"


FINISHED_STATES = (JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED, JobState.TIMED_OUT)

# The NHS.UK tag colour that shows each state at a glance.
STATE_TAG_CLASSES = {
    JobState.QUEUED: "nhsuk-tag--grey",
    JobState.RUNNING: "nhsuk-tag--blue",
    JobState.SUCCEEDED: "nhsuk-tag--green",
    JobState.FAILED: "nhsuk-tag--red",
    JobState.CANCELLED: "nhsuk-tag--grey",
    JobState.TIMED_OUT: "nhsuk-tag--orange",
}


class DataSource(models.TextChoices):
    """Which data of the extract a job read at ``/data``: the same schema either way."""

    DUMMY = "dummy", "Dummy data"
    REAL = "real", "Real data"


class Job(models.Model):
    """One run of one code version on one extract (its real or its dummy data), in the sandbox."""

    project = models.ForeignKey("projects.Project", on_delete=models.PROTECT, related_name="+")
    code_version = models.ForeignKey(CodeVersion, on_delete=models.PROTECT, related_name="jobs")
    # The version of each of the workspace's other code files, latest when the job was submitted
    # and written beside the file it runs, so it can ``import`` or ``source`` them. "Other code"
    # is how the job page names them: the run file is the code, these are the code it can use.
    # Fixed at submission (the code that was queued is the code that runs) and kept for ever, as
    # the run file's version is: a reviewer needs both to say which code made an output.
    other_code_versions = models.ManyToManyField(
        CodeVersion, through="OtherCodeVersion", related_name="jobs_using"
    )
    extract = models.ForeignKey(
        "data.Extract", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Outputs made from dummy data say nothing about real people, so they are never released.
    data_source = models.CharField(
        max_length=10, choices=DataSource.choices, default=DataSource.REAL
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    state = models.CharField(max_length=20, choices=JobState.choices, default=JobState.QUEUED)
    cancel_requested = models.BooleanField(default=False)
    submitted_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    exit_code = models.IntegerField(null=True, blank=True)
    failure_reason = models.TextField(blank=True)
    # Which sandbox limit stopped the job ("wall_time", "memory"...), if one did.
    limit_hit = models.CharField(max_length=20, blank=True)
    peak_memory_bytes = models.BigIntegerField(null=True, blank=True)
    # "host:pid" of the worker running the job, so a restarted worker can tell its own
    # abandoned jobs from those another live worker is still running.
    worker_name = models.CharField(max_length=200, blank=True)
    # The job's id on the haven's Slurm cluster (HAVENKIT_EXECUTOR=slurm), once it was submitted:
    # what an administrator looks for in squeue, and what havenkit cancels.
    slurm_job_id = models.CharField(max_length=40, blank=True, null=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"Job {self.pk} ({self.state})"

    @property
    def is_finished(self) -> bool:
        return self.state in FINISHED_STATES

    @property
    def used_dummy_data(self) -> bool:
        return self.data_source == DataSource.DUMMY

    @property
    def data_description(self) -> str:
        """Which data the job read, as the job page and the job list say it."""
        if self.extract is None:
            return "No data"
        if self.used_dummy_data:
            return f"Dummy data of extract {self.extract.version}"
        return f"Extract {self.extract.version} (real data)"

    @property
    def other_code(self) -> list[CodeVersion]:
        """The other code versions the job has in ``/code``, by file name.

        Sorted here rather than in the query, so that a prefetch of
        ``other_code_versions__code_file`` serves it with no query of its own.
        """
        return sorted(self.other_code_versions.all(), key=lambda version: version.code_file.name)

    @property
    def state_tag_class(self) -> str:
        return STATE_TAG_CLASSES[JobState(self.state)]

    @property
    def duration_seconds(self) -> float | None:
        """How long the job ran, once it has finished running."""
        if self.started_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class OtherCodeVersion(models.Model):
    """A code version a job had beside its run file: a row never removed while the job is."""

    job = models.ForeignKey(Job, on_delete=models.PROTECT, related_name="+")
    code_version = models.ForeignKey(CodeVersion, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["job", "code_version"], name="one_row_per_other_code")
        ]

    def __str__(self) -> str:
        return f"Job {self.job_id} had {self.code_version}"


class JobOutput(models.Model):
    """A file a finished job wrote to its outputs folder; never rewritten after the job ends."""

    job = models.ForeignKey(Job, on_delete=models.PROTECT, related_name="outputs")
    name = models.CharField(max_length=255)
    size_bytes = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["job", "name"], name="one_output_per_name")]
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.job_id}/{self.name}"
