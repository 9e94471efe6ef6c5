"""The default offers and their playbooks (issue 7): welcome coupon for new customers, win-back offer for churned
customers (with a 10% control group), birthday bonus points (a daily job, not a rule), and a gift on a tier
upgrade. Created once: running it again, or after an admin edited an offer or a playbook, changes nothing."""

from decimal import Decimal

from django.db import migrations

OFFERS = [
    {
        "key": "welcome",
        "name": "Welcome coupon: 10% off the second order",
        "name_zh_hans": "新客欢迎券：第二单九折",
        "description": "For customers who just placed their first order, to bring them back for a second.",
        "kind": "percent_off",
        "value": Decimal("10"),
        "coupon_valid_days": 30,
        "control_share": Decimal("0.10"),
    },
    {
        "key": "win_back",
        "name": "We miss you: 15% off",
        "name_zh_hans": "老客回归：八五折",
        "description": "For churned and at-risk customers; 10% are held out to measure whether it works.",
        "kind": "percent_off",
        "value": Decimal("15"),
        "target_rule": 'stage in ("churned", "at_risk")',
        "coupon_valid_days": 30,
        "control_share": Decimal("0.10"),
    },
    {
        "key": "birthday_bonus",
        "name": "Birthday bonus: 200 points",
        "name_zh_hans": "生日礼：200 积分",
        "description": "Credited on the member's birthday, once a year.",
        "kind": "bonus_points",
        "value": Decimal("200"),
        "coupon_valid_days": 30,
        "control_share": Decimal("0"),
    },
    {
        "key": "tier_upgrade_gift",
        "name": "Tier upgrade gift",
        "name_zh_hans": "升级礼品",
        "description": "A free gift when a member moves up a tier.",
        "kind": "free_item",
        "value": Decimal("0"),
        "free_item_sku": "GIFT-TIER-UP",
        "coupon_valid_days": 60,
        "control_share": Decimal("0.10"),
    },
]

PLAYBOOKS = [
    {
        "playbook": "offers_welcome",
        "name": "New customer: welcome coupon",
        "name_zh_hans": "新客户：欢迎优惠券",
        "description": "A welcome coupon when a customer becomes new (10% held out as a control group).",
        "trigger": "customer.stage_changed",
        "condition": 'stage == "new"',
        "actions": [{"type": "issue_offer", "offer": "welcome"}],
        "position": 15,
    },
    {
        "playbook": "offers_win_back",
        "name": "Churned customer: win-back offer",
        "name_zh_hans": "流失客户：挽回优惠",
        "description": "A win-back coupon when a customer churns; 10% are held out so the uplift report shows "
        "whether it brings customers back.",
        "trigger": "customer.stage_changed",
        "condition": 'stage == "churned"',
        "actions": [{"type": "issue_offer", "offer": "win_back"}],
        "position": 45,
    },
    {
        "playbook": "offers_tier_upgrade_gift",
        "name": "Tier upgrade: gift",
        "name_zh_hans": "会员升级：礼品",
        "description": "A free gift coupon when a member moves up a tier.",
        "trigger": "member.tier_changed",
        "condition": "",
        "actions": [{"type": "issue_offer", "offer": "tier_upgrade_gift", "direction": "up"}],
        "position": 60,
    },
]


def create(apps, schema_editor):
    Offer = apps.get_model("offers", "Offer")
    Rule = apps.get_model("automation", "Rule")
    for offer in OFFERS:
        Offer.objects.get_or_create(key=offer["key"], defaults=offer)
    for playbook in PLAYBOOKS:
        Rule.objects.get_or_create(playbook=playbook["playbook"], defaults=playbook)


def remove(apps, schema_editor):
    # Rows by id, runs first: a cascading delete through the historical models fails when this is unapplied in
    # the same plan as later apps' migrations ("Must be 'Rule' instance").
    Rule = apps.get_model("automation", "Rule")
    ids = list(Rule.objects.filter(playbook__in=[p["playbook"] for p in PLAYBOOKS]).values_list("pk", flat=True))
    apps.get_model("automation", "RuleRun").objects.filter(rule_id__in=ids)._raw_delete(schema_editor.connection.alias)
    Rule.objects.filter(pk__in=ids)._raw_delete(schema_editor.connection.alias)
    # The offers themselves go with 0001's tables; coupons may refer to them (PROTECT), so they stay here.


class Migration(migrations.Migration):
    dependencies = [("offers", "0001_initial"), ("automation", "0002_default_playbooks")]

    operations = [migrations.RunPython(create, remove)]
