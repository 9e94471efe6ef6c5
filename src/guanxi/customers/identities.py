"""Identities: the e-mails, phones, WeChat IDs and external system ids that recognise a customer.

A (kind, value) pair belongs to at most one live customer (a partial unique constraint on ``Identity``).
``create_customer``/``update_customer``/``merge_customers`` keep the rows in sync through ``sync``;
``match_customers`` is the bulk exact lookup that imports and API ingest use to attach to an existing customer.
"""

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.customers import normalize
from guanxi.customers.errors import IdentityConflict
from guanxi.customers.models import Customer, Identity

Kind = Identity.Kind
Key = tuple[str, str]

# The customer field each identity kind comes from (external ids have no field: the ``external_ids`` data key).
FIELD_OF_KIND = {Kind.EMAIL: "emails", Kind.PHONE: "phones", Kind.WECHAT: "wechat_id", Kind.EXTERNAL: "external_ids"}
MAX_EXTERNAL_IDS = 20
_LOOKUP_CHUNK = 500


def normalize_value(kind: str, value: str) -> str:
    """The stored form of an identity value; raises ValueError when it is not one."""
    if kind == Kind.EMAIL:
        return normalize.normalize_email(value)
    if kind == Kind.PHONE:
        return normalize.normalize_phone(value)
    if kind == Kind.WECHAT:
        text = normalize.clean_text(value).lower()
        if not text or len(text) > 100:
            raise ValueError(_("A WeChat ID has 1 to 100 characters."))
        return text
    if kind == Kind.EXTERNAL:
        return normalize_external_id(value)
    raise ValueError(_("Unknown identity kind."))


def normalize_external_id(value: Any) -> str:
    """``"<system>:<id>"``: the system lower-case, the id as given (trimmed)."""
    if not isinstance(value, str):
        raise ValueError(_("Must be text."))
    system, sep, ident = normalize.clean_text(value).partition(":")
    system, ident = system.strip().lower(), ident.strip()
    if not sep or not system or not ident:
        raise ValueError(_("Write an external id as “system:id”, e.g. “shopify:1234”."))
    text = f"{system}:{ident}"
    if len(text) > 255:
        raise ValueError(_("At most %(n)d characters.") % {"n": 255})
    return text


def keys_of(customer: Customer, external_ids: Iterable[str] = ()) -> set[Key]:
    """The identity keys a customer's fields imply (plus the given external ids)."""
    keys: set[Key] = {(Kind.EMAIL.value, e.lower()) for e in customer.emails}
    keys |= {(Kind.PHONE.value, p) for p in customer.phones}
    if customer.wechat_id:
        keys.add((Kind.WECHAT.value, customer.wechat_id.strip().lower()))
    keys |= {(Kind.EXTERNAL.value, e) for e in external_ids}
    return keys


def external_ids_of(customer: Customer) -> list[str]:
    return sorted(
        Identity.objects.filter(customer=customer, kind=Kind.EXTERNAL, released_at__isnull=True).values_list(
            "value", flat=True
        )
    )


def external_ids_by_customer(customer_ids: Iterable[int]) -> dict[int, list[str]]:
    """``external_ids_of`` for many customers at once: ``{customer_id: sorted external ids}`` (every id given)."""
    ids = list(customer_ids)
    out: dict[int, list[str]] = {pk: [] for pk in ids}
    for start in range(0, len(ids), _LOOKUP_CHUNK):
        rows = Identity.objects.filter(
            customer_id__in=ids[start : start + _LOOKUP_CHUNK], kind=Kind.EXTERNAL, released_at__isnull=True
        ).values_list("customer_id", "value")
        for customer_id, value in rows:
            out[customer_id].append(value)
    return {pk: sorted(values) for pk, values in out.items()}


def owner_label(customer: Customer) -> str:
    """Who holds a customer, as a colleague may be told: the owner's name, or the team pool."""
    return str(customer.owner) if customer.owner_id else _("the team pool")


def _conflict(customer_id: int | None, taken: Mapping[Key, Customer]) -> IdentityConflict:
    details: dict[str, list[str]] = {}
    for (kind, _value), other in sorted(taken.items()):
        field = FIELD_OF_KIND[Kind(kind)]
        details.setdefault(field, []).append(
            _("This %(kind)s already belongs to another customer, owned by %(owner)s.")
            % {"kind": Kind(kind).label.lower(), "owner": owner_label(other)}
        )
    return IdentityConflict(_("Another customer already has this contact detail."), **details)


def taken_by_others(keys: Iterable[Key], customer_id: int | None) -> dict[Key, Customer]:
    """The keys among ``keys`` that a live customer other than ``customer_id`` holds, with that customer (and its
    owner): one query per kind (per 500 values), and one more for the customers when some key is taken."""
    holders = {key: holder for key, holder in _holders(keys).items() if holder != customer_id}
    if not holders:
        return {}
    customers = Customer.objects.select_related("owner").in_bulk(set(holders.values()))
    return {key: customers[holder] for key, holder in holders.items() if holder in customers}


