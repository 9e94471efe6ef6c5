"""Ownership governance: each team's pool rules, the full history of who owned a customer, transfer requests,
and the release warnings already sent (so the daily job warns once per idle spell)."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.core.locking import VersionedModel


class PoolRule(VersionedModel):
    """How one team's customers are handed out, claimed and taken back. A team without a row gets the defaults."""

    class Assignment(models.TextChoices):
        NONE = "none", _("None: new customers without an owner wait in the pool")
        ROUND_ROBIN = "round_robin", _("Round robin among the team's reps")
        LEAST_LOADED = "least_loaded", _("The rep holding the fewest customers")
        TERRITORY = "territory", _("By region and industry territory")

    team = models.OneToOneField(
        "accounts.Team", on_delete=models.CASCADE, related_name="pool_rule", verbose_name=_("team")
    )
    assignment = models.CharField(
        _("automatic assignment"), max_length=16, choices=Assignment.choices, default=Assignment.NONE
    )
    # [{"region": "华东", "industry": "", "user_id": 7}, ...]: the first entry whose non-empty region and industry
    # both match the customer wins. Territory mode falls back to the pool when nothing matches.
    territories = models.JSONField(_("territories"), default=list, blank=True)
    daily_claim_quota = models.PositiveIntegerField(
        _("daily claim quota"), null=True, blank=True, default=10, help_text=_("Empty: no limit")
    )
    holding_cap = models.PositiveIntegerField(
        _("holding cap"), null=True, blank=True, help_text=_("The most customers a rep may own; empty: no cap")
    )
    release_after_days = models.PositiveIntegerField(
        _("release after days without activity"), null=True, blank=True, help_text=_("Empty: never release")
    )
    warning_days = models.PositiveIntegerField(_("warn this many days before release"), default=3)
    protection_days = models.PositiveIntegerField(
        _("protection days after a claim"),
        default=0,
        help_text=_("During protection no transfer can be requested and the job does not release the customer"),
    )
    # Round robin remembers who got the last customer.
    last_assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("pool rule")
        verbose_name_plural = _("pool rules")

    def __str__(self) -> str:
        return str(self.team)


class OwnershipChange(models.Model):
    """One step in a customer's ownership history: the owner (or the pool, as null) before and after."""

    class Reason(models.TextChoices):
        CREATED = "created", _("created")
        ASSIGNED = "assigned", _("assigned")
        CLAIMED = "claimed", _("claimed from the pool")
        RELEASED = "released", _("released to the pool")
        AUTO_RELEASED = "auto_released", _("released automatically (no activity)")
        TRANSFERRED = "transferred", _("transferred")
        MERGED = "merged", _("merged")

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="ownership_changes", verbose_name=_("customer")
    )
    from_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("from"),
    )
    to_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("to"),
    )
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("team")
    )
    reason = models.CharField(_("reason"), max_length=16, choices=Reason.choices)
    note = models.CharField(_("note"), max_length=300, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("by"),
    )
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("ownership change")
        verbose_name_plural = _("ownership changes")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["customer", "at"]),
            models.Index(fields=["to_user", "reason", "at"]),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.from_user_id} → {self.to_user_id} ({self.reason})"


class TransferRequest(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        APPROVED = "approved", _("approved")
        REJECTED = "rejected", _("rejected")
        CANCELLED = "cancelled", _("cancelled")

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="transfer_requests", verbose_name=_("customer")
    )
    from_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("from")
    )
    to_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("to")
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("requested by")
    )
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.CharField(_("decision note"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("requested at"), default=timezone.now)

    class Meta:
        verbose_name = _("transfer request")
        verbose_name_plural = _("transfer requests")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"], condition=models.Q(status="pending"), name="one_pending_transfer_per_customer"
            )
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.from_user_id} → {self.to_user_id} ({self.status})"


class ReleaseWarning(models.Model):
    """A warning sent to ``owner`` that ``customer`` will go back to the pool; one per idle spell, which is
    identified by the last activity it was computed from (new activity starts a new spell)."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    last_activity_at = models.DateTimeField()
    release_on = models.DateField()
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["customer", "owner", "last_activity_at"], name="one_warning_per_spell")
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} → {self.owner_id} ({self.release_on})"
