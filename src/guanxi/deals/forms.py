from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy

from guanxi.core import access
from guanxi.deals import selectors

CUSTOMER_CHOICES_LIMIT = 500


class DealForm(forms.Form):
    """A new deal (with its customer), or the edit form of the deal page (with ``version``)."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, required=False)
    customer_id = forms.TypedChoiceField(label=gettext_lazy("Customer"), coerce=int)
    title = forms.CharField(label=gettext_lazy("Title"), max_length=200)
    value = forms.DecimalField(label=gettext_lazy("Value"), min_value=0, max_digits=14, decimal_places=2)
    currency = forms.CharField(label=gettext_lazy("Currency"), min_length=3, max_length=3)
    probability = forms.IntegerField(
        label=gettext_lazy("Probability (%)"),
        min_value=0,
        max_value=100,
        required=False,
        help_text=gettext_lazy("Empty: the stage's probability."),
    )
    expected_close = forms.DateField(
        label=gettext_lazy("Expected close date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    owner_id = forms.TypedChoiceField(label=gettext_lazy("Owner"), coerce=int, required=False)

    def __init__(self, *args, user, deal=None, customer=None, **kwargs):
        if deal is not None:
            kwargs.setdefault(
                "initial",
                {
                    "version": deal.version,
                    "title": deal.title,
                    "value": deal.value,
                    "currency": deal.currency,
                    "probability": deal.probability,
                    "expected_close": deal.expected_close,
                    "owner_id": deal.owner_id,
                },
            )
        else:
            kwargs.setdefault("initial", {"currency": settings.GUANXI_DEFAULT_CURRENCY})
        super().__init__(*args, **kwargs)
        self.deal = deal
        if deal is not None or customer is not None:
            del self.fields["customer_id"]
        else:
            customers = access.editable_customers(user).order_by("display_name")[:CUSTOMER_CHOICES_LIMIT]
            self.fields["customer_id"].choices = [(c.pk, c.display_name) for c in customers]
        self.customer = customer
        if access.can_assign_owner(user):
            self.fields["owner_id"].choices = [("", "—")] + [
                (u.pk, u.get_full_name() or u.get_username()) for u in selectors.owner_choices(user)
            ]
        else:
            del self.fields["owner_id"]
        if deal is None:
            del self.fields["version"]
        else:
            self.fields["version"].required = True

    def to_data(self) -> dict:
        data = {
            name: self.cleaned_data[name]
            for name in ("title", "value", "currency", "probability", "expected_close")
            if name in self.cleaned_data
        }
        if data.get("probability") is None:
            if self.deal is None:
                data.pop("probability", None)
            else:
                data["probability"] = self.deal.probability
        if self.cleaned_data.get("owner_id"):
            data["owner_id"] = self.cleaned_data["owner_id"]
        if self.deal is None:
            data["customer_id"] = self.customer.pk if self.customer else self.cleaned_data["customer_id"]
        return data


class StageForm(forms.Form):
    key = forms.SlugField(label=gettext_lazy("Key"), max_length=32, required=False)
    name = forms.CharField(label=gettext_lazy("Name"), max_length=120)
    name_zh_hans = forms.CharField(label=gettext_lazy("Name (Chinese)"), max_length=120, required=False)
    order = forms.IntegerField(label=gettext_lazy("Position"), min_value=0, max_value=32767)
    probability = forms.IntegerField(label=gettext_lazy("Probability (%)"), min_value=0, max_value=100)
