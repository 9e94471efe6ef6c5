from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanxi.followups.models import CadencePolicy, FollowUp


class FollowUpForm(forms.Form):
    """A manual follow-up from the customer page."""

    title = forms.CharField(label=gettext_lazy("What to do"), max_length=200)
    due_on = forms.DateField(label=gettext_lazy("Due on"))
    priority = forms.ChoiceField(
        label=gettext_lazy("Priority"), choices=FollowUp.Priority.choices, initial=FollowUp.Priority.NORMAL
    )
    note = forms.CharField(label=gettext_lazy("Note"), required=False, max_length=2000)


class FollowUpEditForm(forms.Form):
    """Reschedule (and, for managers and admins, reassign) an open follow-up."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    title = forms.CharField(label=gettext_lazy("What to do"), max_length=200)
    due_on = forms.DateField(label=gettext_lazy("Due on"), widget=forms.DateInput(attrs={"type": "date"}))
    priority = forms.ChoiceField(label=gettext_lazy("Priority"), choices=FollowUp.Priority.choices)
    note = forms.CharField(
        label=gettext_lazy("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    assignee = forms.ModelChoiceField(label=gettext_lazy("Assignee"), queryset=None, required=False)

    def __init__(self, *args, assignees=None, can_reassign: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if can_reassign and assignees is not None:
            self.fields["assignee"].queryset = assignees
        else:
            del self.fields["assignee"]

    def to_data(self) -> dict:
        data = {name: self.cleaned_data[name] for name in ("title", "due_on", "priority", "note")}
        if "assignee" in self.fields and self.cleaned_data.get("assignee") is not None:
            data["assignee_id"] = self.cleaned_data["assignee"].pk
        return data


class PolicyForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    name = forms.CharField(label=gettext_lazy("Name"), max_length=120)
    name_zh_hans = forms.CharField(label=gettext_lazy("Name (Chinese)"), max_length=120, required=False)
    match_value = forms.CharField(
        label=gettext_lazy("Tier, segment or stage"),
        max_length=50,
        required=False,
        help_text=gettext_lazy("E.g. A for tier A, at_risk for the at-risk stage; empty for all customers."),
    )
    interval_days = forms.IntegerField(
        label=gettext_lazy("Every this many days"), required=False, min_value=1, max_value=3650
    )
    offsets_days = forms.CharField(
        label=gettext_lazy("On these days after the start"),
        required=False,
        max_length=200,
        help_text=gettext_lazy("Whole numbers separated by commas, e.g. 3, 14, 30."),
    )
    active = forms.BooleanField(label=gettext_lazy("Active"), required=False)
    priority = forms.IntegerField(
        label=gettext_lazy("Priority"),
        min_value=0,
        max_value=1000,
        help_text=gettext_lazy("Lower first: a customer matched by several interval policies gets the first."),
    )

    def __init__(self, *args, policy: CadencePolicy, **kwargs):
        super().__init__(*args, **kwargs)
        self.policy = policy
        if policy.kind == CadencePolicy.Kind.INTERVAL:
            del self.fields["offsets_days"]
        else:
            del self.fields["interval_days"]

    @classmethod
    def initial_for(cls, policy: CadencePolicy) -> dict:
        return {
            "version": policy.version,
            "name": policy.name,
            "name_zh_hans": policy.name_zh_hans,
            "match_value": policy.match_value,
            "interval_days": policy.interval_days,
            "offsets_days": ", ".join(str(d) for d in policy.offsets_days or []),
            "active": policy.active,
            "priority": policy.priority,
        }

    def clean_offsets_days(self):
        text = self.cleaned_data.get("offsets_days", "")
        parts = [p.strip() for p in text.replace("，", ",").split(",") if p.strip()]
        try:
            return [int(p) for p in parts]
        except ValueError as exc:
            raise forms.ValidationError(_("Use whole numbers separated by commas, e.g. 3, 14, 30.")) from exc

    def to_data(self) -> dict:
        return {name: value for name, value in self.cleaned_data.items() if name != "version"}
