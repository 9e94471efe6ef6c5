from django.conf import settings
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from guanxi.core.locking import VersionedModel


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=50, unique=True)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CustomFieldDefinition(models.Model):
    """An admin-defined extra field on customers; values live in ``Customer.custom_fields`` under ``key``."""

    class FieldType(models.TextChoices):
        TEXT = "text", _("Text")
        NUMBER = "number", _("Number")
        DATE = "date", _("Date")
        CHOICE = "choice", _("Choice")

    key = models.SlugField(_("key"), max_length=50, unique=True)
    label = models.CharField(_("label"), max_length=100)
    label_zh_hans = models.CharField(_("label (Chinese)"), max_length=100, blank=True)
    field_type = models.CharField(_("type"), max_length=10, choices=FieldType.choices, default=FieldType.TEXT)
    choices = models.JSONField(_("choices"), default=list, blank=True, help_text=_("Allowed values for a choice field"))
    required = models.BooleanField(_("required"), default=False)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("custom field")
        verbose_name_plural = _("custom fields")
        ordering = ["key"]

    def __str__(self) -> str:
        return self.key

    @property
    def display_label(self) -> str:
        """The label in the active language (the Chinese one when set and the page is in Chinese)."""
        if self.label_zh_hans and (get_language() or "").lower().startswith("zh"):
            return self.label_zh_hans
        return self.label


class Customer(VersionedModel):
    class Kind(models.TextChoices):
        PERSON = "person", _("Person")
        COMPANY = "company", _("Company")

    class Source(models.TextChoices):
        MANUAL = "manual", _("Entered by hand")
        IMPORT = "import", _("Import")
        API = "api", _("API")
        WEB_FORM = "web_form", _("Web form")
        PHONE = "phone", _("Phone")
        EMAIL = "email", _("E-mail")
        WECHAT = "wechat", _("WeChat")
        SOCIAL = "social", _("Social media")
        REFERRAL = "referral", _("Referral")
        EVENT = "event", _("Event or trade show")
        STORE = "store", _("Store")
        OTHER = "other", _("Other")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.PERSON)
    display_name = models.CharField(_("name"), max_length=200)
    given_name = models.CharField(_("given name"), max_length=100, blank=True)
    family_name = models.CharField(_("family name"), max_length=100, blank=True)
    emails = models.JSONField(_("e-mails"), default=list, blank=True)
    phones = models.JSONField(_("phones"), default=list, blank=True)
    wechat_id = models.CharField(_("WeChat ID"), max_length=100, blank=True)
    company = models.CharField(_("company"), max_length=200, blank=True)
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    region = models.CharField(_("region"), max_length=100, blank=True)
    address = models.TextField(_("address"), blank=True)
    source = models.CharField(_("source"), max_length=20, choices=Source.choices, default=Source.MANUAL)
    tags = models.ManyToManyField(Tag, blank=True, related_name="customers", verbose_name=_("tags"))
    custom_fields = models.JSONField(_("custom fields"), default=dict, blank=True)
    profiling_opt_out = models.BooleanField(
        _("opted out of profiling"),
        default=False,
        help_text=_("No value, churn or segment scores are computed for this customer."),
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="owned_customers",
        verbose_name=_("owner"),
    )
    team = models.ForeignKey(
        "accounts.Team",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="customers",
        verbose_name=_("team"),
    )
    # Lower-cased name, e-mails, phones, company and WeChat ID, kept by the service for substring search
    # (a trigram GIN index on PostgreSQL, see migration 0002).
    search_text = models.TextField(editable=False, default="")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True, db_index=True)
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_from",
        verbose_name=_("merged into"),
    )

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["owner", "deleted_at"]),
            models.Index(fields=["team", "deleted_at"]),
        ]

    def __str__(self) -> str:
        return self.display_name


class CustomerShare(models.Model):
    """A customer that its owner (or a manager) shared with a colleague, who may then see and edit it."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="shares")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="shared_customers")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("customer share")
        verbose_name_plural = _("customer shares")
        constraints = [models.UniqueConstraint(fields=["customer", "user"], name="unique_customer_share")]

    def __str__(self) -> str:
        return f"{self.customer} → {self.user}"


class Identity(models.Model):
    """One way of recognising a customer: an e-mail, a phone, a WeChat ID or another system's id.

    Values are normalised (e-mail lower-case, phone E.164, external ``"<system>:<id>"``). A (kind, value) pair
    belongs to at most one live customer: the partial unique constraint covers identities that are not
    released, and deleting a customer releases its identities (``released_at``) so that a new customer may
    take them. The service keeps these rows in sync with ``emails``, ``phones`` and ``wechat_id``.
    """

    class Kind(models.TextChoices):
        EMAIL = "email", _("E-mail")
        PHONE = "phone", _("Phone")
        WECHAT = "wechat", _("WeChat ID")
        EXTERNAL = "external", _("External system id")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="identities")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    value = models.CharField(_("value"), max_length=255)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)

    class Meta:
        verbose_name = _("identity")
        verbose_name_plural = _("identities")
        ordering = ["kind", "value"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "value"],
                condition=models.Q(released_at__isnull=True),
                name="identity_one_live_owner",
            )
        ]
        indexes = [models.Index(fields=["customer", "kind"])]

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


class DuplicateCandidate(models.Model):
    """A pair of customers that may be the same person, found by ``duplicates.find_duplicates`` (Splink) or
    by an identity collision. Stored once per pair, lower id first; a dismissed pair stays dismissed."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DISMISSED = "dismissed", _("Dismissed")
        MERGED = "merged", _("Merged")

    class Source(models.TextChoices):
        SPLINK = "splink", _("Probabilistic match")
        IDENTITY = "identity", _("Shared identity")

    customer_a = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    customer_b = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    probability = models.FloatField(_("match probability"))
    matched_fields = models.JSONField(_("matched fields"), default=list, blank=True)
    source = models.CharField(_("found by"), max_length=10, choices=Source.choices, default=Source.SPLINK)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("duplicate candidate")
        verbose_name_plural = _("duplicate candidates")
        ordering = ["-probability", "id"]
        constraints = [
            models.UniqueConstraint(fields=["customer_a", "customer_b"], name="duplicate_pair_once"),
            models.CheckConstraint(
                condition=models.Q(customer_a__lt=models.F("customer_b")), name="duplicate_pair_ordered"
            ),
        ]
        indexes = [models.Index(fields=["status", "-probability"])]

    def __str__(self) -> str:
        return f"{self.customer_a_id} ~ {self.customer_b_id} ({self.probability:.2f})"


class MergeRecord(models.Model):
    """One merge of ``loser`` into ``survivor``, with everything ``undo_merge`` needs to restore both exactly:
    the survivor's and the loser's field values before, the ids of the related rows moved per model, and the
    rows removed (serialised) where the survivor already had an equivalent one."""

    survivor = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="merges_survived")
    loser = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="merges_lost")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    field_choices = models.JSONField(_("field choices"), default=dict, blank=True)
    survivor_before = models.JSONField(default=dict)
    loser_before = models.JSONField(default=dict)
    survivor_version_after = models.PositiveIntegerField()
    moved = models.JSONField(default=dict)
    removed = models.JSONField(default=dict)
    candidate_before = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(_("merged at"), auto_now_add=True, db_index=True)
    undone_at = models.DateTimeField(_("undone at"), null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("merge")
        verbose_name_plural = _("merges")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.loser_id} → {self.survivor_id}"
