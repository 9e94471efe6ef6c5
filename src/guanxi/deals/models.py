"""The sales pipeline: pipelines and their editable stages, deals (opportunities), each deal's stage history, and
the reasons deals are lost."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from guanxi.core.locking import VersionedModel


class _Bilingual(models.Model):
    name = models.CharField(_("name"), max_length=120)
    name_zh_hans = models.CharField(_("name (Chinese)"), max_length=120, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        if self.name_zh_hans and (get_language() or "").lower().startswith("zh"):
            return self.name_zh_hans
        return self.name


class LostReason(_Bilingual):
    key = models.SlugField(_("key"), max_length=32, unique=True)
    active = models.BooleanField(_("active"), default=True)
    order = models.PositiveSmallIntegerField(_("order"), default=100)

    class Meta:
        verbose_name = _("lost reason")
        verbose_name_plural = _("lost reasons")
        ordering = ["order", "key"]


class Pipeline(_Bilingual):
    """A sequence of stages deals go through. ``record_order_on_win``: winning a deal records an order."""

    record_order_on_win = models.BooleanField(_("record an order when a deal is won"), default=False)
    is_default = models.BooleanField(_("default pipeline"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("pipeline")
        verbose_name_plural = _("pipelines")
        ordering = ["-is_default", "name"]
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True), name="deals_one_default")
        ]


class DealStage(_Bilingual):
    """One column of a pipeline. ``kind`` won/lost closes the deal; each pipeline has one of each."""

    class Kind(models.TextChoices):
        OPEN = "open", _("Open")
        WON = "won", _("Won")
        LOST = "lost", _("Lost")

    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="stages", verbose_name=_("pipeline"))
    key = models.SlugField(_("key"), max_length=32)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    probability = models.PositiveSmallIntegerField(_("probability (%)"), default=0)
    kind = models.CharField(_("kind"), max_length=4, choices=Kind.choices, default=Kind.OPEN)

    class Meta:
        verbose_name = _("deal stage")
        verbose_name_plural = _("deal stages")
        ordering = ["pipeline_id", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["pipeline", "key"], name="deals_stage_key_unique"),
            models.UniqueConstraint(
                fields=["pipeline", "kind"], condition=~Q(kind="open"), name="deals_one_won_one_lost_stage"
            ),
            models.CheckConstraint(condition=Q(probability__lte=100), name="deals_stage_probability_range"),
        ]


class Deal(VersionedModel):
    """An opportunity to sell ``value`` to ``customer``, owned by a rep, in one stage of a pipeline."""

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="deals", verbose_name=_("customer")
    )
    pipeline = models.ForeignKey(Pipeline, on_delete=models.PROTECT, related_name="deals", verbose_name=_("pipeline"))
    stage = models.ForeignKey(DealStage, on_delete=models.PROTECT, related_name="deals", verbose_name=_("stage"))
    title = models.CharField(_("title"), max_length=200)
    value = models.DecimalField(_("value"), max_digits=14, decimal_places=2, default=0)
    currency = models.CharField(_("currency"), max_length=3)
    probability = models.PositiveSmallIntegerField(_("probability (%)"), default=0)
    expected_close = models.DateField(_("expected close date"), null=True, blank=True, db_index=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="deals", verbose_name=_("owner")
    )
    # The owner's team when the deal was given to them: forecasts per team and managers' scope.
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="deals", verbose_name=_("team")
    )
    lost_reason = models.ForeignKey(
        LostReason, null=True, blank=True, on_delete=models.PROTECT, related_name="deals", verbose_name=_("lost reason")
    )
    lost_note = models.TextField(_("note on the loss"), blank=True)
    won_at = models.DateTimeField(_("won at"), null=True, blank=True)
    lost_at = models.DateTimeField(_("lost at"), null=True, blank=True)
    order = models.ForeignKey(
        "commerce.Order", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("order")
    )
    stage_entered_at = models.DateTimeField(_("in this stage since"), default=timezone.now)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("deal")
        verbose_name_plural = _("deals")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["owner", "stage"]),
            models.Index(fields=["pipeline", "stage"]),
            models.Index(fields=["won_at"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(value__gte=0), name="deals_value_not_negative"),
            models.CheckConstraint(condition=Q(probability__lte=100), name="deals_probability_range"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def weighted_value(self):
        return self.value * self.probability / 100


class DealStageChange(models.Model):
    """One move of a deal, including its creation (``from_stage`` null). Append-only: the funnel reads it."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.ForeignKey(DealStage, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    to_stage = models.ForeignKey(DealStage, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("at"), default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("deal stage change")
        verbose_name_plural = _("deal stage changes")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["deal", "at"]), models.Index(fields=["to_stage", "deal"])]

    def __str__(self) -> str:
        return f"{self.deal_id}: {self.from_stage_id} -> {self.to_stage_id}"
