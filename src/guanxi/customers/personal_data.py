"""Where every app declares the personal data it holds about a customer, for export and erasure (GDPR/PIPL).

An app registers, from its ``AppConfig.ready()``::

    from guanxi.customers import personal_data

    personal_data.register_exporter("tickets", export_tickets)   # fn(customer) -> list[dict]
    personal_data.register_eraser("tickets", erase_tickets)      # fn(customer, needles) -> int

An exporter returns the customer's records of one kind as flat dicts (one CSV per kind in the export zip).
An eraser removes or anonymises them and returns how many records it touched; ``needles`` are the customer's
personal strings (names, e-mails, phones, WeChat ID ...) so that it can scrub free text too. Erasers run inside
``guanxi.privacy.services.erase_customer``'s transaction, before the profile itself is anonymised.

This module also holds the customers app's own part: the profile, tags, custom fields and identities.
"""

import contextlib
from collections.abc import Callable
from typing import Any

import phonenumbers
from django.apps import apps

Exporter = Callable[[Any], list[dict[str, Any]]]
Eraser = Callable[[Any, list[str]], int]

_exporters: dict[str, Exporter] = {}
_erasers: dict[str, Eraser] = {}


def register_exporter(name: str, exporter: Exporter) -> None:
    _exporters[name] = exporter


def register_eraser(name: str, eraser: Eraser) -> None:
    _erasers[name] = eraser


def exporters() -> dict[str, Exporter]:
    return dict(_exporters)


def erasers() -> dict[str, Eraser]:
    return dict(_erasers)


def erased_name(customer_id: int) -> str:
    return f"Erased customer #{customer_id}"


def personal_strings(customer) -> list[str]:
    """Every personal value of ``customer`` as text (longest first): what must not survive an erasure."""
    values = [
        customer.display_name,
        customer.given_name,
        customer.family_name,
        customer.family_name + customer.given_name,
        customer.wechat_id,
        customer.company,
        customer.address,
        *customer.emails,
        *customer.phones,
    ]
    for phone in customer.phones:
        with contextlib.suppress(phonenumbers.NumberParseException):
            values.append(str(phonenumbers.parse(phone).national_number))
    values += [str(v) for v in customer.custom_fields.values() if isinstance(v, str)]
    values += list(_identities(customer).values_list("value", flat=True))
    # Single characters (a one-letter given name) would match everywhere; they identify nobody on their own.
    unique = {v.strip() for v in values if v and len(v.strip()) >= 2}
    return sorted(unique, key=lambda v: (-len(v), v))


def _identities(customer):
    try:
        model = apps.get_model("customers", "Identity")
    except LookupError:
        return apps.get_model("customers", "Customer").objects.none()
    return model.objects.filter(customer=customer)


def export_profile(customer) -> list[dict[str, Any]]:
    return [
        {
            "id": customer.pk,
            "kind": customer.kind,
            "display_name": customer.display_name,
            "given_name": customer.given_name,
            "family_name": customer.family_name,
            "emails": customer.emails,
            "phones": customer.phones,
            "wechat_id": customer.wechat_id,
            "company": customer.company,
            "industry": customer.industry,
            "region": customer.region,
            "address": customer.address,
            "source": customer.source,
            "profiling_opt_out": customer.profiling_opt_out,
            "owner": customer.owner.get_username() if customer.owner_id else None,
            "team": customer.team.name if customer.team_id else None,
            "created_at": customer.created_at,
            "updated_at": customer.updated_at,
        }
    ]


def export_tags(customer) -> list[dict[str, Any]]:
    return [{"tag": name} for name in customer.tags.order_by("name").values_list("name", flat=True)]


def export_custom_fields(customer) -> list[dict[str, Any]]:
    return [{"field": key, "value": value} for key, value in sorted(customer.custom_fields.items())]


def export_identities(customer) -> list[dict[str, Any]]:
    return [
        {"kind": i.kind, "value": i.value, "created_at": i.created_at, "released_at": i.released_at}
        for i in _identities(customer).order_by("kind", "value")
    ]


def erase_identities(customer, needles: list[str]) -> int:
    deleted, _detail = _identities(customer).delete()
    return deleted


def erase_tags(customer, needles: list[str]) -> int:
    """Tags are shared labels (VIP, 2024 fair) and stay; a tag whose name carries the customer's personal data
    is taken off them (and deleted when no one else has it)."""
    lowered = [n.lower() for n in needles]
    personal = [t for t in customer.tags.all() if any(n in t.name.lower() for n in lowered)]
    for tag in personal:
        customer.tags.remove(tag)
        if not tag.customers.exists():
            tag.delete()
    return len(personal)


def erase_profile(customer, needles: list[str]) -> int:
    """Anonymise the customer row in place (orders keep pointing at it for analytics). The caller holds the row
    locked and records the event; this is the erasure's explicit write past ``services.update_customer``, whose
    validation (required custom fields, a real name) an erased profile cannot pass."""
    model = apps.get_model("customers", "Customer")
    fields = {
        "display_name": erased_name(customer.pk),
        "given_name": "",
        "family_name": "",
        "emails": [],
        "phones": [],
        "wechat_id": "",
        "company": "",
        "address": "",
        "custom_fields": {},
        "search_text": "",
        "profiling_opt_out": True,
        "version": customer.version + 1,
    }
    model.objects.filter(pk=customer.pk).update(**fields)
    for name, value in fields.items():
        setattr(customer, name, value)
    return 1


def register_customers_data() -> None:
    """The customers app's own records (called by the privacy app at start-up)."""
    register_exporter("profile", export_profile)
    register_exporter("tags", export_tags)
    register_exporter("custom_fields", export_custom_fields)
    register_exporter("identities", export_identities)
    register_eraser("identities", erase_identities)
    register_eraser("tags", erase_tags)
