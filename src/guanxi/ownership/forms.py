from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanxi.accounts.models import User
from guanxi.ownership.models import PoolRule


class PoolRuleForm(forms.Form):
    """The team rules page. Territories are one per line: ``region | industry | username`` (blank = any)."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    assignment = forms.ChoiceField(
        label=gettext_lazy("Automatic assignment of new customers"), choices=PoolRule.Assignment.choices
    )
    territories = forms.CharField(
        label=gettext_lazy("Territories"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy(
            "One per line: region | industry | username. Leave region or industry empty to match any."
        ),
    )
    daily_claim_quota = forms.IntegerField(
        label=gettext_lazy("Daily claim quota"), required=False, min_value=0, max_value=100_000
    )
    holding_cap = forms.IntegerField(label=gettext_lazy("Holding cap"), required=False, min_value=0, max_value=100_000)
    release_after_days = forms.IntegerField(
        label=gettext_lazy("Release to the pool after this many days without activity"),
        required=False,
        min_value=1,
        max_value=100_000,
    )
    warning_days = forms.IntegerField(label=gettext_lazy("Warn this many days before"), min_value=0, max_value=100_000)
    protection_days = forms.IntegerField(
        label=gettext_lazy("Protection days after a claim"), min_value=0, max_value=100_000
    )

    def __init__(self, *args, members=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.members = {u.username: u for u in members}

    @classmethod
    def initial_for(cls, rule: PoolRule, usernames: dict[int, str]) -> dict:
        lines = [
            f"{t.get('region', '')} | {t.get('industry', '')} | {usernames.get(t.get('user_id'), t.get('user_id'))}"
            for t in rule.territories or []
        ]
        return {
            "version": rule.version,
            "assignment": rule.assignment,
            "territories": "\n".join(lines),
            "daily_claim_quota": rule.daily_claim_quota,
            "holding_cap": rule.holding_cap,
            "release_after_days": rule.release_after_days,
            "warning_days": rule.warning_days,
            "protection_days": rule.protection_days,
        }

    def clean_territories(self):
        territories = []
        for number, line in enumerate((self.cleaned_data.get("territories") or "").splitlines(), start=1):
            if not line.strip():
                continue
            parts = [p.strip() for p in line.split("|")]
            if len(parts) != 3:
                raise forms.ValidationError(_("Line %(n)s: write region | industry | username.") % {"n": number})
            user: User | None = self.members.get(parts[2])
            if user is None:
                raise forms.ValidationError(
                    _("Line %(n)s: %(name)s is not an active member of this team.") % {"n": number, "name": parts[2]}
                )
            territories.append({"region": parts[0], "industry": parts[1], "user_id": user.pk})
        return territories

    def to_data(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if k != "version"}


class TransferForm(forms.Form):
    to_user = forms.ModelChoiceField(label=gettext_lazy("Transfer to"), queryset=User.objects.none())
    reason = forms.CharField(
        label=gettext_lazy("Reason"), required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, candidates=None, **kwargs):
        super().__init__(*args, **kwargs)
        if candidates is not None:
            self.fields["to_user"].queryset = candidates
