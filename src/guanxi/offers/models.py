"""Offers (what a customer gets), coupons (one customer's unique code for an offer), campaigns (an offer sent to an
audience with a random control group that is not contacted) and their members (who was treated, who was held out).

The control group is what makes an offer measurable: ``guanxi.offers.uplift`` compares the return rate and revenue
of treated and control members over the campaign's measurement window.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from guanxi.core.locking import VersionedModel

DEFAULT_CONTROL_SHARE = Decimal("0.10")


def _display(name: str, name_zh_hans: str) -> str:
    if name_zh_hans and (get_language() or "").lower().startswith("zh"):
        return name_zh_hans
    return name


class Offer(VersionedModel):
    """What a coupon gives: a percentage or amount off, a free item, or bonus points.

    ``target_rule`` (rule language, empty: everyone) limits who may get it; ``per_customer_limit`` caps the coupons
    a customer may hold or have used at once (0: no limit); a coupon is valid ``coupon_valid_days`` after issue,
    never past ``valid_until``. ``control_share`` is the share held out of its always-on automation campaign.
    """

    class Kind(models.TextChoices):
        PERCENT_OFF = "percent_off", _("Percentage off")
        AMOUNT_OFF = "amount_off", _("Amount off")
        FREE_ITEM = "free_item", _("Free item")
        BONUS_POINTS = "bonus_points", _("Bonus points")

    key = models.SlugField(_("key"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=120)
    name_zh_hans = models.CharField(_("name (Chinese)"), max_length=120, blank=True)
    description = models.TextField(_("description"), blank=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    value = models.DecimalField(_("value"), max_digits=12, decimal_places=2, default=Decimal("0"))
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    free_item_sku = models.CharField(_("free item (SKU)"), max_length=64, blank=True)
    valid_from = models.DateTimeField(_("valid from"), null=True, blank=True)
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)
    target_rule = models.TextField(_("target rule"), blank=True, help_text=_("Empty: every customer"))
    per_customer_limit = models.PositiveIntegerField(_("coupons per customer"), default=1)
    coupon_valid_days = models.PositiveIntegerField(_("coupon valid for (days)"), default=30)
    control_share = models.DecimalField(
        _("control group share"),
        max_digits=4,
        decimal_places=3,
        default=DEFAULT_CONTROL_SHARE,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("0.5"))],
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("offer")
        verbose_name_plural = _("offers")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return _display(self.name, self.name_zh_hans)


class Campaign(VersionedModel):
    """An offer sent to the customers matching ``audience_rule``, minus a random control group.

    ``kind`` always_on: the campaign behind an offer's automation rules (one per offer); members join one by one
    as the rules fire. A manual campaign is launched once, splitting its audience with ``seed``.
    """

    class Kind(models.TextChoices):
        MANUAL = "manual", _("Launched by hand")
        ALWAYS_ON = "always_on", _("Always on (automation)")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        LAUNCHED = "launched", _("Launched")

    name = models.CharField(_("name"), max_length=200)
    offer = models.ForeignKey(Offer, on_delete=models.PROTECT, related_name="campaigns", verbose_name=_("offer"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.MANUAL)
    audience_rule = models.TextField(_("audience rule"), blank=True, help_text=_("Empty: every customer"))
    control_share = models.DecimalField(
        _("control group share"), max_digits=4, decimal_places=3, default=DEFAULT_CONTROL_SHARE
    )
    measure_days = models.PositiveIntegerField(_("measurement window (days)"), default=56)
    seed = models.BigIntegerField(_("random seed"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    email_template = models.CharField(_("e-mail template"), max_length=64, blank=True)
    follow_up_title = models.CharField(_("follow-up for the owner"), max_length=200, blank=True)
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("team")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    launched_at = models.DateTimeField(_("launched at"), null=True, blank=True)

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["offer"], condition=Q(kind="always_on"), name="offers_one_always_on")
        ]

    def __str__(self) -> str:
        return self.name


class CampaignMember(models.Model):
    class Group(models.TextChoices):
        TREATED = "treated", _("Treated (got the offer)")
        CONTROL = "control", _("Control (held out)")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="members")
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="campaign_memberships")
    group = models.CharField(_("group"), max_length=8, choices=Group.choices)
    coupon = models.ForeignKey("Coupon", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    assigned_at = models.DateTimeField(_("assigned at"), db_index=True)

    class Meta:
        verbose_name = _("campaign member")
        verbose_name_plural = _("campaign members")
        constraints = [models.UniqueConstraint(fields=["campaign", "customer"], name="offers_member_once")]
        indexes = [models.Index(fields=["campaign", "group"])]

    def __str__(self) -> str:
        return f"{self.campaign_id}:{self.customer_id}:{self.group}"


class Coupon(models.Model):
    """One customer's code for an offer. Issued once per ``source_key`` (idempotent), redeemed at most once."""

    class Status(models.TextChoices):
        ISSUED = "issued", _("Issued")
        REDEEMED = "redeemed", _("Redeemed")
        EXPIRED = "expired", _("Expired")
        VOID = "void", _("Void")

    code = models.CharField(_("code"), max_length=12, unique=True)
    offer = models.ForeignKey(Offer, on_delete=models.PROTECT, related_name="coupons", verbose_name=_("offer"))
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="coupons", verbose_name=_("customer")
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ISSUED)
    issued_at = models.DateTimeField(_("issued at"))
    expires_at = models.DateTimeField(_("expires at"), db_index=True)
    redeemed_at = models.DateTimeField(_("redeemed at"), null=True, blank=True)
    order = models.ForeignKey(
        "commerce.Order", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("order")
    )
    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.SET_NULL, related_name="coupons", verbose_name=_("campaign")
    )
    source_key = models.CharField(_("source key"), max_length=150, unique=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    redeemed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("coupon")
        verbose_name_plural = _("coupons")
        ordering = ["-issued_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "issued_at"]),
            models.Index(fields=["offer", "customer", "status"]),
            models.Index(fields=["status", "expires_at"]),
        ]

    def __str__(self) -> str:
        return self.code
