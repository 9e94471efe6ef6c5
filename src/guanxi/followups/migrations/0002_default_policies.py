"""The default cadence policies of issue 5: tier A every 30 days, B every 60, C every 90; new customers on days
3, 14 and 30 after the first order; at-risk customers within 2 days. Reversing removes only untouched defaults."""

from django.db import migrations

DEFAULTS = [
    {
        "key": "tier_a",
        "name": "Tier A: every 30 days",
        "name_zh_hans": "A 类客户：每 30 天回访",
        "kind": "interval",
        "applies_to": "tier",
        "match_value": "A",
        "interval_days": 30,
        "offsets_days": [],
        "priority": 10,
    },
    {
        "key": "tier_b",
        "name": "Tier B: every 60 days",
        "name_zh_hans": "B 类客户：每 60 天回访",
        "kind": "interval",
        "applies_to": "tier",
        "match_value": "B",
        "interval_days": 60,
        "offsets_days": [],
        "priority": 20,
    },
    {
        "key": "tier_c",
        "name": "Tier C: every 90 days",
        "name_zh_hans": "C 类客户：每 90 天回访",
        "kind": "interval",
        "applies_to": "tier",
        "match_value": "C",
        "interval_days": 90,
        "offsets_days": [],
        "priority": 30,
    },
    {
        "key": "new_customer",
        "name": "Welcome new customers (days 3, 14 and 30)",
        "name_zh_hans": "新客户欢迎回访（第 3、14、30 天）",
        "kind": "sequence",
        "applies_to": "all",
        "match_value": "",
        "interval_days": None,
        "offsets_days": [3, 14, 30],
        "priority": 40,
    },
    {
        "key": "at_risk",
        "name": "At risk: within 2 days",
        "name_zh_hans": "流失风险：2 天内联系",
        "kind": "sequence",
        "applies_to": "stage",
        "match_value": "at_risk",
        "interval_days": None,
        "offsets_days": [2],
        "priority": 5,
    },
]


def add_defaults(apps, schema_editor):
    policy = apps.get_model("followups", "CadencePolicy")
    for values in DEFAULTS:
        policy.objects.get_or_create(key=values["key"], defaults={k: v for k, v in values.items() if k != "key"})


def remove_defaults(apps, schema_editor):
    policy = apps.get_model("followups", "CadencePolicy")
    policy.objects.filter(key__in=[d["key"] for d in DEFAULTS], version=1).delete()


class Migration(migrations.Migration):
    dependencies = [("followups", "0001_initial")]
    operations = [migrations.RunPython(add_defaults, remove_defaults)]
