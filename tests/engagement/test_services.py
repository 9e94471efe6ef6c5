"""Interaction services: who may log, validation, mentions, attachments, edit/delete with optimistic locking."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from guanxi.core.errors import StaleVersion
from guanxi.core.models import AuditEntry, Event
from guanxi.customers.errors import CustomerNotFound
from guanxi.engagement import services
from guanxi.engagement.errors import (
    AttachmentInvalid,
    AttachmentTooLarge,
    InteractionDenied,
    InteractionInvalid,
    InteractionNotFound,
)
from guanxi.engagement.models import Attachment, Interaction
from guanxi.notifications.models import Notification


def stored_files(media_root) -> list[Path]:
    root = Path(media_root)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


# ------------------------------------------------------------------------------------------------- who may log


def test_analyst_cannot_log(users, customers):
    with pytest.raises(InteractionDenied):
        services.log_interaction(actor=users["analyst"], customer_id=customers["rep"].pk, channel="phone", subject="x")
    assert not Interaction.objects.exists()


def test_rep_cannot_log_on_another_reps_customer_or_a_missing_one(users, customers):
    for customer_id in (customers["rep2"].pk, customers["rep_b"].pk, 999_999):
        with pytest.raises(CustomerNotFound):
            services.log_interaction(actor=users["rep"], customer_id=customer_id, channel="phone", subject="x")
    assert not Interaction.objects.exists()


def test_deleted_customer_is_not_found(users, customers):
    customers["rep"].__class__.objects.filter(pk=customers["rep"].pk).update(deleted_at=timezone.now())
    with pytest.raises(CustomerNotFound):
        services.log_interaction(actor=users["rep"], customer_id=customers["rep"].pk, channel="phone", subject="x")


def test_invalid_input_is_refused_with_field_details(users, customers):
    customer_id = customers["rep"].pk
    cases = [
        ({"channel": "fax", "subject": "x"}, "channel"),
        ({"channel": "phone", "direction": "sideways", "subject": "x"}, "direction"),
        ({"channel": "phone", "subject": "x" * 301}, "subject"),
        ({"channel": "phone", "subject": "x", "duration_seconds": -1}, "duration_seconds"),
        ({"channel": "phone", "subject": "x", "occurred_at": timezone.now() + timedelta(days=2)}, "occurred_at"),
        ({"channel": "phone"}, "subject"),
        ({"channel": "phone", "subject": "  ", "body": "\x00"}, "subject"),
    ]
    for fields, field in cases:
        with pytest.raises(InteractionInvalid) as caught:
            services.log_interaction(actor=users["rep"], customer_id=customer_id, **fields)
        assert field in caught.value.details, fields
    assert not Interaction.objects.exists()


def test_log_records_event_with_the_interaction_as_subject_and_audit_without_text(users, customers):
    customer = customers["rep"]
    when = timezone.now() - timedelta(hours=2)
    interaction = services.log_interaction(
        actor=users["rep"],
        customer_id=customer.pk,
        channel="phone",
        direction="inbound",
        subject="Asked for a quote",
        body="Wants 20 units",
        outcome="Quote to send",
        duration_seconds=300,
        occurred_at=when,
        follow_up_id=42,
    )
    assert interaction.author == users["rep"] and interaction.occurred_at == when and interaction.version == 1
    event = Event.objects.get(type="interaction.logged")
    assert (event.subject_type, event.subject_id) == ("engagement.interaction", interaction.pk)
    assert event.payload == {
        "customer_id": customer.pk,
        "interaction_id": interaction.pk,
        "channel": "phone",
        "direction": "inbound",
        "author_id": users["rep"].pk,
        "follow_up_id": 42,
    }
    audit = AuditEntry.objects.get(event=event)
    assert audit.action == "create" and audit.changes["subject"] == [None, "[17 characters]"]
    assert audit.changes["channel"] == [None, "phone"] and audit.changes["customer_id"] == [None, customer.pk]
    assert "quote" not in str(audit.changes) + audit.subject_label


def test_a_note_is_internal_and_occurred_at_defaults_to_now(users, customers):
    before = timezone.now()
    note = services.log_interaction(
        actor=users["rep"], customer_id=customers["rep"].pk, channel="note", direction="outbound", body="Prefers mail"
    )
    assert note.direction == "internal" and note.occurred_at >= before


def test_shared_customer_and_manager_and_support_may_log(users, customers, log):
    from guanxi.customers.models import CustomerShare

    CustomerShare.objects.create(customer=customers["rep2"], user=users["rep"])
    assert log(users["rep"], customers["rep2"]).customer == customers["rep2"]
    assert log(users["manager"], customers["rep2"]).author == users["manager"]
    with pytest.raises(CustomerNotFound):  # support sees only customers behind their tickets
        log(users["support"], customers["rep"])


def test_system_actor_logs_without_author(users, customers):
    interaction = services.log_interaction(actor=None, customer_id=customers["rep_b"].pk, channel="email", subject="x")
    assert interaction.author is None


# ------------------------------------------------------------------------------------------------- mentions


def test_mentions_notify_only_colleagues_who_may_see_the_customer(users, customers, make_user, log):
    inactive = make_user("gone", "sales", users["rep"].team)
    inactive.is_active = False
    inactive.save()
    interaction = log(
        users["rep"],
        customers["rep"],
        channel="note",
        body="@manager please call; cc @rep_b @analyst @gone @nobody @rep. (email: a@manager.com)",
    )
    assert [u.username for u in interaction.mentions.all()] == ["manager"]
    notes = Notification.objects.all()
    assert [(n.user.username, n.link, n.kind) for n in notes] == [
        ("manager", f"/customers/{customers['rep'].pk}/", "interaction.mention")
    ]
    assert "rep mentioned you" in notes[0].text and "Wang Fang" in notes[0].text


def test_mentioned_usernames_parsing():
    assert services.mentioned_usernames("hi @li.na, and @wang_1. @li.na again; x@y.z @a+b-c") == [
        "li.na",
        "wang_1",
        "a+b-c",
    ]


def test_editing_notifies_only_new_mentions(users, customers, log):
    interaction = log(users["rep"], customers["rep"], body="@manager")
    services.update_interaction(
        actor=users["rep"], interaction_id=interaction.pk, version=1, data={"body": "@manager @admin"}
    )
    assert sorted(Notification.objects.values_list("user__username", flat=True)) == ["admin", "manager"]
    assert sorted(interaction.mentions.values_list("username", flat=True)) == ["admin", "manager"]


# ------------------------------------------------------------------------------------------------- attachments


def test_attachment_stored_under_data_dir_with_random_name(users, customers, media_root):
    upload = SimpleUploadedFile("报价单.pdf", b"%PDF-1.4 quote", content_type="application/pdf")
    interaction = services.log_interaction(
        actor=users["rep"], customer_id=customers["rep"].pk, channel="email", attachments=[upload]
    )
    attachment = interaction.attachments.get()
    assert (attachment.name, attachment.size, attachment.content_type) == ("报价单.pdf", 14, "application/pdf")
    now = timezone.now()
    assert attachment.file.name.startswith(f"attachments/{now:%Y}/{now:%m}/")
    assert "报价单" not in attachment.file.name and ".pdf" not in attachment.file.name
    assert stored_files(media_root) == [Path(media_root) / attachment.file.name]


def test_attachment_size_limit(users, customers, settings, media_root, log):
    settings.GUANXI_ATTACHMENT_MAX_BYTES = 10
    with pytest.raises(AttachmentTooLarge) as caught:
        services.log_interaction(
            actor=users["rep"],
            customer_id=customers["rep"].pk,
            channel="email",
            subject="big",
            attachments=[SimpleUploadedFile("a.txt", b"x" * 11)],
        )
    assert caught.value.status == 413 and caught.value.details == {"size": 11, "limit": 10}
    assert not Interaction.objects.exists() and stored_files(media_root) == []
    interaction = log(users["rep"], customers["rep"])
    ok = services.add_attachment(
        actor=users["rep"], interaction_id=interaction.pk, upload=SimpleUploadedFile("b.txt", b"x" * 10)
    )
    assert ok.size == 10


def test_default_limit_is_ten_mebibytes(settings):
    if hasattr(settings, "GUANXI_ATTACHMENT_MAX_BYTES"):
        del settings.GUANXI_ATTACHMENT_MAX_BYTES
    assert services.attachment_max_bytes() == 10 * 1024 * 1024


@pytest.mark.parametrize("name", ["", "  ", ".", "..", "../etc/passwd", "a\\b.txt", "evil\x00.txt", "x\ny.txt"])
def test_empty_or_unsafe_names_are_refused(users, customers, log, name, media_root):
    interaction = log(users["rep"], customers["rep"])
    with pytest.raises(AttachmentInvalid):
        services.add_attachment(actor=users["rep"], interaction_id=interaction.pk, upload=(name, b"data"))
    assert stored_files(media_root) == []


def test_empty_file_is_refused(users, customers, log):
    interaction = log(users["rep"], customers["rep"])
    with pytest.raises(AttachmentInvalid):
        services.add_attachment(actor=users["rep"], interaction_id=interaction.pk, upload=("a.txt", b""))


def test_a_failure_after_storing_removes_the_file(users, customers, media_root):
    good = SimpleUploadedFile("a.txt", b"fine")
    bad = SimpleUploadedFile("b.txt", b"")
    with pytest.raises(AttachmentInvalid):
        services.log_interaction(
            actor=users["rep"], customer_id=customers["rep"].pk, channel="email", attachments=[good, bad]
        )
    assert stored_files(media_root) == [] and not Attachment.objects.exists()


def test_only_the_author_attaches(users, customers, log):
    interaction = log(users["rep"], customers["rep"])
    with pytest.raises(InteractionDenied):
        services.add_attachment(actor=users["manager"], interaction_id=interaction.pk, upload=("a.txt", b"x"))
    with pytest.raises(InteractionNotFound):
        services.add_attachment(actor=users["rep_b"], interaction_id=interaction.pk, upload=("a.txt", b"x"))


# ------------------------------------------------------------------------------------------------- edit / delete


def test_edit_own_with_version_and_audit(users, customers, log):
    interaction = log(users["rep"], customers["rep"], subject="Call")
    updated = services.update_interaction(
        actor=users["rep"], interaction_id=interaction.pk, version=1, data={"subject": "Call back", "outcome": "ok"}
    )
    assert (updated.subject, updated.outcome, updated.version) == ("Call back", "ok", 2)
    audit = AuditEntry.objects.get(event__type="interaction.updated")
    assert audit.changes == {
        "subject": ["[4 characters]", "[9 characters]"],
        "outcome": ["[0 characters]", "[2 characters]"],
    }
    with pytest.raises(StaleVersion):
        services.update_interaction(actor=users["rep"], interaction_id=interaction.pk, version=1, data={"subject": "x"})
    assert Interaction.objects.get(pk=interaction.pk).subject == "Call back"


def test_others_cannot_edit_or_delete(users, customers, log):
    interaction = log(users["rep"], customers["rep"])
    with pytest.raises(InteractionNotFound):
        services.update_interaction(actor=users["rep_b"], interaction_id=interaction.pk, version=1, data={})
    with pytest.raises(InteractionNotFound):
        services.update_interaction(actor=users["analyst"], interaction_id=interaction.pk, version=1, data={})
    with pytest.raises(InteractionDenied):
        services.update_interaction(actor=users["manager"], interaction_id=interaction.pk, version=1, data={})
    with pytest.raises(InteractionDenied):
        services.delete_interaction(actor=users["manager"], interaction_id=interaction.pk, version=1)
    with pytest.raises(InteractionInvalid):
        services.update_interaction(
            actor=users["rep"], interaction_id=interaction.pk, version=1, data={"customer_id": customers["rep2"].pk}
        )


def test_delete_own_removes_files_after_commit(users, customers, log, media_root):
    interaction = log(users["rep"], customers["rep"], attachments=[("a.txt", b"data")])
    assert len(stored_files(media_root)) == 1
    with pytest.raises(StaleVersion):
        services.delete_interaction(actor=users["rep"], interaction_id=interaction.pk, version=7)
    services.delete_interaction(actor=users["rep"], interaction_id=interaction.pk, version=1)
    assert not Interaction.objects.exists() and not Attachment.objects.exists()
    event = Event.objects.get(type="interaction.deleted")
    assert event.payload == {"customer_id": customers["rep"].pk, "interaction_id": interaction.pk}


def test_files_are_deleted_only_when_the_delete_commits(
    users, customers, log, media_root, django_capture_on_commit_callbacks
):
    interaction = log(users["rep"], customers["rep"], attachments=[("a.txt", b"data")])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.delete_interaction(actor=users["rep"], interaction_id=interaction.pk, version=1)
    assert len(stored_files(media_root)) == 1 and callbacks
    for callback in callbacks:
        callback()
    assert stored_files(media_root) == []


def test_admin_may_delete_any(users, customers, log):
    interaction = log(users["rep"], customers["rep"])
    services.delete_interaction(actor=users["admin"], interaction_id=interaction.pk, version=1)
    assert not Interaction.objects.exists()


def test_the_whole_log_rolls_back_with_the_callers_transaction(users, customers):
    with pytest.raises(RuntimeError), transaction.atomic():
        services.log_interaction(actor=users["rep"], customer_id=customers["rep"].pk, channel="phone", subject="x")
        raise RuntimeError
    assert not Interaction.objects.exists() and not Event.objects.filter(type="interaction.logged").exists()
