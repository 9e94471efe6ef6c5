"""The playbooks shipped by default (issue 5): rules keyed by ``playbook``, created once. Running this again, or
after an admin edited or deactivated a playbook, changes nothing: the admin's version stays."""

from django.db import migrations

INVITATION_EN = """Dear {{ customer.display_name }},

thank you for being one of our most loyal customers. We would like to invite you to our membership programme:
members get early access to new products, special offers and a personal contact.

Reply to this e-mail or contact {{ owner.name }} to join.

Best regards"""

INVITATION_ZH = """{{ customer.display_name }}，您好：

感谢您一直以来的支持！诚邀您加入我们的会员计划：会员可优先体验新品、享受专属优惠，并有专人为您服务。

如需加入，请直接回复本邮件或联系{{ owner.name }}。

此致
敬礼"""

TEMPLATES = [
    {
        "key": "membership_invitation",
        "name": "Invitation to the membership programme",
        "subject_en": "An invitation to our membership programme",
        "body_en": INVITATION_EN,
        "subject_zh_hans": "诚邀您加入会员计划",
        "body_zh_hans": INVITATION_ZH,
    }
]

PLAYBOOKS = [
    {
        "playbook": "welcome",
        "name": "Welcome follow-up for new customers",
        "name_zh_hans": "新客户欢迎回访",
        "description": "A new customer gets the new_customer cadence: the welcome call on day 3, then days 14 and 30.",
        "trigger": "customer.stage_changed",
        "condition": 'stage == "new"',
        "actions": [{"type": "start_cadence", "policy": "new_customer"}],
        "position": 10,
    },
    {
        "playbook": "return_visits",
        "name": "Regular return visits by tier",
        "name_zh_hans": "按客户等级定期回访",
        "description": "Every day: A customers every 30 days, B every 60, C every 90 after the last contact.",
        "trigger": "schedule.daily",
        "condition": 'tier in ("A", "B", "C")',
        "actions": [{"type": "plan_return_visits"}],
        "position": 20,
    },
    {
        "playbook": "at_risk_high_value",
        "name": "At-risk high-value customer: urgent follow-up",
        "name_zh_hans": "高价值客户流失预警：紧急跟进",
        "description": "An urgent follow-up for the owner tomorrow and a notification to the team's managers.",
        "trigger": "customer.stage_changed",
        "condition": 'stage == "at_risk" and (tier == "A" or value_tier == "high")',
        "actions": [
            {
                "type": "create_follow_up",
                "title": "Urgent: high-value customer at risk, call them",
                "due_in_days": 1,
                "priority": "urgent",
            },
            {"type": "notify", "to": "team_managers"},
        ],
        "position": 30,
    },
    {
        "playbook": "churned_win_back",
        "name": "Churned customer: win-back task",
        "name_zh_hans": "流失客户：挽回任务",
        "description": "A win-back follow-up within a week (an offer is added once the loyalty app exists).",
        "trigger": "customer.stage_changed",
        "condition": 'stage == "churned"',
        "actions": [{"type": "create_follow_up", "title": "Win-back: contact the customer", "due_in_days": 7}],
        "position": 40,
    },
    {
        "playbook": "loyal_invitation",
        "name": "Loyal customer: invitation to the membership programme",
        "name_zh_hans": "忠诚客户：邀请加入会员计划",
        "description": "A follow-up to invite them, and the invitation e-mail if they consented to e-mail.",
        "trigger": "customer.stage_changed",
        "condition": 'stage == "loyal"',
        "actions": [
            {"type": "create_follow_up", "title": "Invite to the membership programme", "due_in_days": 3},
            {"type": "send_email", "template": "membership_invitation", "language": "en"},
        ],
        "position": 50,
    },
]


def create(apps, schema_editor):
    Rule = apps.get_model("automation", "Rule")
    EmailTemplate = apps.get_model("automation", "EmailTemplate")
    for template in TEMPLATES:
        EmailTemplate.objects.get_or_create(key=template["key"], defaults=template)
    for playbook in PLAYBOOKS:
        Rule.objects.get_or_create(playbook=playbook["playbook"], defaults=playbook)


def remove(apps, schema_editor):
    apps.get_model("automation", "Rule").objects.filter(playbook__in=[p["playbook"] for p in PLAYBOOKS]).delete()
    apps.get_model("automation", "EmailTemplate").objects.filter(key__in=[t["key"] for t in TEMPLATES]).delete()


class Migration(migrations.Migration):
    dependencies = [("automation", "0001_initial")]

    operations = [migrations.RunPython(create, remove)]
