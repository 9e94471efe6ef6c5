"""The membership programme: tiers, each customer's membership, the append-only points ledger and tier history.

The ledger (``PointsEntry``) is the truth; ``Membership.balance`` is a cache of its sum, written in the same
transaction as every entry while the membership row is locked, and a check constraint keeps it from going below
zero. FIFO expiry never mutates an entry: ``PointsAllocation`` rows record which earn lots each redeem, expiry or
reversal consumed, and a lot's remaining points are its points minus its allocations.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from guanxi.core.locking import VersionedModel
from guanxi.core.models import AppendOnlyModel


class _Named(models.Model):
    class Meta:
        abstract = True

    @property
    def display_name(self) -> str:
        if self.name_zh_hans and (get_language() or "").lower().startswith("zh"):
            return self.name_zh_hans
        return self.name


class Programme(VersionedModel):
    """The programme's settings: one row (``services.programme()`` creates it with these defaults)."""

    class Expiry(models.TextChoices):
        END_OF_NEXT_YEAR = "end_of_next_year", _("End of the year after earning")
        MONTHS = "months", _("A number of months after earning")
        NEVER = "never", _("Never")

    name = models.CharField(_("name"), max_length=120, default="Membership")
    name_zh_hans = models.CharField(_("name (Chinese)"), max_length=120, blank=True, default="会员计划")
    points_per_unit = models.DecimalField(
        _("points per currency unit spent"), max_digits=8, decimal_places=3, default=Decimal("1")
    )
    points_per_order = models.PositiveIntegerField(_("bonus points per order"), default=0)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    expiry = models.CharField(_("expiry"), max_length=20, choices=Expiry.choices, default=Expiry.END_OF_NEXT_YEAR)
    expiry_months = models.PositiveIntegerField(_("months until expiry"), default=24)
    window_months = models.PositiveIntegerField(_("rolling window (months)"), default=12)
    adjustment_threshold = models.PositiveIntegerField(_("adjustments above this need a manager"), default=1000)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("membership programme")
        verbose_name_plural = _("membership programmes")

    def __str__(self) -> str:
        return self.name


