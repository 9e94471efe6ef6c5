"""Every write to customers. One transaction per use case; each emits a domain event and an audit entry."""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.accounts.models import Team, User
from guanxi.core import access, events
from guanxi.core.errors import GuanxiError
from guanxi.core.locking import bump_version, check_version
from guanxi.customers import identities, normalize
from guanxi.customers.errors import CustomerInvalid, CustomerNotFound, CustomerReadOnly, OwnerAssignmentDenied
from guanxi.customers.models import Customer, CustomerShare, CustomFieldDefinition, Tag

# The fields a create or update may set, in the order the audit trail lists them.
EDITABLE_FIELDS = (
    "kind",
    "display_name",
    "given_name",
    "family_name",
    "emails",
    "phones",
    "wechat_id",
    "company",
    "industry",
    "region",
    "address",
    "source",
    "tags",
    "custom_fields",
    "profiling_opt_out",
    "owner_id",
    "team_id",
)
TEXT_LIMITS = {
    "display_name": 200,
    "given_name": 100,
    "family_name": 100,
    "wechat_id": 100,
    "company": 200,
    "industry": 100,
    "region": 100,
    "address": 2000,
}
MAX_CONTACTS = 20
MAX_TAGS = 50


def _clean(data: Mapping[str, Any], *, current: Customer | None) -> dict[str, Any]:
    """Normalise and validate ``data``; collects every field's problem before raising CustomerInvalid."""
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    for name, value in data.items():
        if name not in EDITABLE_FIELDS:
            errors.setdefault(name, []).append(_("Unknown field."))
            continue
        try:
            clean[name] = _clean_field(name, value)
        except ValueError as exc:
            errors.setdefault(name, []).append(str(exc))
        except _FieldErrors as exc:
            for key, messages in exc.errors.items():
                errors.setdefault(f"{name}.{key}", []).extend(messages)

    merged = {f: getattr(current, f) for f in ("display_name", "given_name", "family_name")} if current else {}
    merged.update({k: v for k, v in clean.items() if k in merged or current is None})
    if not merged.get("display_name") and "display_name" not in errors:
        composed = normalize.compose_name(merged.get("family_name", ""), merged.get("given_name", ""))
        if not composed:
            composed = clean.get("company") or (current.company if current else "")
        if composed:
            clean["display_name"] = composed[:200]
        else:
            errors.setdefault("display_name", []).append(
                _("A customer needs a name (or given/family name, or company).")
            )
    if errors:
        raise CustomerInvalid(_("The customer data is not valid."), **errors)
    return clean


class _FieldErrors(Exception):
    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors


def _clean_field(name: str, value: Any) -> Any:
    if name in TEXT_LIMITS:
        if value is None:
            return ""
        if not isinstance(value, str):
            raise ValueError(_("Must be text."))
        text = value.strip() if name == "address" else normalize.clean_text(value)
        if len(text) > TEXT_LIMITS[name]:
            raise ValueError(_("At most %(n)d characters.") % {"n": TEXT_LIMITS[name]})
        return text
    if name == "kind":
        if value not in Customer.Kind.values:
            raise ValueError(_("Choose one of: %s.") % ", ".join(Customer.Kind.values))
        return value
    if name == "source":
        if value not in Customer.Source.values:
            raise ValueError(_("Choose one of: %s.") % ", ".join(Customer.Source.values))
        return value
    if name in ("emails", "phones", "tags"):
        return _clean_list(name, value)
    if name == "custom_fields":
        return clean_custom_fields(value)
    if name == "profiling_opt_out":
        if not isinstance(value, bool):
            raise ValueError(_("Must be true or false."))
        return value
    if name in ("owner_id", "team_id"):
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
            raise ValueError(_("Must be a positive id or null."))
        return value
    raise ValueError(_("Unknown field."))


