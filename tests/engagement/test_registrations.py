"""What other apps do with interactions through their registries: merge moves them, export and erase."""

from pathlib import Path

from guanxi.customers import merge
from guanxi.customers.models import Customer
from guanxi.engagement.models import Attachment, Interaction
from guanxi.privacy import services as privacy


def test_merge_moves_interactions_and_undo_moves_them_back(users, make_customer, log):
    survivor = make_customer(users["rep"], display_name="Chen Jie")
    loser = make_customer(users["rep"], display_name="Chen Jie (dup)")
    kept = log(users["rep"], survivor, subject="Survivor call")
    moved = log(users["rep"], loser, subject="Loser call")
    survivor.refresh_from_db()
    loser.refresh_from_db()
    record = merge.merge_customers(
        actor=users["rep"],
        survivor_id=survivor.pk,
        loser_id=loser.pk,
        survivor_version=survivor.version,
        loser_version=loser.version,
    )
    assert set(Interaction.objects.filter(customer=survivor).values_list("pk", flat=True)) == {kept.pk, moved.pk}
    merge.undo_merge(actor=users["rep"], merge_id=record.pk)
    assert Interaction.objects.get(pk=moved.pk).customer_id == loser.pk


def test_export_lists_the_customers_interactions(users, customers, log):
    log(users["rep"], customers["rep"], subject="Quote", attachments=[("q.pdf", b"x")])
    log(users["rep2"], customers["rep2"], subject="Other customer")
    from guanxi.customers import personal_data

    rows = personal_data.exporters()["interactions"](customers["rep"])
    assert [(r["subject"], r["attachments"], r["author"]) for r in rows] == [("Quote", "q.pdf", "rep")]


def test_erase_clears_what_was_said_and_the_files(
    users, customers, log, media_root, django_capture_on_commit_callbacks
):
    customer = customers["rep"]
    interaction = log(
        users["rep"],
        customer,
        subject="Wang Fang's divorce",
        body="@manager careful",
        outcome="sensitive",
        attachments=[("id-card.jpg", b"\xff\xd8", "image/jpeg")],
    )
    other = log(users["rep2"], customers["rep2"], subject="Untouched", attachments=[("b.txt", b"b")])
    files = [p for p in Path(media_root).rglob("*") if p.is_file()]
    assert len(files) == 2
    with django_capture_on_commit_callbacks(execute=True):
        privacy.erase_customer(actor=users["admin"], customer_id=customer.pk, reason="Customer asked")
    erased = Interaction.objects.get(pk=interaction.pk)
    assert (erased.subject, erased.body, erased.outcome) == ("", "", "")
    assert erased.channel == "phone" and erased.occurred_at == interaction.occurred_at
    assert not erased.mentions.exists() and not Attachment.objects.filter(interaction=erased).exists()
    remaining = [p for p in Path(media_root).rglob("*") if p.is_file()]
    assert remaining == [Path(media_root) / other.attachments.get().file.name]
    assert Interaction.objects.get(pk=other.pk).subject == "Untouched"
    assert Customer.objects.get(pk=customer.pk).display_name.startswith("Erased")
