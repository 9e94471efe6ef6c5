"""The offers' rule field: ``open_coupons``, the customer's coupons still usable now (issued, not expired)."""

from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from guanxi.core.rules import NUMBER, RuleContext, register_field


def _open_coupons(ctx: RuleContext):
    from guanxi.offers.models import Coupon

    counted = (
        Coupon.objects.filter(customer_id=OuterRef("pk"), status=Coupon.Status.ISSUED, expires_at__gt=ctx.now)
        .order_by()
        .values("customer_id")
        .annotate(n=Count("pk"))
        .values("n")[:1]
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def register_fields() -> None:
    register_field(
        "open_coupons",
        type=NUMBER,
        label=_("Usable coupons (issued, not expired)"),
        expression=_open_coupons,
        examples=(0, 1),
    )
