"""Scores the analytics engine computes for each customer, written back by ``services.score_customers``."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from guanxi.core.models import AppendOnlyModel


class Segment(models.TextChoices):
    """The RFM segments (keys from guanxi.analytics.rfm)."""

    CHAMPIONS = "champions", _("Champions")
    LOYAL = "loyal", _("Loyal")
    POTENTIAL_LOYALIST = "potential_loyalist", _("Potential loyalist")
    NEW = "new", _("New")
    PROMISING = "promising", _("Promising")
    NEED_ATTENTION = "need_attention", _("Need attention")
    ABOUT_TO_SLEEP = "about_to_sleep", _("About to sleep")
    AT_RISK = "at_risk", _("At risk")
    CANT_LOSE_THEM = "cant_lose_them", _("Can't lose them")
    HIBERNATING = "hibernating", _("Hibernating")
    LOST = "lost", _("Lost")


class AbcTier(models.TextChoices):
    A = "A", _("A: the top customers who make up 80 percent of revenue")
    B = "B", _("B: the next 15 percent of revenue")
    C = "C", _("C: the rest")


class ValueTier(models.TextChoices):
    HIGH = "high", _("High value")
    MEDIUM = "medium", _("Medium value")
    LOW = "low", _("Low value")


class ScoreRun(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running", _("running")
        SUCCEEDED = "succeeded", _("succeeded")
        FAILED = "failed", _("failed")

    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    as_of = models.DateField(_("as of"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.RUNNING)
    customers_scored = models.PositiveIntegerField(_("customers scored"), default=0)
    customers_skipped = models.PositiveIntegerField(_("customers skipped (opted out)"), default=0)
    parameters = models.JSONField(_("model parameters"), default=dict, blank=True)
    segment_counts = models.JSONField(default=dict, blank=True)
    tier_counts = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("scoring run")
        verbose_name_plural = _("scoring runs")
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.as_of} ({self.status})"


class ScoreFields(models.Model):
    """The values one scoring run computes for one customer."""

    as_of = models.DateField(_("as of"))
    order_count = models.PositiveIntegerField(_("orders"), default=0)
    revenue = models.DecimalField(_("revenue"), max_digits=16, decimal_places=2, default=0)
    frequency = models.PositiveIntegerField(_("repeat purchases"), default=0)
    recency_days = models.FloatField(_("days from first to last purchase"), default=0)
    tenure_days = models.FloatField(_("days since first purchase"), default=0)
    days_since_last = models.FloatField(_("days since last purchase"), default=0)
    monetary = models.FloatField(_("average repeat purchase"), default=0)
    rfm_r = models.PositiveSmallIntegerField("R", default=0)
    rfm_f = models.PositiveSmallIntegerField("F", default=0)
    rfm_m = models.PositiveSmallIntegerField("M", default=0)
    segment = models.CharField(_("segment"), max_length=24, choices=Segment.choices, db_index=True)
    abc_tier = models.CharField(_("ABC tier"), max_length=1, choices=AbcTier.choices, db_index=True)
    value_tier = models.CharField(_("value tier"), max_length=8, choices=ValueTier.choices, db_index=True)
    p_alive = models.FloatField(_("probability alive"))
    expected_purchases_90d = models.FloatField(_("expected purchases, next 90 days"))
    expected_spend = models.FloatField(_("expected spend per purchase"))
    clv = models.DecimalField(_("customer lifetime value, 12 months"), max_digits=16, decimal_places=2)
    churn_risk = models.FloatField(_("churn risk"), null=True, blank=True)
    churn_reasons = models.JSONField(_("churn reasons"), default=list, blank=True)
    needs_segment = models.PositiveSmallIntegerField(_("needs segment"), null=True, blank=True)

    class Meta:
        abstract = True


class CustomerScore(ScoreFields):
    """A customer's current scores (one row per scored customer)."""

    customer = models.OneToOneField(
        "customers.Customer", on_delete=models.CASCADE, primary_key=True, related_name="score"
    )
    run = models.ForeignKey(ScoreRun, on_delete=models.PROTECT, related_name="+")
    scored_at = models.DateTimeField(_("scored at"))
    # Expected purchases and revenue in forecast months 1..12 after ``as_of`` (guanxi.analytics.forecast).
    forecast_purchases = models.JSONField(_("forecast purchases per month"), default=list, blank=True)
    forecast_revenue = models.JSONField(_("forecast revenue per month"), default=list, blank=True)

    class Meta:
        verbose_name = _("customer score")
        verbose_name_plural = _("customer scores")

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.segment}/{self.abc_tier}"


