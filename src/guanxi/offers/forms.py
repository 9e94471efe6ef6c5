"""Page forms: they parse what was typed; the services decide what is valid."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from guanxi.offers.models import Campaign, Offer


class OfferForm(forms.Form):
    key = forms.SlugField(label=_("Key"), max_length=50)
    name = forms.CharField(label=_("Name"), max_length=120)
    name_zh_hans = forms.CharField(label=_("Name (Chinese)"), max_length=120, required=False)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 2}), required=False)
    kind = forms.ChoiceField(label=_("Kind"), choices=Offer.Kind.choices)
    value = forms.DecimalField(label=_("Value (percent, amount or points)"), min_value=0, decimal_places=2)
    currency = forms.CharField(label=_("Currency"), max_length=3, initial="CNY")
    free_item_sku = forms.CharField(label=_("Free item (SKU)"), max_length=64, required=False)
    valid_from = forms.DateTimeField(
        label=_("Valid from"), required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    valid_until = forms.DateTimeField(
        label=_("Valid until"), required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    target_rule = forms.CharField(
        label=_("Target rule"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "spellcheck": "false"}),
        help_text=_('Rule language, e.g. stage == "churned" and tier == "A". Empty: every customer.'),
    )
    per_customer_limit = forms.IntegerField(label=_("Coupons per customer (0: no limit)"), min_value=0, initial=1)
    coupon_valid_days = forms.IntegerField(label=_("Coupon valid for (days)"), min_value=1, initial=30)
    control_share = forms.DecimalField(
        label=_("Control group share (0 to 0.5)"), min_value=0, max_value=Decimal("0.5"), initial=Decimal("0.10")
    )
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    @classmethod
    def initial_for(cls, offer: Offer) -> dict:
        return {name: getattr(offer, name) for name in cls.base_fields if hasattr(offer, name)}

    def to_data(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("version", None)
        return data


class CampaignForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    offer_id = forms.ModelChoiceField(label=_("Offer"), queryset=Offer.objects.filter(active=True).order_by("name"))
    audience_rule = forms.CharField(
        label=_("Audience rule"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "spellcheck": "false"}),
        help_text=_('e.g. stage in ("churned", "at_risk"). Empty: every customer you may change.'),
    )
    control_share = forms.DecimalField(
        label=_("Control group share"), min_value=Decimal("0.01"), max_value=Decimal("0.5"), initial=Decimal("0.10")
    )
    measure_days = forms.IntegerField(label=_("Measure for (days)"), min_value=7, max_value=365, initial=56)
    follow_up_title = forms.CharField(label=_("Follow-up for the owner (optional)"), max_length=200, required=False)

    def to_data(self) -> dict:
        data = dict(self.cleaned_data)
        data["offer_id"] = data["offer_id"].pk
        return data


class IssueForm(forms.Form):
    offer_id = forms.IntegerField(min_value=1)


class RedeemForm(forms.Form):
    code = forms.CharField(label=_("Coupon code"), max_length=20)


__all__ = ["Campaign", "CampaignForm", "IssueForm", "OfferForm", "RedeemForm"]
