"""Satisfaction surveys: the survey and its questions, the invitations (secret links), the responses and their
answers. A response snapshots the customer's segment, tier and lifecycle stage at answer time, so results by
segment stay true after the customer moves on."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from guanxi.core.locking import VersionedModel

DEFAULT_EXPIRY_DAYS = 14


def _chinese() -> bool:
    return (get_language() or "").lower().startswith("zh")


class Survey(VersionedModel):
    """A questionnaire. ``after_ticket``: sent when a ticket is resolved (the active one with the lowest id);
    ``segment``: sent by the daily job to customers matching ``audience`` not surveyed within ``interval_days``;
    ``manual``: invitations created by hand or through the API only."""

    class Kind(models.TextChoices):
        AFTER_TICKET = "after_ticket", _("After a resolved ticket")
        SEGMENT = "segment", _("To a segment on a schedule")
        MANUAL = "manual", _("Sent by hand")

    key = models.SlugField(_("key"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=200)
    name_zh_hans = models.CharField(_("name (Chinese)"), max_length=200, blank=True)
    intro = models.TextField(_("introduction"), blank=True)
    intro_zh_hans = models.TextField(_("introduction (Chinese)"), blank=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.MANUAL)
    active = models.BooleanField(_("active"), default=False)
    audience = models.TextField(_("audience"), blank=True, help_text=_("A rule; empty: every customer"))
    interval_days = models.PositiveIntegerField(_("survey a customer at most every N days"), default=90)
    expiry_days = models.PositiveIntegerField(_("link valid for N days"), default=DEFAULT_EXPIRY_DAYS)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("survey")
        verbose_name_plural = _("surveys")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.name_zh_hans if self.name_zh_hans and _chinese() else self.name

    @property
    def display_intro(self) -> str:
        return self.intro_zh_hans if self.intro_zh_hans and _chinese() else self.intro


class Question(models.Model):
    class Kind(models.TextChoices):
        NPS = "nps", _("NPS (0-10)")
        CSAT = "csat", _("CSAT (1-5)")
        CES = "ces", _("CES (1-7)")
        SINGLE = "single", _("Single choice")
        MULTIPLE = "multiple", _("Multiple choice")
        SCALE = "scale", _("Scale")
        TEXT = "text", _("Free text")

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="questions", verbose_name=_("survey"))
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    text = models.CharField(_("question"), max_length=500)
    text_zh_hans = models.CharField(_("question (Chinese)"), max_length=500, blank=True)
    required = models.BooleanField(_("required"), default=True)
    # Choice questions: [{"value": "price", "label": "Price", "label_zh_hans": "价格"}, ...]
    choices = models.JSONField(_("choices"), default=list, blank=True)
    scale_min = models.SmallIntegerField(_("scale from"), default=1)
    scale_max = models.SmallIntegerField(_("scale to"), default=5)
    # Low and high end labels of a scale, in both languages.
    low_label = models.CharField(_("low end label"), max_length=100, blank=True)
    low_label_zh_hans = models.CharField(_("low end label (Chinese)"), max_length=100, blank=True)
    high_label = models.CharField(_("high end label"), max_length=100, blank=True)
    high_label_zh_hans = models.CharField(_("high end label (Chinese)"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        ordering = ["survey", "position", "id"]

    def __str__(self) -> str:
        return self.text

    @property
    def display_text(self) -> str:
        return self.text_zh_hans if self.text_zh_hans and _chinese() else self.text

    @property
    def display_low(self) -> str:
        return self.low_label_zh_hans if self.low_label_zh_hans and _chinese() else self.low_label

    @property
    def display_high(self) -> str:
        return self.high_label_zh_hans if self.high_label_zh_hans and _chinese() else self.high_label

    @property
    def bounds(self) -> tuple[int, int] | None:
        """The allowed range of a numeric question."""
        return {
            self.Kind.NPS: (0, 10),
            self.Kind.CSAT: (1, 5),
            self.Kind.CES: (1, 7),
            self.Kind.SCALE: (self.scale_min, self.scale_max),
        }.get(self.kind)

    def display_choices(self) -> list[tuple[str, str]]:
        zh = _chinese()
        return [
            (c["value"], (c.get("label_zh_hans") if zh else "") or c.get("label") or c["value"]) for c in self.choices
        ]


class Invitation(models.Model):
    """A secret link to answer ``survey`` once. Only the SHA-256 of the token is stored; the token travels in the
    e-mail (or the API answer) only. At most one open invitation per customer and survey."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        ANSWERED = "answered", _("Answered")
        SUPERSEDED = "superseded", _("Replaced by a newer invitation")
        EXPIRED = "expired", _("Expired")

    survey = models.ForeignKey(Survey, on_delete=models.PROTECT, related_name="invitations", verbose_name=_("survey"))
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="survey_invitations", verbose_name=_("customer")
    )
    ticket_id = models.BigIntegerField(_("ticket"), null=True, blank=True, db_index=True)  # TICKET_FK
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    token_digest = models.CharField(max_length=64, unique=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.OPEN)
    language = models.CharField(_("language"), max_length=10, blank=True)
    email = models.CharField(_("sent to"), max_length=254, blank=True)
    sent_at = models.DateTimeField(_("sent at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("survey invitation")
        verbose_name_plural = _("survey invitations")
        ordering = ["-sent_at", "-id"]
        indexes = [
            models.Index(fields=["survey", "customer", "sent_at"]),
            models.Index(fields=["status", "expires_at"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["survey", "customer"], condition=Q(status="open"), name="one_open_invitation_per_survey"
            )
        ]

    def __str__(self) -> str:
        return f"{self.survey_id}/{self.customer_id} {self.status}"

    def is_expired(self, now=None) -> bool:
        return self.status in (self.Status.EXPIRED, self.Status.SUPERSEDED) or (
            self.status == self.Status.OPEN and self.expires_at <= (now or timezone.now())
        )


class Response(models.Model):
    """One customer's answers to one invitation (the one-to-one keeps a second submission out)."""

    invitation = models.OneToOneField(Invitation, on_delete=models.CASCADE, related_name="response")
    survey = models.ForeignKey(Survey, on_delete=models.PROTECT, related_name="responses", verbose_name=_("survey"))
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="survey_responses", verbose_name=_("customer")
    )
    ticket_id = models.BigIntegerField(_("ticket"), null=True, blank=True, db_index=True)  # TICKET_FK
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    answered_at = models.DateTimeField(_("answered at"), default=timezone.now)
    language = models.CharField(_("language"), max_length=10, blank=True)
    nps = models.PositiveSmallIntegerField("NPS", null=True, blank=True)
    csat = models.PositiveSmallIntegerField("CSAT", null=True, blank=True)
    ces = models.PositiveSmallIntegerField("CES", null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    sentiment = models.FloatField(_("sentiment"), null=True, blank=True)
    keywords = models.JSONField(_("keywords"), default=list, blank=True)
    # The customer's classification when they answered.
    segment = models.CharField(_("segment"), max_length=24, blank=True)
    tier = models.CharField(_("ABC tier"), max_length=1, blank=True)
    stage = models.CharField(_("lifecycle stage"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("survey response")
        verbose_name_plural = _("survey responses")
        ordering = ["-answered_at", "-id"]
        indexes = [
            models.Index(fields=["survey", "answered_at"]),
            models.Index(fields=["agent", "answered_at"]),
            models.Index(fields=["team", "answered_at"]),
            models.Index(fields=["customer", "answered_at"]),
            models.Index(fields=["answered_at"]),
        ]

    def __str__(self) -> str:
        return f"response {self.pk}"

    @property
    def is_detractor(self) -> bool:
        from guanxi.surveys.scoring import is_detractor

        return is_detractor(nps=self.nps, csat=self.csat)


class Answer(models.Model):
    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="answers")
    value = models.JSONField()

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        constraints = [models.UniqueConstraint(fields=["response", "question"], name="one_answer_per_question")]

    def __str__(self) -> str:
        return f"{self.response_id}/{self.question_id}"