class CustomerScoreHistory(AppendOnlyModel, ScoreFields):
    """Every run's values for every customer it scored, dated, for trends and segment movement."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="score_history")
    run = models.ForeignKey(ScoreRun, on_delete=models.CASCADE, related_name="history")

    class Meta:
        verbose_name = _("customer score history")
        verbose_name_plural = _("customer score history")
        constraints = [models.UniqueConstraint(fields=["run", "customer"], name="one_history_row_per_run")]
        indexes = [models.Index(fields=["customer", "as_of"])]

    def __str__(self) -> str:
        return f"{self.customer_id} @ {self.as_of}"


class NeedsProfile(models.Model):
    """One needs-based segment of a run (guanxi.analytics.needs): its size, readable label and feature averages."""

    run = models.ForeignKey(ScoreRun, on_delete=models.CASCADE, related_name="needs_profiles")
    segment = models.PositiveSmallIntegerField(_("needs segment"))
    customers = models.PositiveIntegerField(_("customers"))
    share = models.FloatField(_("share of customers"))
    label_en = models.CharField(_("label (English)"), max_length=200)
    label_zh = models.CharField(_("label (Chinese)"), max_length=200)
    means = models.JSONField(_("feature averages"), default=dict)
    z_scores = models.JSONField(_("feature z-scores"), default=dict)

    class Meta:
        verbose_name = _("needs segment profile")
        verbose_name_plural = _("needs segment profiles")
        ordering = ["run", "segment"]
        constraints = [models.UniqueConstraint(fields=["run", "segment"], name="one_needs_profile_per_segment")]

    def __str__(self) -> str:
        return self.label_en

    def label(self, chinese: bool) -> str:
        return self.label_zh if chinese else self.label_en


class Recommendation(models.Model):
    """A product a customer is likely to buy next (guanxi.analytics.recommend), replaced by every scoring run."""

    class Source(models.TextChoices):
        SIMILAR = "similar", _("bought together by other customers")
        POPULAR = "popular", _("popular")

    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="recommendations")
    run = models.ForeignKey(ScoreRun, on_delete=models.CASCADE, related_name="recommendations")
    rank = models.PositiveSmallIntegerField(_("rank"))
    product = models.ForeignKey("commerce.Product", on_delete=models.CASCADE, related_name="+")
    score = models.FloatField(_("score"))
    source = models.CharField(_("source"), max_length=8, choices=Source.choices)
    because_of = models.ForeignKey(
        "commerce.Product", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("recommendation")
        verbose_name_plural = _("recommendations")
        ordering = ["customer", "rank"]
        constraints = [models.UniqueConstraint(fields=["customer", "rank"], name="one_recommendation_per_rank")]

    def __str__(self) -> str:
        return f"{self.customer_id} #{self.rank}: {self.product_id}"


class ForecastSnapshot(models.Model):
    """A run's forecast totals for one group and month, kept so later runs can set them against what happened.

    ``grouping`` is "total" (group "") or the customer attribute grouped by; customers with no value form the
    group "".
    """

    class Grouping(models.TextChoices):
        TOTAL = "total", _("all customers")
        SEGMENT = "segment", _("segment")
        TIER = "abc_tier", _("tier")
        INDUSTRY = "industry", _("industry")
        REGION = "region", _("region")

    run = models.ForeignKey(ScoreRun, on_delete=models.CASCADE, related_name="forecasts")
    grouping = models.CharField(_("grouping"), max_length=10, choices=Grouping.choices)
    group = models.CharField(_("group"), max_length=100, blank=True)
    month = models.PositiveSmallIntegerField(_("month"))
    month_end = models.DateField(_("month ends on"))
    customers = models.PositiveIntegerField(_("customers"))
    purchases = models.FloatField(_("expected purchases"))
    revenue = models.FloatField(_("expected revenue"))

    class Meta:
        verbose_name = _("forecast snapshot")
        verbose_name_plural = _("forecast snapshots")
        ordering = ["run", "grouping", "group", "month"]
        constraints = [
            models.UniqueConstraint(fields=["run", "grouping", "group", "month"], name="one_forecast_per_group_month")
        ]

    def __str__(self) -> str:
        return f"{self.run_id} {self.grouping}={self.group} m{self.month}"
