"""Import jobs, their rejected rows, and named column mappings."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    CUSTOMERS = "customers", _("Customers")
    ORDERS = "orders", _("Orders")


class ImportMapping(models.Model):
    """A named, reusable column mapping: ``columns`` maps a file header to a field name."""

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    columns = models.JSONField(_("columns"), default=dict)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="import_mappings", verbose_name=_("owner")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("import mapping")
        verbose_name_plural = _("import mappings")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["owner", "kind", "name"], name="import_mapping_unique_name")]

    def __str__(self) -> str:
        return self.name


class ImportJob(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Uploaded, not started")
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    file_name = models.CharField(_("file name"), max_length=255)
    stored_name = models.CharField(max_length=100, editable=False)
    file_size = models.PositiveBigIntegerField(_("file size"), default=0)
    file_sha256 = models.CharField(max_length=64, editable=False, db_index=True)
    file_format = models.CharField(_("format"), max_length=10, default="csv")
    encoding = models.CharField(_("encoding"), max_length=30, blank=True)
    delimiter = models.CharField(_("delimiter"), max_length=1, blank=True)
    headers = models.JSONField(_("headers"), default=list)
    columns = models.JSONField(_("column mapping"), default=dict)
    mapping_name = models.CharField(_("mapping"), max_length=100, blank=True)
    options = models.JSONField(_("options"), default=dict, blank=True)
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    processed_rows = models.PositiveIntegerField(_("rows processed"), default=0)
    created_count = models.PositiveIntegerField(_("created"), default=0)
    updated_count = models.PositiveIntegerField(_("updated"), default=0)
    unchanged_count = models.PositiveIntegerField(_("unchanged"), default=0)
    rejected_count = models.PositiveIntegerField(_("rejected"), default=0)
    error = models.TextField(_("error"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="import_jobs", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("import job")
        verbose_name_plural = _("import jobs")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.file_name}"

    @property
    def percent(self) -> int:
        if not self.total_rows:
            return 100 if self.status == self.Status.DONE else 0
        return min(100, int(100 * self.processed_rows / self.total_rows))

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)


class RejectedRow(models.Model):
    """One row the import refused: where (line of the file, column header) and why, with the row's raw cells."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="rejected_rows")
    line = models.PositiveIntegerField(_("line"))
    column = models.CharField(_("column"), max_length=255, blank=True)
    reason = models.TextField(_("reason"))
    values = models.JSONField(_("values"), default=list)

    class Meta:
        verbose_name = _("rejected row")
        verbose_name_plural = _("rejected rows")
        ordering = ["line", "id"]
        indexes = [models.Index(fields=["job", "line"])]

    def __str__(self) -> str:
        return f"{self.line}: {self.reason}"
