"""The customer form. It only parses; the service validates, so the page and the API share one set of rules."""

import re

from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from guanxi.customers.models import Customer, CustomFieldDefinition

_SPLIT = re.compile(r"[\n,;，；]+")


def split_values(text: str) -> list[str]:
    return [part.strip() for part in _SPLIT.split(text or "") if part.strip()]


class CustomerForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=Customer.Kind.choices)
    display_name = forms.CharField(
        label=_("Name"),
        max_length=200,
        required=False,
        help_text=_("Leave empty to use the family and given name."),
    )
    family_name = forms.CharField(label=_("Family name"), max_length=100, required=False)
    given_name = forms.CharField(label=_("Given name"), max_length=100, required=False)
    emails = forms.CharField(
        label=_("E-mails"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("One per line."),
    )
    phones = forms.CharField(
        label=_("Phones"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("One per line, in any common format."),
    )
    wechat_id = forms.CharField(label=_("WeChat ID"), max_length=100, required=False)
    company = forms.CharField(label=_("Company"), max_length=200, required=False)
    industry = forms.CharField(label=_("Industry"), max_length=100, required=False)
    region = forms.CharField(label=_("Region"), max_length=100, required=False)
    address = forms.CharField(label=_("Address"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    source = forms.ChoiceField(label=_("Source"), choices=Customer.Source.choices, initial=Customer.Source.MANUAL)
    tags = forms.CharField(label=_("Tags"), required=False, help_text=_("Separated by commas."))
    profiling_opt_out = forms.BooleanField(
        label=_("Opted out of profiling"),
        required=False,
        help_text=_("No value, churn or segment scores are computed for this customer."),
    )
    owner_id = forms.TypedChoiceField(label=_("Owner"), coerce=int, required=False, empty_value=None)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, definitions: list[CustomFieldDefinition] = (), owners=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.definitions = list(definitions)
        chinese = (get_language() or "").startswith("zh")
        for definition in self.definitions:
            label = definition.label_zh_hans if chinese and definition.label_zh_hans else definition.label
            name = f"cf_{definition.key}"
            if definition.field_type == CustomFieldDefinition.FieldType.CHOICE:
                field = forms.ChoiceField(choices=[("", "—"), *[(c, c) for c in definition.choices]])
            elif definition.field_type == CustomFieldDefinition.FieldType.DATE:
                field = forms.CharField(widget=forms.DateInput(attrs={"type": "date"}))
            elif definition.field_type == CustomFieldDefinition.FieldType.NUMBER:
                field = forms.CharField(widget=forms.NumberInput(attrs={"step": "any"}))
            else:
                field = forms.CharField(max_length=1000)
            field.label, field.required = label, False
            self.fields[name] = field
        if owners is None:
            del self.fields["owner_id"]
        else:
            self.fields["owner_id"].choices = [("", _("— nobody (team pool) —"))] + [(u.pk, str(u)) for u in owners]

    @classmethod
    def initial_for(cls, customer: Customer) -> dict:
        initial = {
            name: getattr(customer, name)
            for name in (
                "kind",
                "display_name",
                "family_name",
                "given_name",
                "wechat_id",
                "company",
                "industry",
                "region",
                "address",
                "source",
                "profiling_opt_out",
                "owner_id",
                "version",
            )
        }
        initial["emails"] = "\n".join(customer.emails)
        initial["phones"] = "\n".join(customer.phones)
        initial["tags"] = ", ".join(t.name for t in customer.tags.all())
        initial.update({f"cf_{k}": v for k, v in customer.custom_fields.items()})
        return initial

    def to_data(self) -> dict:
        """The cleaned form as the service's input (the same shape as the API's)."""
        data = {k: v for k, v in self.cleaned_data.items() if not k.startswith("cf_") and k != "version"}
        for name in ("emails", "phones", "tags"):
            data[name] = split_values(data[name])
        data["custom_fields"] = {d.key: self.cleaned_data.get(f"cf_{d.key}") or None for d in self.definitions}
        data["custom_fields"] = {k: v for k, v in data["custom_fields"].items() if v is not None}
        return data

    def add_service_errors(self, details: dict) -> None:
        """Show a service's per-field errors next to the right inputs."""
        for path, messages in details.items():
            head, _dot, rest = str(path).partition(".")
            name = f"cf_{rest}" if head == "custom_fields" and rest else head
            for message in messages if isinstance(messages, list) else [messages]:
                self.add_error(name if name in self.fields else None, message)
