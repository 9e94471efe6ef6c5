"""The four standard tiers (普通/白银/黄金/钻石) and the programme's settings row. Names are editable later.

Entry rule per tier: points earned in the rolling window >= min_points OR spend in the window >= min_spend.
"""

from decimal import Decimal

from django.db import migrations

# (key, name, name_zh_hans, rank, min_points, min_spend, multiplier, discount_percent, benefits, benefits_zh_hans)
DEFAULTS = [
    ("standard", "Standard", "普通", 0, 0, "0", "1.00", "0", "Earn points on every order.", "每笔订单累积积分。"),
    (
        "silver",
        "Silver",
        "白银",
        1,
        3000,
        "5000",
        "1.10",
        "2",
        "10% more points, 2% member discount.",
        "积分加赠 10%，会员折扣 2%。",
    ),
    (
        "gold",
        "Gold",
        "黄金",
        2,
        10000,
        "15000",
        "1.25",
        "5",
        "25% more points, 5% member discount, priority service.",
        "积分加赠 25%，会员折扣 5%，优先服务。",
    ),
    (
        "diamond",
        "Diamond",
        "钻石",
        3,
        30000,
        "40000",
        "1.50",
        "8",
        "50% more points, 8% member discount, a personal account manager.",
        "积分加赠 50%，会员折扣 8%，专属客户经理。",
    ),
]


def create_defaults(apps, schema_editor):
    MembershipTier = apps.get_model("loyalty", "MembershipTier")
    Programme = apps.get_model("loyalty", "Programme")
    for key, name, name_zh, rank, min_points, min_spend, multiplier, discount, benefits, benefits_zh in DEFAULTS:
        MembershipTier.objects.get_or_create(
            key=key,
            defaults={
                "name": name,
                "name_zh_hans": name_zh,
                "rank": rank,
                "min_points": min_points,
                "min_spend": Decimal(min_spend),
                "multiplier": Decimal(multiplier),
                "discount_percent": Decimal(discount),
                "benefits": benefits,
                "benefits_zh_hans": benefits_zh,
            },
        )
    if not Programme.objects.exists():
        Programme.objects.create()


def remove_defaults(apps, schema_editor):
    apps.get_model("loyalty", "Programme").objects.all().delete()
    apps.get_model("loyalty", "MembershipTier").objects.filter(key__in=[row[0] for row in DEFAULTS]).delete()


class Migration(migrations.Migration):
    dependencies = [("loyalty", "0001_initial")]

    operations = [migrations.RunPython(create_defaults, remove_defaults)]
