from django import forms
from django.utils.translation import gettext_lazy


class EndpointForm(forms.Form):
    """The endpoint page. Event types: one per line or comma-separated (``order.placed``, ``customer.*``, ``*``)."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, required=False)
    url = forms.CharField(label=gettext_lazy("URL"), max_length=500, widget=forms.URLInput(attrs={"size": 60}))
    description = forms.CharField(label=gettext_lazy("Description"), max_length=200, required=False)
    event_types = forms.CharField(
        label=gettext_lazy("Event types"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy(
            "One per line or separated by commas: an exact type (order.placed), a prefix (customer.*) or * for all."
        ),
    )
    active = forms.BooleanField(label=gettext_lazy("Active"), required=False, initial=True)
    allow_private = forms.BooleanField(
        label=gettext_lazy("Allow private addresses"),
        required=False,
        help_text=gettext_lazy(
            "Let this endpoint reach loopback and private-network addresses. Only for receivers you trust: "
            "otherwise a webhook could probe your internal network."
        ),
    )

    def cleaned_event_types(self) -> list[str]:
        return [
            part.strip() for part in self.cleaned_data["event_types"].replace(",", "\n").splitlines() if part.strip()
        ]
