"""Backfill one Identity per e-mail, phone and WeChat ID of every live customer.

Where two customers already share a value, the first (lowest id) keeps the identity and the pair is recorded as
a duplicate candidate (found by "identity", probability 1) for a person to review, instead of failing.
"""

from django.db import migrations
from django.utils import timezone

BATCH = 2000


def backfill(apps, schema_editor):
    Customer = apps.get_model("customers", "Customer")
    Identity = apps.get_model("customers", "Identity")
    DuplicateCandidate = apps.get_model("customers", "DuplicateCandidate")
    owner_of: dict[tuple[str, str], int] = {}
    pairs: dict[tuple[int, int], set[str]] = {}
    batch = []
    rows = (
        Customer.objects.filter(deleted_at__isnull=True)
        .order_by("id")
        .values_list("id", "emails", "phones", "wechat_id")
        .iterator(chunk_size=BATCH)
    )
    for customer_id, emails, phones, wechat_id in rows:
        keys = [("email", str(e).strip().lower()) for e in emails or []]
        keys += [("phone", str(p).strip()) for p in phones or []]
        if wechat_id and wechat_id.strip():
            keys.append(("wechat", wechat_id.strip().lower()))
        for key in dict.fromkeys(k for k in keys if k[1]):
            first = owner_of.setdefault(key, customer_id)
            if first != customer_id:
                pairs.setdefault((first, customer_id), set()).add(key[0])
                continue
            batch.append(Identity(customer_id=customer_id, kind=key[0], value=key[1][:255]))
        if len(batch) >= BATCH:
            Identity.objects.bulk_create(batch)
            batch = []
    if batch:
        Identity.objects.bulk_create(batch)
    now = timezone.now()
    DuplicateCandidate.objects.bulk_create(
        [
            DuplicateCandidate(
                customer_a_id=a,
                customer_b_id=b,
                probability=1.0,
                matched_fields=sorted(kinds),
                source="identity",
                created_at=now,
            )
            for (a, b), kinds in pairs.items()
        ],
        batch_size=BATCH,
        ignore_conflicts=True,
    )


def forget(apps, schema_editor):
    apps.get_model("customers", "Identity").objects.all().delete()
    apps.get_model("customers", "DuplicateCandidate").objects.filter(source="identity").delete()


class Migration(migrations.Migration):
    dependencies = [("customers", "0004_identities_duplicates_merges")]

    operations = [migrations.RunPython(backfill, forget)]
