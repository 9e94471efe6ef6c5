"""The daily jobs: follow_up.overdue once per follow-up, and one reminder e-mail per user and day."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from guanxi.core.models import Event
from guanxi.followups import jobs, services
from guanxi.followups.models import FollowUp

pytestmark = pytest.mark.django_db


def today():
    return timezone.localdate()


def test_mark_overdue_emits_once_per_follow_up(users, customer, follow_up):
    late = follow_up(title="Late", due_on=today() - timedelta(days=2))
    follow_up(title="Today", due_on=today())
    done = follow_up(title="Done", due_on=today() - timedelta(days=5))
    services.complete_follow_up(actor=users["rep"], follow_up_id=done.pk)

    assert jobs.mark_overdue(today=today()) == 1
    event = Event.objects.get(type="follow_up.overdue")
    assert event.payload == {
        "customer_id": customer.pk,
        "follow_up_id": late.pk,
        "assignee_id": users["rep"].pk,
        "due_on": (today() - timedelta(days=2)).isoformat(),
        "days_overdue": 2,
    }
    assert jobs.mark_overdue(today=today()) == 0
    # Tomorrow the one due today is overdue too; the first is not announced again.
    assert jobs.mark_overdue(today=today() + timedelta(days=1)) == 1
    assert Event.objects.filter(type="follow_up.overdue").count() == 2


def test_rescheduling_lets_the_overdue_event_go_out_again(users, follow_up):
    late = follow_up(due_on=today() - timedelta(days=1))
    jobs.mark_overdue(today=today())
    services.update_follow_up(actor=users["rep"], follow_up_id=late.pk, version=1, data={"due_on": today()})
    assert FollowUp.objects.get(pk=late.pk).overdue_at is None
    assert jobs.mark_overdue(today=today() + timedelta(days=1)) == 1


def test_reminders_one_email_per_user_per_day(
    users, customer, make_customer, follow_up, django_capture_on_commit_callbacks
):
    rep, rep2 = users["rep"], users["rep2"]
    rep.email, rep2.email = "rep@example.com", "rep2@example.com"
    rep.save()
    rep2.save()
    follow_up(title="Overdue call", due_on=today() - timedelta(days=1))
    follow_up(title="Call today", due_on=today())
    follow_up(title="Next week", due_on=today() + timedelta(days=7))
    other = make_customer(rep2, display_name="Li Na")
    follow_up(customer=other, title="Only upcoming", due_on=today() + timedelta(days=1))
    users["rep_b"].email = "b@example.com"
    users["rep_b"].save()

    with django_capture_on_commit_callbacks(execute=True):
        summary = jobs.send_reminders(today=today())

    assert (summary.users, summary.follow_ups) == (1, 2)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["rep@example.com"]
    assert "Overdue call" in message.body and "Call today" in message.body and "Zhang Wei" in message.body
    assert "Next week" not in message.body
    assert f"/customers/{customer.pk}/?follow_up=" in message.body
    assert "1 overdue" in message.subject

    with django_capture_on_commit_callbacks(execute=True):
        again = jobs.send_reminders(today=today())
    assert again.users == 0 and len(mail.outbox) == 1


def test_reminders_skip_users_without_address_or_inactive(users, follow_up, django_capture_on_commit_callbacks):
    follow_up(due_on=today())
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.send_reminders(today=today()).users == 0
    assert mail.outbox == []


def test_tasks_run_the_jobs(users, follow_up):
    from guanxi.followups import tasks

    follow_up(due_on=today() - timedelta(days=1))
    assert tasks.mark_overdue_task.call(today().isoformat()) == {"marked": 1}
    assert tasks.send_reminders_task.call(today().isoformat()) == {"users": 0, "follow_ups": 0}


def test_daily_jobs_are_registered():
    from guanxi.core.schedule import daily_jobs

    names = {job.name: job.task for job in daily_jobs()}
    assert names["follow_ups_overdue"] == "guanxi.followups.tasks.mark_overdue_task"
    assert names["follow_up_reminders"] == "guanxi.followups.tasks.send_reminders_task"
