from django.conf import settings
from django.db import models
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