def _clean_list(name: str, value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ValueError(_("Must be a list of text values."))
    limit = MAX_TAGS if name == "tags" else MAX_CONTACTS
    if len(value) > limit:
        raise ValueError(_("At most %(n)d values.") % {"n": limit})
    out: list[str] = []
    errors: dict[str, list[str]] = {}
    for index, item in enumerate(value):
        try:
            if name == "emails":
                item = normalize.normalize_email(item)
            elif name == "phones":
                item = normalize.normalize_phone(item)
            else:
                item = normalize.clean_text(item)
                if not item or len(item) > 50:
                    raise ValueError(_("A tag has 1 to 50 characters."))
        except ValueError as exc:
            errors[str(index)] = [str(exc)]
            continue
        if item not in out:
            out.append(item)
    if errors:
        raise _FieldErrors(errors)
    return out


def clean_custom_fields(value: Any) -> dict[str, Any]:
    """Check values against the active field definitions: unknown keys, wrong types and missing required ones."""
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise ValueError(_("Must be an object of field values."))
    definitions = {d.key: d for d in CustomFieldDefinition.objects.filter(active=True)}
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    for key, raw in value.items():
        definition = definitions.get(key)
        if definition is None:
            errors[key] = [_("Unknown custom field “%(key)s”.") % {"key": key}]
            continue
        if raw is None or raw == "":
            continue
        try:
            clean[key] = _clean_custom_value(definition, raw)
        except ValueError as exc:
            errors[key] = [str(exc)]
    for key, definition in definitions.items():
        if definition.required and key not in clean and key not in errors:
            errors[key] = [_("This field is required.")]
    if errors:
        raise _FieldErrors(errors)
    return clean


def _clean_custom_value(definition: CustomFieldDefinition, raw: Any) -> Any:
    kind = definition.field_type
    if kind == CustomFieldDefinition.FieldType.NUMBER:
        if isinstance(raw, bool):
            raise ValueError(_("Must be a number."))
        number = normalize.parse_number(raw)
        return int(number) if number == number.to_integral_value() and abs(number) < 2**53 else float(number)
    if kind == CustomFieldDefinition.FieldType.DATE:
        return normalize.parse_iso_date(raw).isoformat()
    if not isinstance(raw, str):
        raise ValueError(_("Must be text."))
    text = normalize.clean_text(raw)
    if kind == CustomFieldDefinition.FieldType.CHOICE and text not in definition.choices:
        raise ValueError(_("Choose one of: %s.") % ", ".join(map(str, definition.choices)))
    if len(text) > 1000:
        raise ValueError(_("At most %(n)d characters.") % {"n": 1000})
    return text


class _Lookups:
    """The reads ``_resolve_owner_and_team`` makes, memoised for the rows of one call (``create_customers``)."""

    def __init__(self) -> None:
        self.users: dict[int, User | None] = {}
        self.teams: dict[int, bool] = {}
        self.managed: dict[int, set[int] | None] = {}

    def active_user(self, pk: int) -> User | None:
        if pk not in self.users:
            self.users[pk] = User.objects.filter(pk=pk, is_active=True).first()
        return self.users[pk]

    def team_exists(self, pk: int) -> bool:
        if pk not in self.teams:
            self.teams[pk] = Team.objects.filter(pk=pk).exists()
        return self.teams[pk]

    def managed_team_ids(self, actor: User) -> set[int] | None:
        if actor.pk not in self.managed:
            self.managed[actor.pk] = access.managed_team_ids(actor)
        return self.managed[actor.pk]


def _resolve_owner_and_team(
    actor: User, clean: dict[str, Any], customer: Customer | None, lookups: _Lookups | None = None
) -> None:
    """Apply the ownership rules to ``clean`` (in place).

    - Whoever creates a customer owns it, unless a manager or admin names another owner, or null for the team's
      pool. Reps never change an owner or a team: transfers go through a manager.
    - The team follows a new owner unless one is given; a pool customer keeps a team so its managers see it.
    - Managers assign only within the teams they lead.
    """
    creating = customer is None
    if creating and "owner_id" not in clean:
        clean["owner_id"] = actor.pk
    current_owner = actor.pk if creating else customer.owner_id
    current_team = actor.team_id if creating else customer.team_id
    owner_id = clean.get("owner_id", current_owner)
    team_id = clean.get("team_id", current_team)
    if not access.can_assign_owner(actor):
        if owner_id != current_owner or ("team_id" in clean and team_id != current_team):
            raise OwnerAssignmentDenied(_("Ask a manager to transfer this customer; reps cannot reassign customers."))
        clean["owner_id"], clean["team_id"] = current_owner, current_team
        return
    if not creating and owner_id == customer.owner_id and team_id == customer.team_id:
        return
    lookups = lookups or _Lookups()
    owner = None
    if owner_id is not None:
        owner = lookups.active_user(owner_id)
        if owner is None:
            raise CustomerInvalid(_("The customer data is not valid."), owner_id=[_("No such active user.")])
    if clean.get("team_id") is None and (creating or owner_id != customer.owner_id):
        team_id = owner.team_id if owner else (clean.get("team_id") or current_team)
    allowed = lookups.managed_team_ids(actor)
    if team_id is None and allowed:
        team_id = min(allowed)
    if team_id is not None and not lookups.team_exists(team_id):
        raise CustomerInvalid(_("The customer data is not valid."), team_id=[_("No such team.")])
    if allowed is not None:
        owner_ok = owner is None or owner.pk == actor.pk or owner.team_id in allowed
        team_ok = team_id in allowed or (owner is not None and owner.pk == actor.pk and team_id == actor.team_id)
        if not (owner_ok and team_ok):
            raise OwnerAssignmentDenied(_("You can only assign customers within the teams you lead."))
    clean["owner_id"], clean["team_id"] = owner_id, team_id


def _set_tags(customer: Customer, names: Iterable[str]) -> None:
    names = list(names)
    existing = {t.name: t for t in Tag.objects.filter(name__in=names)}
    missing = [Tag(name=n) for n in names if n not in existing]
    if missing:
        Tag.objects.bulk_create(missing, ignore_conflicts=True)
        existing = {t.name: t for t in Tag.objects.filter(name__in=names)}
    customer.tags.set([existing[n] for n in names])


def _external_ids(data: Mapping[str, Any]) -> tuple[dict[str, Any], list[str] | None]:
    """Split the optional ``external_ids`` key (a list of "system:id") off the field data, normalised."""
    if "external_ids" not in data:
        return dict(data), None
    data = dict(data)
    value = data.pop("external_ids")
    if value is None:
        return data, []
    if not isinstance(value, list | tuple) or len(value) > identities.MAX_EXTERNAL_IDS:
        raise CustomerInvalid(
            _("The customer data is not valid."),
            external_ids=[_("A list of at most %(n)d “system:id” values.") % {"n": identities.MAX_EXTERNAL_IDS}],
        )
    clean: list[str] = []
    errors: dict[str, list[str]] = {}
    for index, item in enumerate(value):
        try:
            item = identities.normalize_external_id(item)
        except ValueError as exc:
            errors[f"external_ids.{index}"] = [str(exc)]
            continue
        if item not in clean:
            clean.append(item)
    if errors:
        raise CustomerInvalid(_("The customer data is not valid."), **errors)
    return data, sorted(clean)


def _refresh_search_text(customer: Customer) -> None:
    customer.search_text = normalize.search_text(customer)


def _state(customer: Customer, tags: list[str]) -> dict[str, Any]:
    state = events.snapshot(customer, [f for f in EDITABLE_FIELDS if f != "tags"])
    state["tags"] = sorted(tags)
    return state


@transaction.atomic
def create_customer(*, actor: User, data: Mapping[str, Any]) -> Customer:
    """Create a customer owned by the acting rep (managers and admins may name another owner).

    Emits ``customer.created``; writes one audit entry with every field set. Adds an Identity per e-mail,
    phone, WeChat ID and ``external_ids`` entry ("system:id"); raises IdentityConflict (409) when another live
    customer already holds one.
    """
    if not access.can_create_customers(actor):
        raise CustomerReadOnly(_("Your role cannot create customers."))
    data, external_ids = _external_ids(data)
    clean = _clean(data, current=None)
    _resolve_owner_and_team(actor, clean, None)
    tags = clean.pop("tags", [])
    customer = Customer(**clean)
    _refresh_search_text(customer)
    customer.save()
    _set_tags(customer, tags)
    identities.sync(customer, set(), identities.keys_of(customer, external_ids or ()))
    payload, changes = _created_event(customer, tags, external_ids)
    events.record(
        "customer.created", subject=customer, actor=actor, payload=payload, audit_action="create", changes=changes
    )
    return customer


def _created_event(customer: Customer, tags: list[str], external_ids: list[str] | None) -> tuple[dict, dict]:
    """The payload and audit changes of ``customer.created``."""
    after = _state(customer, tags)
    if external_ids:
        after["external_ids"] = external_ids
    payload = {"owner_id": customer.owner_id, "team_id": customer.team_id, "source": customer.source}
    return payload, events.diff({}, {k: v for k, v in after.items() if v not in ("", [], {}, None)})


@dataclass
class _NewCustomer:
    index: int
    customer: Customer
    tags: list[str]
    external_ids: list[str] | None
    keys: set[identities.Key] = field(default_factory=set)


@transaction.atomic
def create_customers(*, actor: User, rows: Sequence[Mapping[str, Any]]) -> list[Customer | GuanxiError]:
    """``create_customer`` for many rows in one transaction, with a few bulk statements instead of a dozen
    queries per row. Returns, per row in order, the created customer or the domain error that
    ``create_customer`` would have raised for it (CustomerInvalid, OwnerAssignmentDenied, IdentityConflict...).

    Creating the rows one after the other gives the same result: the same validation and ownership rules, the
    same derived fields, one ``customer.created`` event and one audit entry per customer with the same content,
    and the subscribers run for each event. A row whose e-mail, phone, WeChat ID or external id a live customer
    or an earlier row of the batch holds gets IdentityConflict. A failing row writes nothing; the others are
    created. Raises CustomerReadOnly (for the whole call) when the actor's role cannot create customers.
    """
    if not access.can_create_customers(actor):
        raise CustomerReadOnly(_("Your role cannot create customers."))
    results: list[Customer | GuanxiError | None] = [None] * len(rows)
    lookups = _Lookups()
    pending: list[_NewCustomer] = []
    for index, data in enumerate(rows):
        try:
            data, external_ids = _external_ids(data)
            clean = _clean(data, current=None)
            _resolve_owner_and_team(actor, clean, None, lookups)
        except GuanxiError as exc:
            results[index] = exc
            continue
        tags = clean.pop("tags", [])
        customer = Customer(**clean)
        _refresh_search_text(customer)
        keys = identities.keys_of(customer, external_ids or ())
        pending.append(_NewCustomer(index, customer, tags, external_ids, keys))
    ready: list[_NewCustomer] = []
    for new, conflict in zip(pending, identities.check_new_batch([(n.customer, n.keys) for n in pending]), strict=True):
        if conflict is None:
            ready.append(new)
        else:
            results[new.index] = conflict
    try:
        with transaction.atomic():
            _insert_new(actor, ready)
    except IntegrityError:
        # A concurrent writer took one of the identities between the check and the insert: the valid rows again,
        # one by one, so that only the rows it concerns fail (each as create_customer would).
        for new in pending:
            try:
                results[new.index] = create_customer(actor=actor, data=rows[new.index])
            except GuanxiError as exc:
                results[new.index] = exc
    else:
        for new in ready:
            results[new.index] = new.customer
    return results  # type: ignore[return-value]


def _insert_new(actor: User, new: list[_NewCustomer]) -> None:
    """The writes of ``create_customers`` for the rows that passed every check, in bulk."""
    if not new:
        return
    Customer.objects.bulk_create([n.customer for n in new])
    if any(n.customer.pk is None for n in new):  # SQLite and PostgreSQL both return the new keys
        raise RuntimeError("bulk_create did not return the customers' primary keys")
    names = list(dict.fromkeys(name for n in new for name in n.tags))
    if names:
        tag_ids = _tag_ids(names)
        through = Customer.tags.through
        through.objects.bulk_create(
            [through(customer_id=n.customer.pk, tag_id=tag_ids[name]) for n in new for name in n.tags]
        )
    identities.add_many((n.customer, n.keys) for n in new)
    entries = []
    for n in new:
        payload, changes = _created_event(n.customer, n.tags, n.external_ids)
        entries.append((n.customer, payload, changes))
    events.record_many("customer.created", entries, actor=actor, audit_action="create")


def _tag_ids(names: list[str]) -> dict[str, int]:
    """``{name: tag id}``, creating the tags that do not exist yet."""
    chunks = [names[i : i + 500] for i in range(0, len(names), 500)]
    found: dict[str, int] = {}
    for chunk in chunks:
        found.update(Tag.objects.filter(name__in=chunk).values_list("name", "pk"))
    missing = [Tag(name=name) for name in names if name not in found]
    if missing:
        Tag.objects.bulk_create(missing, ignore_conflicts=True)
        for chunk in chunks:
            found.update(Tag.objects.filter(name__in=chunk).values_list("name", "pk"))
    return found


def _locked_for_write(actor: User, customer_id: int, *, for_delete: bool = False) -> Customer:
    customer = (
        access.editable_customers(actor, for_delete=for_delete).select_for_update().filter(pk=customer_id).first()
    )
    if customer is None:
        if access.visible_customers(actor).filter(pk=customer_id).exists():
            raise CustomerReadOnly(_("You can see this customer but not change it."))
        raise CustomerNotFound(_("No customer with id %(id)s.") % {"id": customer_id})
    return customer


@transaction.atomic
def update_customer(*, actor: User, customer_id: int, version: int | None, data: Mapping[str, Any]) -> Customer:
    """Change some fields of a customer the actor may edit, if ``version`` is the stored one.

    A stale version raises StaleVersion and changes nothing. Emits ``customer.updated`` with the changed
    fields (and ``customer.owner_changed`` when the owner moves); no event when nothing changed. Identities
    follow the e-mails, phones, WeChat ID and (when sent) ``external_ids``; IdentityConflict (409) when a new
    one belongs to another live customer.
    """
    customer = _locked_for_write(actor, customer_id)
    check_version(customer, version)
    data, external_ids = _external_ids(data)
    clean = _clean(data, current=customer)
    _resolve_owner_and_team(actor, clean, customer)
    current_tags = sorted(customer.tags.values_list("name", flat=True))
    current_external = identities.external_ids_of(customer)
    before = _state(customer, current_tags)
    before_keys = identities.keys_of(customer, current_external)
    tags = clean.pop("tags", None)
    for name, value in clean.items():
        setattr(customer, name, value)
    after = _state(customer, tags if tags is not None else current_tags)
    if external_ids is not None:
        before["external_ids"], after["external_ids"] = current_external, external_ids
    changes = events.diff(before, after)
    if not changes:
        return customer
    _refresh_search_text(customer)
    bump_version(customer)
    customer.save()
    if tags is not None:
        _set_tags(customer, tags)
    identities.sync(
        customer, before_keys, identities.keys_of(customer, current_external if external_ids is None else external_ids)
    )
    events.record(
        "customer.updated",
        subject=customer,
        actor=actor,
        payload={"fields": sorted(changes), "version": customer.version},
        audit_action="update",
        changes=changes,
    )
    return customer


@transaction.atomic
def delete_customer(*, actor: User, customer_id: int, version: int | None = None) -> Customer:
    """Soft-delete a customer (owner, their manager or an admin). Its orders and history stay for analytics.

    Its identities are released, so a new customer may take its e-mails and phones."""
    customer = _locked_for_write(actor, customer_id, for_delete=True)
    if version is not None:
        check_version(customer, version)
    customer.deleted_at = timezone.now()
    bump_version(customer)
    customer.save(update_fields=["deleted_at", "version", "updated_at"])
    identities.release(customer)
    events.record(
        "customer.deleted",
        subject=customer,
        actor=actor,
        payload={"version": customer.version},
        audit_action="delete",
        changes={"deleted_at": [None, customer.deleted_at]},
    )
    return customer


@transaction.atomic
def change_tags(
    *, actor: User | None, customer_id: int, add: Iterable[str] = (), remove: Iterable[str] = (), system: bool = False
) -> Customer:
    """Add and remove tags of one customer without touching its other fields (automation rules, bulk tagging).

    ``system=True`` is for jobs and rules acting for no user (``actor`` may then be None); otherwise the actor
    must be allowed to edit the customer. Emits ``customer.updated`` with ``fields: ["tags"]`` and the added and
    removed names, and bumps the version; nothing when the tags do not change.
    """
    if system:
        customer = Customer.objects.select_for_update().filter(pk=customer_id, deleted_at__isnull=True).first()
        if customer is None:
            raise CustomerNotFound(_("No customer with id %(id)s.") % {"id": customer_id})
    else:
        customer = _locked_for_write(actor, customer_id)
    errors: dict[str, list[str]] = {}
    names: dict[str, list[str]] = {}
    for key, values in (("add", add), ("remove", remove)):
        try:
            names[key] = _clean_list("tags", list(values))
        except ValueError as exc:
            errors[key] = [str(exc)]
        except _FieldErrors as exc:
            errors.update({f"{key}.{index}": messages for index, messages in exc.errors.items()})
    if errors:
        raise CustomerInvalid(_("The customer data is not valid."), **errors)
    current = sorted(customer.tags.values_list("name", flat=True))
    wanted = [n for n in dict.fromkeys([*current, *names["add"]]) if n not in names["remove"]]
    if len(wanted) > MAX_TAGS:
        raise CustomerInvalid(_("The customer data is not valid."), tags=[_("At most %(n)d tags.") % {"n": MAX_TAGS}])
    if sorted(wanted) == current:
        return customer
    _set_tags(customer, wanted)
    bump_version(customer)
    customer.save(update_fields=["version", "updated_at"])
    events.record(
        "customer.updated",
        subject=customer,
        actor=actor,
        payload={
            "fields": ["tags"],
            "version": customer.version,
            "added": sorted(set(wanted) - set(current)),
            "removed": sorted(set(current) - set(wanted)),
        },
        audit_action="update",
        changes={"tags": [current, sorted(wanted)]},
    )
    return customer


@transaction.atomic
def share_customer(*, actor: User, customer_id: int, user_id: int) -> CustomerShare:
    """Let a colleague see and edit a customer. Only the owner, their manager or an admin may share."""
    customer = _locked_for_write(actor, customer_id, for_delete=True)
    colleague = User.objects.filter(pk=user_id, is_active=True).first()
    if colleague is None:
        raise CustomerInvalid(_("No such active user."), user_id=[_("No such active user.")])
    share, created = CustomerShare.objects.get_or_create(customer=customer, user=colleague)
    if created:
        events.record(
            "customer.shared",
            subject=customer,
            actor=actor,
            payload={"user_id": colleague.pk},
            audit_action="update",
            changes={"shared_with": [None, colleague.username]},
        )
    return share


@transaction.atomic
def unshare_customer(*, actor: User, customer_id: int, user_id: int) -> None:
    customer = _locked_for_write(actor, customer_id, for_delete=True)
    deleted, _detail = CustomerShare.objects.filter(customer=customer, user_id=user_id).delete()
    if deleted:
        events.record(
            "customer.unshared",
            subject=customer,
            actor=actor,
            payload={"user_id": user_id},
            audit_action="update",
            changes={"shared_with": [user_id, None]},
        )


# Ingest never changes these on an existing customer: ownership goes through transfers, the source is history.
_INGEST_KEEPS = ("emails", "phones", "owner_id", "team_id", "source", "tags", "custom_fields")


@transaction.atomic
def ingest_customer(*, actor: User, data: Mapping[str, Any]) -> tuple[Customer, bool]:
    """Attach incoming customer data to the customer it identifies, or create one. Returns (customer, created).

    The e-mails, phones, WeChat ID and ``external_ids`` are looked up exactly among live customers. One match
    that the actor may edit: its contact lists gain the new values and the other fields sent (non-empty)
    replace the stored ones, as one ``customer.updated``. No match: ``create_customer``. A match the actor may
    not edit, or several different customers matching: IdentityConflict (409), naming only the owners.
    """
    data, external_ids = _external_ids(data)
    try:
        emails = _clean_list("emails", data.get("emails"))
        phones = _clean_list("phones", data.get("phones"))
    except ValueError as exc:
        raise CustomerInvalid(_("The customer data is not valid."), contacts=[str(exc)]) from exc
    except _FieldErrors:
        _clean({k: data[k] for k in ("emails", "phones") if k in data}, current=Customer(display_name="-"))
        raise
    probe = Customer(emails=emails, phones=phones, wechat_id=normalize.clean_text(data.get("wechat_id") or ""))
    keys = identities.keys_of(probe, external_ids or ())
    matches = identities.taken_by_others(keys, None)
    found = {c.pk: c for c in matches.values()}
    if not found:
        if external_ids:
            data["external_ids"] = external_ids
        return create_customer(actor=actor, data=data), True
    editable = set(access.editable_customers(actor).filter(pk__in=list(found)).values_list("pk", flat=True))
    if len(found) > 1 or not editable:
        owners = sorted({identities.owner_label(c) for c in found.values()})
        raise identities.IdentityConflict(
            _("These contact details belong to customers you cannot update here."), owners=owners
        )
    customer = next(iter(found.values()))
    update: dict[str, Any] = {k: v for k, v in data.items() if k not in _INGEST_KEEPS and v not in ("", None, [], {})}
    update["emails"] = list(dict.fromkeys([*customer.emails, *emails]))
    update["phones"] = list(dict.fromkeys([*customer.phones, *phones]))
    if data.get("tags"):
        update["tags"] = sorted({*customer.tags.values_list("name", flat=True), *data["tags"]})
    if data.get("custom_fields"):
        update["custom_fields"] = {**customer.custom_fields, **data["custom_fields"]}
    if external_ids:
        update["external_ids"] = sorted({*identities.external_ids_of(customer), *external_ids})
    customer = update_customer(actor=actor, customer_id=customer.pk, version=customer.version, data=update)
    return customer, False
