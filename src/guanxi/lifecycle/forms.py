from django import forms
from django.utils.translation import gettext_lazy

from guanxi.core import rules


class StageDefinitionForm(forms.Form):
    """Create or edit a stage. The rule is checked by the service (the parser's message lands on the field)."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, required=False)
    key = forms.SlugField(label=gettext_lazy("Key"), max_length=32)
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    name_zh_hans = forms.CharField(label=gettext_lazy("Name (Chinese)"), max_length=100, required=False)
    rule = forms.CharField(
        label=gettext_lazy("Rule"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "class": "mono"}),
        help_text=gettext_lazy('A condition, e.g. orders_12m >= 4 and p_alive >= 0.8 or tier == "A".'),
    )
    position = forms.IntegerField(
        label=gettext_lazy("Position"),
        min_value=0,
        max_value=32767,
        help_text=gettext_lazy("Lower first: a customer is in the first active stage whose rule matches."),
    )
    playbook = forms.CharField(
        label=gettext_lazy("Playbook"), required=False, max_length=10000, widget=forms.Textarea(attrs={"rows": 4})
    )
    active = forms.BooleanField(label=gettext_lazy("Active"), required=False)

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            self.fields["key"].disabled = True

    @staticmethod
    def initial_for(definition) -> dict:
        return {
            name: getattr(definition, name)
            for name in ("version", "key", "name", "name_zh_hans", "rule", "position", "playbook", "active")
        }

    @staticmethod
    def field_help() -> list:
        return rules.known_fields()
