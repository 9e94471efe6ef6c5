"""The surveys shipped by default, and automation's detractor playbook. Created once: running this again, or after
an admin edited a survey or the rule, changes nothing."""

from django.db import migrations

SURVEYS = [
    {
        "key": "after_ticket",
        "name": "After your support request",
        "name_zh_hans": "服务满意度回访",
        "intro": "Your request was resolved. Two quick questions help us serve you better.",
        "intro_zh_hans": "您的问题已处理完毕。请花一分钟回答两个问题，帮助我们改进服务。",
        "kind": "after_ticket",
        "active": True,
        "questions": [
            {
                "kind": "csat",
                "text": "How satisfied are you with how we handled your request?",
                "text_zh_hans": "您对本次服务的满意程度如何？",
                "low_label": "Very dissatisfied",
                "low_label_zh_hans": "非常不满意",
                "high_label": "Very satisfied",
                "high_label_zh_hans": "非常满意",
            },
            {
                "kind": "ces",
                "text": "How easy was it to get your issue resolved?",
                "text_zh_hans": "解决您的问题有多容易？",
                "low_label": "Very difficult",
                "low_label_zh_hans": "非常困难",
                "high_label": "Very easy",
                "high_label_zh_hans": "非常容易",
            },
            {
                "kind": "text",
                "required": False,
                "text": "Anything you would like to tell us?",
                "text_zh_hans": "还有什么想告诉我们的吗？",
            },
        ],
    },
    {
        "key": "relationship_nps",
        "name": "How are we doing?",
        "name_zh_hans": "客户推荐度调查",
        "intro": "A minute of your time tells us how we are doing.",
        "intro_zh_hans": "占用您一分钟，告诉我们做得怎么样。",
        "kind": "segment",
        "active": False,
        "audience": 'stage in ("active", "loyal")',
        "interval_days": 90,
        "questions": [
            {
                "kind": "nps",
                "text": "How likely are you to recommend us to a friend or colleague?",
                "text_zh_hans": "您有多大可能向朋友或同事推荐我们？",
                "low_label": "Not at all likely",
                "low_label_zh_hans": "完全不可能",
                "high_label": "Extremely likely",
                "high_label_zh_hans": "极有可能",
            },
            {
                "kind": "text",
                "required": False,
                "text": "What is the main reason for your score?",
                "text_zh_hans": "您给出这个分数的主要原因是什么？",
            },
        ],
    },
]

PLAYBOOK = {
    "playbook": "survey_detractor",
    "name": "Unhappy survey answer: urgent follow-up",
    "name_zh_hans": "调查不满意：紧急回访",
    "description": "NPS 0-6 or CSAT 1-2: an urgent follow-up for the owner tomorrow, and a notification to the "
    "managers of the team that handled the ticket.",
    "trigger": "survey.detractor",
    "condition": "",
    "actions": [
        {
            "type": "create_follow_up",
            "title": "Unhappy survey answer: call the customer back",
            "due_in_days": 1,
            "priority": "urgent",
        },
        {"type": "notify_survey_team"},
    ],
    "position": 60,
}


def create(apps, schema_editor):
    Survey = apps.get_model("surveys", "Survey")
    Question = apps.get_model("surveys", "Question")
    for spec in SURVEYS:
        spec = dict(spec)
        questions = spec.pop("questions")
        survey, created = Survey.objects.get_or_create(key=spec["key"], defaults=spec)
        if created:
            for position, question in enumerate(questions):
                Question.objects.create(survey=survey, position=position, **question)
    apps.get_model("automation", "Rule").objects.get_or_create(playbook=PLAYBOOK["playbook"], defaults=PLAYBOOK)


def remove(apps, schema_editor):
    # The surveys stay until 0001 is reversed (which drops their tables): answers may already point at them.
    apps.get_model("automation", "Rule").objects.filter(playbook=PLAYBOOK["playbook"]).delete()


class Migration(migrations.Migration):
    dependencies = [("surveys", "0001_initial"), ("automation", "0002_default_playbooks")]

    operations = [migrations.RunPython(create, remove)]
