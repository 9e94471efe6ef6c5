"""The default ticket categories of the issue (complaint, question, after-sales/repair, return, suggestion) and a
general queue without a team, so that a fresh install can take tickets. Reversing removes only these keys/names."""

from django.db import migrations

CATEGORIES = [
    ("complaint", "Complaint", "投诉", 10),
    ("question", "Question", "咨询", 20),
    ("after_sales", "After-sales / repair", "售后 / 维修", 30),
    ("return", "Return", "退货", 40),
    ("suggestion", "Suggestion", "建议", 50),
]
GENERAL_QUEUE = ("General support", "综合服务")


def seed(apps, schema_editor):
    TicketCategory = apps.get_model("tickets", "TicketCategory")
    Queue = apps.get_model("tickets", "Queue")
    for key, name, name_zh, order in CATEGORIES:
        TicketCategory.objects.get_or_create(key=key, defaults={"name": name, "name_zh_hans": name_zh, "order": order})
    Queue.objects.get_or_create(name=GENERAL_QUEUE[0], defaults={"name_zh_hans": GENERAL_QUEUE[1]})


def unseed(apps, schema_editor):
    apps.get_model("tickets", "TicketCategory").objects.filter(key__in=[c[0] for c in CATEGORIES]).delete()
    apps.get_model("tickets", "Queue").objects.filter(name=GENERAL_QUEUE[0]).delete()


class Migration(migrations.Migration):
    dependencies = [("tickets", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
