"""The customer fields of the rule language (guanxi.core.rules), registered from LifecycleConfig.ready().

Registered here rather than by each owning app so that the shared apps stay untouched: customers (profile),
commerce (order facts, computed live from the orders), segments (scores) and lifecycle (stage, funnel).

Score fields are missing (NULL) for customers without a score and for customers who opted out of profiling,
even if an old score row remains: a rule over scores never decides for an opted-out customer.
Day counts are days (fractional) before the rule context's ``now``.
"""

from datetime import timedelta

from django.db.models import Case, Count, DecimalField, F, FloatField, Max, Min, Q, Sum, Value, When
from django.db.models.functions import Cast, Coalesce, NullIf
from django.db.models.lookups import GreaterThanOrEqual
from django.utils.translation import gettext_lazy as _

from guanxi.core.rules import BOOLEAN, NUMBER, SET, STRING, DaysBetween, register_field


def _score(column: str, output_field=None):
    def expression(ctx):
        return Case(
            When(profiling_opt_out=True, then=Value(None)),
            default=F(f"score__{column}"),
            output_field=output_field,
        )

    return expression


def _usual_interval(ctx):
    # Mean days between orders: (last - first) / (orders - 1); NULL with fewer than two orders, and while all
    # orders fall within one day (two orders at once say nothing about how often the customer buys).
    span = DaysBetween(Max("orders__ordered_at"), Min("orders__ordered_at"))
    return Case(
        When(GreaterThanOrEqual(span, 1.0), then=span / NullIf(Cast(Count("orders"), FloatField()) - 1.0, 0.0)),
        default=Value(None),
        output_field=FloatField(),
    )


def _last_order_days(ctx):
    return DaysBetween(Value(ctx.now), Max("orders__ordered_at"))


