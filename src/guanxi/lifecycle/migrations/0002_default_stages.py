"""The default stage definitions (issue 5). Position order is precedence: the first matching rule wins."""

from django.db import migrations

# (key, name, name_zh_hans, rule, playbook)
DEFAULTS = [
    (
        "won_back",
        "Won back",
        "已挽回",
        '(stage == "churned" and last_order_days < days_in_stage) or (stage == "won_back" and days_in_stage < 90)',
        "Thank them for coming back; find out what changed and keep in close touch for the next three months.",
    ),
    (
        "churned",
        "Churned",
        "已流失",
        "orders > 0 and (last_order_days >= 365 or p_alive < 0.1)",
        "Send a win-back offer once; otherwise leave them to the occasional newsletter.",
    ),
    (
        "at_risk",
        "At risk",
        "有流失风险",
        "orders > 0 and (p_alive < 0.5 or overdue_ratio > 2 or (orders == 1 and last_order_days > 180))",
        "Call within two days: ask about their experience and what they need now.",
    ),
    (
        "loyal",
        "Loyal",
        "忠诚",
        '(orders_12m >= 4 and (p_alive >= 0.8 or p_alive = null)) or tier == "A"',
        "Recognise them: early access, a personal contact, referral requests.",
    ),
    (
        "new",
        "New",
        "新客户",
        "first_order_days <= 30",
        "Welcome them, check that the first order arrived well, suggest what goes with it.",
    ),
    (
        "active",
        "Active",
        "活跃",
        "orders > 0",
        "Regular return visits at the cadence of their tier.",
    ),
    (
        "potential",
        "Potential",
        "潜在客户",
        "orders == 0",
        "Qualify the lead and work towards a first order.",
    ),
]


def create_defaults(apps, schema_editor):
    StageDefinition = apps.get_model("lifecycle", "StageDefinition")
    for position, (key, name, name_zh, rule, playbook) in enumerate(DEFAULTS, start=1):
        StageDefinition.objects.get_or_create(
            key=key,
            defaults={
                "name": name,
                "name_zh_hans": name_zh,
                "rule": rule,
                "position": position * 10,
                "playbook": playbook,
            },
        )


def remove_defaults(apps, schema_editor):
    apps.get_model("lifecycle", "StageDefinition").objects.filter(key__in=[d[0] for d in DEFAULTS]).delete()


class Migration(migrations.Migration):
    dependencies = [("lifecycle", "0001_initial")]

    operations = [migrations.RunPython(create_defaults, remove_defaults)]
