import json

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanxi.automation import triggers
from guanxi.automation.models import EmailTemplate, Rule


class RuleForm(forms.Form):
    """The rule page. Actions are edited as JSON (a list of objects with a ``type``), checked by the service."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    name_zh_hans = forms.CharField(label=gettext_lazy("Name (Chinese)"), max_length=200, required=False)
    description = forms.CharField(
        label=gettext_lazy("Description"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    trigger = forms.ChoiceField(label=gettext_lazy("Trigger"))
    condition = forms.CharField(
        label=gettext_lazy("Condition"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "class": "mono"}),
        help_text=gettext_lazy('For example: tier == "A" and p_alive < 0.5. Empty: every customer.'),
    )
    actions = forms.CharField(
        label=gettext_lazy("Actions (JSON)"),
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false", "class": "mono"}),
        help_text=gettext_lazy('A list such as [{"type": "create_follow_up", "title": "Call", "due_in_days": 3}].'),
    )
    active = forms.BooleanField(label=gettext_lazy("Active"), required=False)
    position = forms.IntegerField(label=gettext_lazy("Position"), min_value=0, max_value=10_000)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["trigger"].choices = [(key, str(label)) for key, label in triggers.choices()]

    @classmethod
    def initial_for(cls, rule: Rule | None) -> dict:
        if rule is None:
            return {"active": True, "position": 100, "actions": "[]"}
        return {
            "version": rule.version,
            "name": rule.name,
            "name_zh_hans": rule.name_zh_hans,
            "description": rule.description,
            "trigger": rule.trigger,
            "condition": rule.condition,
            "actions": json.dumps(rule.actions, ensure_ascii=False, indent=2),
            "active": rule.active,
            "position": rule.position,
        }

    def clean_actions(self):
        try:
            value = json.loads(self.cleaned_data["actions"])
        except ValueError as exc:
            raise forms.ValidationError(_("Not valid JSON: %(problem)s") % {"problem": exc}) from exc
        if not isinstance(value, list):
            raise forms.ValidationError(_("A list of actions, in square brackets."))
        return value

    def to_data(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if k != "version"}


class TemplateForm(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)

    class Meta:
        model = EmailTemplate
        fields = ["key", "name", "subject_en", "body_en", "subject_zh_hans", "body_zh_hans"]
        widgets = {"body_en": forms.Textarea(attrs={"rows": 8}), "body_zh_hans": forms.Textarea(attrs={"rows": 8})}

    def validate_unique(self):
        """The service checks the key (and everything else) in its transaction."""

    def to_data(self) -> dict:
        return {name: self.cleaned_data.get(name) or "" for name in self.Meta.fields}