def register_fields() -> None:
    register_field(
        "kind", type=STRING, label=_("Kind (person or company)"), expression="kind", examples=("person", "company")
    )
    register_field("industry", type=STRING, label=_("Industry"), expression="industry", examples=("retail",))
    register_field("region", type=STRING, label=_("Region"), expression="region", examples=("Shanghai",))
    register_field("source", type=STRING, label=_("Source"), expression="source", examples=("web_form", "import"))
    register_field("tags", type=SET, label=_("Tags"), expression="tags__name", examples=("vip",))
    register_field(
        "owner", type=STRING, label=_("Owner (user name)"), expression="owner__username", examples=("li.wei",)
    )
    register_field("team", type=STRING, label=_("Team name"), expression="team__name", examples=("East",))
    register_field(
        "created_days",
        type=NUMBER,
        label=_("Days since the customer was created"),
        expression=lambda ctx: DaysBetween(Value(ctx.now), F("created_at")),
        examples=(7, 30),
    )
    register_field(
        "orders", type=NUMBER, label=_("Number of orders"), expression=lambda ctx: Count("orders"), examples=(0, 1, 5)
    )
    register_field(
        "orders_12m",
        type=NUMBER,
        label=_("Orders in the last 12 months"),
        expression=lambda ctx: Count("orders", filter=Q(orders__ordered_at__gt=ctx.now - timedelta(days=365))),
        examples=(4,),
    )
    register_field(
        "revenue",
        type=NUMBER,
        label=_("Total order amount"),
        expression=lambda ctx: Coalesce(Sum("orders__amount"), Value(0), output_field=DecimalField()),
        examples=(1000,),
    )
    register_field(
        "first_order_days",
        type=NUMBER,
        label=_("Days since the first order"),
        expression=lambda ctx: DaysBetween(Value(ctx.now), Min("orders__ordered_at")),
        examples=(30,),
    )
    register_field(
        "last_order_days",
        type=NUMBER,
        label=_("Days since the last order"),
        expression=_last_order_days,
        examples=(90, 365),
    )
    register_field(
        "usual_interval_days",
        type=NUMBER,
        label=_("Usual days between orders"),
        expression=_usual_interval,
        examples=(45,),
    )
    register_field(
        "overdue_ratio",
        type=NUMBER,
        label=_("Days since the last order divided by the usual interval"),
        expression=lambda ctx: _last_order_days(ctx) / NullIf(_usual_interval(ctx), 0.0),
        examples=(1.5, 2),
    )
    register_field("tier", type=STRING, label=_("ABC tier"), expression=_score("abc_tier"), examples=("A", "B", "C"))
    register_field(
        "value_tier",
        type=STRING,
        label=_("Value tier"),
        expression=_score("value_tier"),
        examples=("high", "medium", "low"),
    )
    register_field(
        "segment", type=STRING, label=_("RFM segment"), expression=_score("segment"), examples=("champions", "at_risk")
    )
    register_field(
        "needs_segment",
        type=NUMBER,
        label=_("Needs segment number"),
        expression=_score("needs_segment"),
        examples=(0, 1),
    )
    register_field(
        "p_alive", type=NUMBER, label=_("Probability alive (0 to 1)"), expression=_score("p_alive"), examples=(0.5, 0.8)
    )
    register_field(
        "clv", type=NUMBER, label=_("Customer lifetime value, 12 months"), expression=_score("clv"), examples=(500,)
    )
    register_field(
        "churn_risk", type=NUMBER, label=_("Churn risk (0 to 1)"), expression=_score("churn_risk"), examples=(0.7,)
    )
    register_field(
        "expected_purchases_90d",
        type=NUMBER,
        label=_("Expected purchases in the next 90 days"),
        expression=_score("expected_purchases_90d"),
        examples=(1,),
    )
    register_field(
        "profiling_opt_out",
        type=BOOLEAN,
        label=_("Opted out of profiling"),
        expression="profiling_opt_out",
        examples=(True, False),
    )
    register_field(
        "stage",
        type=STRING,
        label=_("Lifecycle stage"),
        expression="lifecycle__stage",
        examples=("new", "active", "at_risk"),
    )
    register_field(
        "days_in_stage",
        type=NUMBER,
        label=_("Days in the current lifecycle stage"),
        expression=lambda ctx: DaysBetween(Value(ctx.now), F("lifecycle__since")),
        examples=(90,),
    )
    register_field(
        "funnel_stage",
        type=STRING,
        label=_("Funnel stage"),
        expression="lifecycle__funnel_stage",
        examples=("consideration", "purchase"),
    )


def _interactions():
    from django.apps import apps

    try:
        return apps.get_model("engagement", "Interaction")
    except LookupError:  # the engagement app is not installed
        return None


def _contacted(ctx):
    from django.db.models import Exists, OuterRef

    interaction = _interactions()
    if interaction is None:
        return Value(False)
    return Exists(interaction._default_manager.filter(customer_id=OuterRef("pk"), occurred_at__lte=ctx.now))


def _contacted_after_purchase(ctx):
    from django.apps import apps
    from django.db.models import Exists, OuterRef

    interaction = _interactions()
    if interaction is None:
        return Value(False)
    order = apps.get_model("commerce", "Order")
    earlier_order = order._default_manager.filter(
        customer_id=OuterRef(OuterRef("pk")), ordered_at__lt=OuterRef("occurred_at")
    )
    return Exists(
        interaction._default_manager.filter(customer_id=OuterRef("pk"), occurred_at__lte=ctx.now).filter(
            Exists(earlier_order)
        )
    )


def register_contact_fields() -> None:
    """Fields over engagement's interactions, used by the funnel (consideration, support)."""
    register_field(
        "contacted", type=BOOLEAN, label=_("Has any logged interaction"), expression=_contacted, examples=(True,)
    )
    register_field(
        "contacted_after_purchase",
        type=BOOLEAN,
        label=_("Has an interaction after their first order"),
        expression=_contacted_after_purchase,
        examples=(True,),
    )
