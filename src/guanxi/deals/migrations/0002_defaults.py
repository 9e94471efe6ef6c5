"""The default "Sales" pipeline and the seeded lost reasons (issue 5), in English and Chinese."""

from django.db import migrations

STAGES = [
    # (key, name, name_zh_hans, probability, kind)
    ("qualification", "Qualification", "资格确认", 10, "open"),
    ("needs_analysis", "Needs analysis", "需求分析", 25, "open"),
    ("proposal", "Proposal", "方案报价", 50, "open"),
    ("negotiation", "Negotiation", "商务谈判", 75, "open"),
    ("won", "Won", "赢单", 100, "won"),
    ("lost", "Lost", "输单", 0, "lost"),
]

LOST_REASONS = [
    ("price", "Price", "价格"),
    ("competitor", "Competitor", "竞争对手"),
    ("no_budget", "No budget", "没有预算"),
    ("no_decision", "No decision", "未做决定"),
    ("timing", "Timing", "时机不对"),
    ("product_fit", "Product fit", "产品不匹配"),
]


def seed(apps, schema_editor):
    Pipeline = apps.get_model("deals", "Pipeline")
    DealStage = apps.get_model("deals", "DealStage")
    LostReason = apps.get_model("deals", "LostReason")
    # Idempotent (tests that flush the database call it again to put the defaults back).
    if not Pipeline.objects.filter(is_default=True).exists():
        pipeline = Pipeline.objects.create(name="Sales", name_zh_hans="销售", is_default=True)
        DealStage.objects.bulk_create(
            DealStage(
                pipeline=pipeline, key=key, name=name, name_zh_hans=zh, order=(i + 1) * 10, probability=p, kind=kind
            )
            for i, (key, name, zh, p, kind) in enumerate(STAGES)
        )
    for i, (key, name, zh) in enumerate(LOST_REASONS):
        LostReason.objects.get_or_create(key=key, defaults={"name": name, "name_zh_hans": zh, "order": (i + 1) * 10})


def unseed(apps, schema_editor):
    apps.get_model("deals", "Pipeline").objects.filter(is_default=True, name="Sales", deals__isnull=True).delete()
    apps.get_model("deals", "LostReason").objects.filter(key__in=[k for k, _n, _z in LOST_REASONS]).delete()


class Migration(migrations.Migration):
    dependencies = [("deals", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
