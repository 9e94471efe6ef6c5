"""Rule-language fields owned by loyalty: ``member_tier`` (tier key) and ``points_balance``.

A customer who never had a membership counts as the lowest tier with 0 points (what ``membership_for`` would
create), so ``points_balance < 100`` and ``member_tier == "standard"`` include them.
"""

from django.db.models import CharField, F, IntegerField, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from guanxi.core.rules import NUMBER, STRING, register_field


def _tier(ctx):
    from guanxi.loyalty.programme import tiers

    return Coalesce(F("membership__tier__key"), Value(tiers()[0].key), output_field=CharField())


def _balance(ctx):
    return Coalesce(F("membership__balance"), Value(0), output_field=IntegerField())


def register_fields() -> None:
    register_field(
        "member_tier",
        type=STRING,
        label=_("Membership tier (key)"),
        expression=_tier,
        examples=("standard", "silver", "gold", "diamond"),
    )
    register_field("points_balance", type=NUMBER, label=_("Points balance"), expression=_balance, examples=(500,))