def sync(customer: Customer, before: set[Key], after: set[Key]) -> None:
    """Make the customer's live identities follow its fields: release what was removed, add what is new.

    Identities the fields never named (e.g. a second WeChat ID kept by a merge) are left alone unless removed
    explicitly. Raises IdentityConflict, naming only the other customer's owner, when a new key is taken.
    Call inside the service's transaction.
    """
    added, removed = after - before, before - after
    if removed:
        for kind, value in removed:
            Identity.objects.filter(customer=customer, kind=kind, value=value, released_at__isnull=True).delete()
    if not added:
        return
    existing = set(Identity.objects.filter(customer=customer, released_at__isnull=True).values_list("kind", "value"))
    missing = sorted(added - existing)
    if not missing:
        return
    taken = taken_by_others(missing, customer.pk)
    if taken:
        raise _conflict(customer.pk, taken)
    try:
        with transaction.atomic():
            Identity.objects.bulk_create([Identity(customer=customer, kind=k, value=v) for k, v in missing])
    except IntegrityError as exc:  # a concurrent writer took one between the check and the insert
        taken = taken_by_others(missing, customer.pk)
        raise _conflict(customer.pk, taken) from exc


def check_new_batch(items: Sequence[tuple[Customer, set[Key]]]) -> list[IdentityConflict | None]:
    """For customers about to be created together (unsaved, with their keys): per item, the IdentityConflict that
    creating them one after the other in this order would raise, or None when its keys are free.

    A key is taken when a live customer holds it (one lookup per kind for the whole batch) or when an earlier
    free item of the batch claims it; the error names the same owners as ``sync`` would.
    """
    taken = taken_by_others({key for _customer, keys in items for key in keys}, None)
    claimed: dict[Key, Customer] = {}
    out: list[IdentityConflict | None] = []
    for customer, keys in items:
        clashes = {key: taken.get(key) or claimed[key] for key in keys if key in taken or key in claimed}
        if clashes:
            out.append(_conflict(None, clashes))
            continue
        claimed.update(dict.fromkeys(keys, customer))
        out.append(None)
    return out


def add_many(pairs: Iterable[tuple[Customer, set[Key]]]) -> None:
    """Insert the identities of new customers (saved, with their keys checked by ``check_new_batch``) in one
    statement. An IntegrityError means a concurrent writer took one in between: the caller rolls back."""
    Identity.objects.bulk_create(
        [
            Identity(customer=customer, kind=kind, value=value)
            for customer, keys in pairs
            for kind, value in sorted(keys)
        ]
    )


def check_free(keys: Iterable[Key], customer_id: int | None = None) -> None:
    """Raise IdentityConflict when another live customer holds one of ``keys``."""
    taken = taken_by_others(keys, customer_id)
    if taken:
        raise _conflict(customer_id, taken)


def release(customer: Customer) -> list[int]:
    """Release a deleted customer's identities so that a new customer may take them; returns their ids."""
    ids = list(Identity.objects.filter(customer=customer, released_at__isnull=True).values_list("pk", flat=True))
    Identity.objects.filter(pk__in=ids).update(released_at=timezone.now())
    return ids


def match_customers(pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """Bulk exact lookup among live customers: ``{(kind, value): customer_id}`` for the pairs that match.

    Values are normalised first (e-mail lower-case, phone E.164, ``system:id``); a value that does not
    normalise matches nothing. Keys are the pairs as passed. No access filter: callers decide what to reveal.
    """
    wanted: dict[Key, list[tuple[str, str]]] = {}
    for kind, value in pairs:
        try:
            key = (Kind(kind).value, normalize_value(kind, value))
        except ValueError:
            continue
        wanted.setdefault(key, []).append((kind, value))
    found = _holders(wanted)
    return {original: customer_id for key, customer_id in found.items() for original in wanted[key]}


def _holders(keys: Iterable[Key]) -> dict[Key, int]:
    """``{key: customer_id}`` for the keys a live customer holds.

    The identities first, then which of their customers are live: a join of the two lets PostgreSQL pick a
    nested loop over the customers while a bulk import has left the tables' statistics behind (200 ms a query
    instead of 2).
    """
    found: dict[Key, int] = {}
    by_kind: dict[str, list[str]] = {}
    for kind, value in keys:
        by_kind.setdefault(kind, []).append(value)
    for kind, values in by_kind.items():
        for start in range(0, len(values), _LOOKUP_CHUNK):
            rows = Identity.objects.filter(
                kind=kind, value__in=values[start : start + _LOOKUP_CHUNK], released_at__isnull=True
            ).values_list("kind", "value", "customer_id")
            for row_kind, value, customer_id in rows:
                found[(row_kind, value)] = customer_id
    ids = sorted(set(found.values()))
    live: set[int] = set()
    for start in range(0, len(ids), _LOOKUP_CHUNK):
        live.update(
            Customer.objects.filter(pk__in=ids[start : start + _LOOKUP_CHUNK], deleted_at__isnull=True).values_list(
                "pk", flat=True
            )
        )
    return {key: customer_id for key, customer_id in found.items() if customer_id in live}
