"""Lifecycle stages: the admin-editable definitions (a rule each), every customer's current stage and funnel
stage, and the append-only history of transitions."""

from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from guanxi.core.locking import VersionedModel
from guanxi.core.models import AppendOnlyModel


class Stage(models.TextChoices):
    POTENTIAL = "potential", _("Potential")
    NEW = "new", _("New")
    ACTIVE = "active", _("Active")
    LOYAL = "loyal", _("Loyal")
    AT_RISK = "at_risk", _("At risk")
    CHURNED = "churned", _("Churned")
    WON_BACK = "won_back", _("Won back")


class FunnelStage(models.TextChoices):
    AWARENESS = "awareness", _("Awareness")
    CONSIDERATION = "consideration", _("Consideration")
    PURCHASE = "purchase", _("Purchase")
    SUPPORT = "support", _("Support")
    LOYALTY = "loyalty", _("Loyalty")


FUNNEL_ORDER = [value for value, _label in FunnelStage.choices]


class StageDefinition(VersionedModel):
    """One lifecycle stage and the rule (guanxi.core.rules) that puts a customer in it.

    Definitions are tried by ``position``: the first active one whose rule matches decides the stage.
    """

    key = models.SlugField(_("key"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_zh_hans = models.CharField(_("name (Chinese)"), max_length=100, blank=True)
    rule = models.TextField(_("rule"))
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    playbook = models.TextField(_("playbook"), blank=True)
    active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("stage definition")
        verbose_name_plural = _("stage definitions")
        ordering = ["position", "key"]

    def __str__(self) -> str:
        return self.key

    @property
    def display_name(self) -> str:
        if self.name_zh_hans and (get_language() or "").lower().startswith("zh"):
            return self.name_zh_hans
        return self.name


class CustomerStage(models.Model):
    """A customer's current lifecycle stage and funnel stage, and since when."""

    customer = models.OneToOneField(
        "customers.Customer", on_delete=models.CASCADE, primary_key=True, related_name="lifecycle"
    )
    stage = models.CharField(_("stage"), max_length=32, db_index=True)
    since = models.DateTimeField(_("since"))
    funnel_stage = models.CharField(_("funnel stage"), max_length=16, choices=FunnelStage.choices, db_index=True)
    funnel_since = models.DateTimeField(_("funnel stage since"))

    class Meta:
        verbose_name = _("customer stage")
        verbose_name_plural = _("customer stages")

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.stage}"


class StageTransition(AppendOnlyModel):
    """One move of a customer from a stage to another; ``from_stage`` is empty for the first stage."""

    class View(models.TextChoices):
        STAGE = "stage", _("Lifecycle stage")
        FUNNEL = "funnel", _("Funnel stage")

    class Source(models.TextChoices):
        EVENT = "event", _("An event")
        NIGHTLY = "nightly", _("Nightly evaluation")
        DEFINITIONS = "definitions", _("Stage definitions changed")

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="stage_transitions", verbose_name=_("customer")
    )
    view = models.CharField(_("view"), max_length=8, choices=View.choices, default=View.STAGE)
    from_stage = models.CharField(_("from"), max_length=32, blank=True)
    to_stage = models.CharField(_("to"), max_length=32)
    at = models.DateTimeField(_("at"), db_index=True)
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    facts = models.JSONField(_("facts"), null=True, blank=True, default=dict)
    source = models.CharField(_("source"), max_length=12, choices=Source.choices)
    event = models.ForeignKey("core.Event", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("stage transition")
        verbose_name_plural = _("stage transitions")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["customer", "view", "at"]),
            models.Index(fields=["view", "at"]),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.from_stage or '-'} → {self.to_stage}"
