from django import forms
from django.utils.translation import gettext_lazy

from guanxi.tickets.models import TicketCategory


class PeriodForm(forms.Form):
    since = forms.DateField(label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=gettext_lazy("to"), required=False, widget=forms.DateInput(attrs={"type": "date"}))


class TrainingForm(forms.Form):
    agent_id = forms.TypedChoiceField(label=gettext_lazy("Agent"), coerce=int)
    topic = forms.CharField(label=gettext_lazy("Topic"), max_length=200)
    category = forms.ChoiceField(label=gettext_lazy("Ticket category"), required=False)
    held_on = forms.DateField(label=gettext_lazy("Held on"), widget=forms.DateInput(attrs={"type": "date"}))
    trainer_id = forms.TypedChoiceField(label=gettext_lazy("Trainer"), coerce=int, required=False, empty_value=None)
    notes = forms.CharField(label=gettext_lazy("Notes"), required=False, max_length=4000, widget=forms.Textarea(
        attrs={"rows": 2}))  # fmt: skip

    def __init__(self, *args, agents=(), trainers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agent_id"].choices = [(a.pk, str(a)) for a in agents]
        self.fields["trainer_id"].choices = [("", "—")] + [(t.pk, str(t)) for t in trainers]
        self.fields["category"].choices = [("", "—")] + [
            (c.key, c.display_name) for c in TicketCategory.objects.filter(active=True)
        ]