class MembershipTier(_Named):
    """A tier and its entry rule: points earned in the window >= min_points OR spend in the window >= min_spend."""

    key = models.SlugField(_("key"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=60)
    name_zh_hans = models.CharField(_("name (Chinese)"), max_length=60, blank=True)
    rank = models.PositiveSmallIntegerField(_("rank"), unique=True)
    min_points = models.PositiveIntegerField(_("minimum points in window"), default=0)
    min_spend = models.DecimalField(_("minimum spend in window"), max_digits=14, decimal_places=2, default=0)
    multiplier = models.DecimalField(_("points multiplier"), max_digits=5, decimal_places=2, default=Decimal("1"))
    discount_percent = models.DecimalField(_("discount (%)"), max_digits=5, decimal_places=2, default=0)
    benefits = models.TextField(_("benefits"), blank=True)
    benefits_zh_hans = models.TextField(_("benefits (Chinese)"), blank=True)

    class Meta:
        verbose_name = _("membership tier")
        verbose_name_plural = _("membership tiers")
        ordering = ["rank"]
        constraints = [
            models.CheckConstraint(condition=Q(multiplier__gte=0), name="loyalty_tier_multiplier_not_negative"),
            models.CheckConstraint(
                condition=Q(discount_percent__gte=0) & Q(discount_percent__lte=100),
                name="loyalty_tier_discount_percent",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_benefits(self) -> str:
        if self.benefits_zh_hans and (get_language() or "").lower().startswith("zh"):
            return self.benefits_zh_hans
        return self.benefits


class Membership(VersionedModel):
    customer = models.OneToOneField(
        "customers.Customer",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="membership",
        verbose_name=_("customer"),
    )
    tier = models.ForeignKey(MembershipTier, on_delete=models.PROTECT, related_name="members", verbose_name=_("tier"))
    joined_at = models.DateTimeField(_("joined at"))
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    balance = models.IntegerField(_("points balance"), default=0)
    tier_since = models.DateTimeField(_("tier since"), null=True, blank=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [models.CheckConstraint(condition=Q(balance__gte=0), name="loyalty_balance_not_negative")]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.tier_id}"


class PointsEntry(AppendOnlyModel):
    class Kind(models.TextChoices):
        EARN = "earn", _("Earned")
        REDEEM = "redeem", _("Redeemed")
        EXPIRE = "expire", _("Expired")
        ADJUST = "adjust", _("Adjusted")
        REVERSE = "reverse", _("Reversed")
        MERGE = "merge", _("Merged")

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="points_entries", verbose_name=_("customer")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    points = models.IntegerField(_("points"))
    source_key = models.CharField(_("source key"), max_length=150, unique=True)
    order = models.ForeignKey(
        "commerce.Order", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("order")
    )
    earned_at = models.DateTimeField(_("effective at"), db_index=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_on = models.DateField(_("expires on"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reverses = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversals", verbose_name=_("reverses")
    )

    class Meta:
        verbose_name = _("points entry")
        verbose_name_plural = _("points entries")
        ordering = ["-earned_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "earned_at"]),
            models.Index(fields=["expires_on"], name="loyalty_lot_expiry", condition=Q(points__gt=0)),
        ]
        # A reversal may be 0 points: the order's points were all spent already, and the entry records the shortfall.
        constraints = [
            models.CheckConstraint(condition=~Q(points=0) | Q(kind="reverse"), name="loyalty_entry_points_not_zero")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.points:+d} ({self.source_key})"


class PointsAllocation(AppendOnlyModel):
    """``points`` of the earn lot ``lot`` consumed by the negative entry ``consumer`` (FIFO, by expiry)."""

    consumer = models.ForeignKey(PointsEntry, on_delete=models.CASCADE, related_name="allocations")
    lot = models.ForeignKey(PointsEntry, on_delete=models.CASCADE, related_name="consumed_by")
    points = models.PositiveIntegerField(_("points"))

    class Meta:
        verbose_name = _("points allocation")
        verbose_name_plural = _("points allocations")
        constraints = [models.CheckConstraint(condition=Q(points__gt=0), name="loyalty_allocation_positive")]


class TierChange(AppendOnlyModel):
    class Direction(models.TextChoices):
        UP = "up", _("Upgrade")
        DOWN = "down", _("Downgrade")

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="tier_changes", verbose_name=_("customer")
    )
    from_tier = models.ForeignKey(MembershipTier, null=True, on_delete=models.PROTECT, related_name="+")
    to_tier = models.ForeignKey(MembershipTier, on_delete=models.PROTECT, related_name="+")
    direction = models.CharField(_("direction"), max_length=4, choices=Direction.choices)
    at = models.DateTimeField(_("at"), db_index=True)
    window_points = models.IntegerField(_("points in window"), default=0)
    window_spend = models.DecimalField(_("spend in window"), max_digits=16, decimal_places=2, default=0)
    reason = models.CharField(_("reason"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("tier change")
        verbose_name_plural = _("tier changes")
        ordering = ["-at", "-id"]


class BonusCampaign(_Named):
    """Extra points while active: a multiplier on the order's points and/or flat bonus points per order.

    ``rule`` (guanxi.core.rules text, optional) limits it to matching customers."""

    name = models.CharField(_("name"), max_length=120)
    name_zh_hans = models.CharField(_("name (Chinese)"), max_length=120, blank=True)
    multiplier = models.DecimalField(_("multiplier"), max_digits=5, decimal_places=2, default=Decimal("1"))
    bonus_points = models.PositiveIntegerField(_("bonus points per order"), default=0)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    rule = models.TextField(_("rule"), blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("bonus campaign")
        verbose_name_plural = _("bonus campaigns")
        ordering = ["-starts_at"]
        constraints = [
            models.CheckConstraint(condition=Q(multiplier__gte=1), name="loyalty_campaign_multiplier_min_1"),
        ]

    def __str__(self) -> str:
        return self.display_name
