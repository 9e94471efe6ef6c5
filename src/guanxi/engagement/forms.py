from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.engagement.models import Interaction


class InteractionForm(forms.Form):
    """The quick-log form on the customer page. Files come from ``request.FILES.getlist("attachments")``."""

    channel = forms.ChoiceField(label=_("Channel"), choices=Interaction.Channel.choices)
    direction = forms.ChoiceField(
        label=_("Direction"), choices=Interaction.Direction.choices, initial=Interaction.Direction.OUTBOUND
    )
    subject = forms.CharField(label=_("Subject"), max_length=300, required=False)
    body = forms.CharField(
        label=_("Notes"),
        required=False,
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Write @username to notify a colleague."),
    )
    outcome = forms.CharField(label=_("Outcome"), max_length=300, required=False)
    duration_minutes = forms.IntegerField(label=_("Duration (minutes)"), required=False, min_value=0, max_value=10080)
    occurred_at = forms.DateTimeField(
        label=_("When"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("Empty: now"),
    )
    follow_up = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["subject"].widget.attrs.update({"autofocus": True, "data-testid": "interaction-subject"})
        self.fields["body"].widget.attrs["data-testid"] = "interaction-body"
        self.fields["channel"].widget.attrs["data-testid"] = "interaction-channel"

    def to_service_kwargs(self) -> dict:
        data = self.cleaned_data
        minutes = data.get("duration_minutes")
        occurred_at = data.get("occurred_at")
        return {
            "channel": data["channel"],
            "direction": data["direction"],
            "subject": data["subject"],
            "body": data["body"],
            "outcome": data["outcome"],
            "duration_seconds": minutes * 60 if minutes is not None else None,
            "occurred_at": occurred_at or timezone.now(),
            "follow_up_id": data.get("follow_up"),
        }


class InteractionEditForm(InteractionForm):
    """Changing one's own interaction from the timeline; ``version`` is the one the form was rendered from."""

    version = forms.IntegerField(min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["follow_up"]
        self.fields["subject"].widget.attrs["data-testid"] = "edit-subject"
        self.fields["body"].widget.attrs.pop("data-testid", None)
        self.fields["channel"].widget.attrs.pop("data-testid", None)

    @classmethod
    def initial_for(cls, interaction) -> dict:
        return {
            "channel": interaction.channel,
            "direction": interaction.direction,
            "subject": interaction.subject,
            "body": interaction.body,
            "outcome": interaction.outcome,
            "duration_minutes": interaction.duration_minutes,
            "occurred_at": timezone.localtime(interaction.occurred_at),
            "version": interaction.version,
        }

    def to_data(self, interaction) -> dict:
        """The changed values for ``services.update_interaction``. The time keeps its seconds unless edited (the
        input shows minutes only); an emptied time stays as it was."""
        data = self.to_service_kwargs()
        data.pop("follow_up_id")
        shown = timezone.localtime(interaction.occurred_at).replace(second=0, microsecond=0)
        if not self.cleaned_data.get("occurred_at") or self.cleaned_data["occurred_at"] == shown:
            data.pop("occurred_at")
        return data
