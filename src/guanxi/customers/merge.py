"""Merging two customer records into one, and undoing it.

The registry: every app whose rows belong to a customer adds itself, from its ``AppConfig.ready()``::

    from guanxi.customers.merge import register_related

    register_related("engagement.Interaction")                      # moved onto the survivor
    register_related("customers.CustomerShare", unique_with=("user",))  # moved unless the survivor has one
    register_related("segments.CustomerScore", on_merge="remove")   # the loser's is deleted (kept for undo)
    register_related("segments.CustomerScoreHistory", on_merge="keep")  # stays with the merged-away record

``merge_customers`` moves the loser's rows of every registered model onto the survivor, applies the chosen
field values, soft-deletes the loser with ``merged_into`` and writes a ``MergeRecord`` holding what
``undo_merge`` needs to restore both customers and every moved or removed row exactly.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from django.apps import apps
from django.core import serializers
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.accounts.models import User
from guanxi.core import access, events
from guanxi.core.locking import bump_version, check_version
from guanxi.customers import normalize
from guanxi.customers.errors import CustomerInvalid, CustomerNotFound, MergeNotFound, UndoNotPossible
from guanxi.customers.models import Customer, DuplicateCandidate, MergeRecord

OnMerge = Literal["move", "remove", "keep"]


@dataclass(frozen=True)
class Related:
    model_label: str
    customer_field: str = "customer"
    on_merge: OnMerge = "move"
    unique_with: tuple[str, ...] = ()
    unique_when: Q | None = None  # the condition of a partial unique constraint (only open rows, say)

    @property
    def model(self) -> type[models.Model]:
        return apps.get_model(self.model_label)


_registry: dict[tuple[str, str], Related] = {}


def register_related(
    model_label: str,
    customer_field: str = "customer",
    *,
    on_merge: OnMerge = "move",
    unique_with: tuple[str, ...] | list[str] = (),
    unique_when: Q | None = None,
) -> None:
    """Make merges take care of ``model_label``'s rows whose ``customer_field`` points at the loser.

    - ``move`` (default): point them at the survivor. With ``unique_with``, a loser row whose values of those
      fields the survivor already has (a unique constraint with the customer) is removed instead of moved.
      ``unique_when`` is the condition of a partial constraint: only rows matching it, on both sides, clash.
    - ``remove``: delete the loser's rows (derived data the survivor recomputes, e.g. current scores).
    - ``keep``: leave them on the merged-away record (its own history).

    Removed rows are kept serialised in the merge record and put back, with their ids, by ``undo_merge``.
    Registering the same model and field again replaces the entry (harmless on autoreload).
    """
    if on_merge not in ("move", "remove", "keep"):
        raise ValueError(f"on_merge must be move, remove or keep, not {on_merge!r}")
    _registry[(model_label.lower(), customer_field)] = Related(
        model_label, customer_field, on_merge, tuple(unique_with), unique_when
    )


def registered() -> list[Related]:
    """The registered models that are installed, in registration order."""
    out = []
    for entry in _registry.values():
        try:
            entry.model  # noqa: B018 - resolves the label
        except LookupError:
            continue
        out.append(entry)
    return out


# --- the fields a merge decides ----------------------------------------------------------------------------------

SCALAR_FIELDS = (
    "kind",
    "display_name",
    "given_name",
    "family_name",
    "wechat_id",
    "company",
    "industry",
    "region",
    "address",
    "source",
)
# emails and phones are always the union: whatever identified either record identifies the survivor.
UNION_FIELDS = ("emails", "phones")
CHOOSABLE = {**{f: ("survivor", "loser") for f in SCALAR_FIELDS}, "tags": ("union", "survivor", "loser")}
CHOOSABLE["custom_fields"] = ("union", "survivor", "loser")
CHOOSABLE["profiling_opt_out"] = ("either", "survivor", "loser")


def _tags(customer: Customer) -> list[str]:
    return sorted(customer.tags.values_list("name", flat=True))


def field_values(customer: Customer) -> dict[str, Any]:
    """The values a merge compares, as JSON."""
    values = events.snapshot(customer, (*SCALAR_FIELDS, *UNION_FIELDS, "custom_fields", "profiling_opt_out"))
    values["tags"] = _tags(customer)
    return values


def conflicts(survivor: Customer, loser: Customer) -> list[str]:
    """The fields where both records have a value and the values differ (the user picks one)."""
    a, b = field_values(survivor), field_values(loser)
    return [
        name
        for name in CHOOSABLE
        if a[name] not in ("", [], {}, None) and b[name] not in ("", [], {}, None) and a[name] != b[name]
    ]


def merged_values(survivor: Customer, loser: Customer, choices: Mapping[str, str]) -> dict[str, Any]:
    """What the survivor holds after the merge, given the user's choices (defaults where none is given).

    Defaults: the survivor's value, or the loser's where the survivor has none; e-mails, phones, tags and custom
    fields as the union (the survivor's custom field values win); opted out of profiling if either was.
    """
    errors = {}
    for name, choice in choices.items():
        if name not in CHOOSABLE:
            errors[name] = [_("This field is not chosen in a merge.")]
        elif choice not in CHOOSABLE[name]:
            errors[name] = [_("Choose one of: %(choices)s.") % {"choices": ", ".join(CHOOSABLE[name])}]
    if errors:
        raise CustomerInvalid(_("The merge choices are not valid."), **errors)
    a, b = field_values(survivor), field_values(loser)
    out: dict[str, Any] = {}
    for name in SCALAR_FIELDS:
        choice = choices.get(name)
        if choice == "loser" or (choice is None and a[name] in ("", None)):
            out[name] = b[name]
        else:
            out[name] = a[name]
    for name in UNION_FIELDS:
        out[name] = list(dict.fromkeys([*a[name], *b[name]]))
    tags = choices.get("tags", "union")
    out["tags"] = (
        a["tags"] if tags == "survivor" else b["tags"] if tags == "loser" else sorted({*a["tags"], *b["tags"]})
    )
    custom = choices.get("custom_fields", "union")
    out["custom_fields"] = (
        a["custom_fields"]
        if custom == "survivor"
        else b["custom_fields"]
        if custom == "loser"
        else {**b["custom_fields"], **a["custom_fields"]}
    )
    opt_out = choices.get("profiling_opt_out", "either")
    out["profiling_opt_out"] = (
        a["profiling_opt_out"]
        if opt_out == "survivor"
        else b["profiling_opt_out"]
        if opt_out == "loser"
        else a["profiling_opt_out"] or b["profiling_opt_out"]
    )
    return out


# --- exact state, for undo ------------------------------------------------------------------------------------------


def customer_state(customer: Customer) -> dict[str, Any]:
    """Every stored column of the customer (JSON) plus its tag ids: what undo puts back."""
    state = {f.attname: events.jsonable(getattr(customer, f.attname)) for f in Customer._meta.concrete_fields}
    state["tags"] = sorted(customer.tags.values_list("pk", flat=True))
    return state


def _restore_state(customer_id: int, state: Mapping[str, Any]) -> None:
    values = {}
    for field in Customer._meta.concrete_fields:
        if field.primary_key or field.attname not in state:
            continue
        values[field.attname] = field.to_python(state[field.attname])
    # update() does not touch auto_now columns, so updated_at comes back exactly too.
    Customer.objects.filter(pk=customer_id).update(**values)
    Customer.objects.get(pk=customer_id).tags.set(state.get("tags", []))


def _serialize(rows: list[models.Model]) -> list[dict]:
    # The "python" format plus our own JSON form: Django's JSON encoder would cut microseconds off.
    return events.jsonable(serializers.serialize("python", rows)) if rows else []


def _deserialize(rows: list[dict]) -> None:
    for obj in serializers.deserialize("python", rows):
        obj.save()  # a raw save: same primary key, no model save() logic (append-only rows come back too)


# --- the use cases --------------------------------------------------------------------------------------------------


def _lock_pair(actor: User, survivor_id: int, loser_id: int) -> tuple[Customer, Customer]:
    if survivor_id == loser_id:
        raise CustomerInvalid(
            _("The merge choices are not valid."), loser_id=[_("A customer cannot be merged into itself.")]
        )
    locked = {
        c.pk: c
        for c in access.editable_customers(actor)
        .select_for_update()
        .filter(pk__in=[survivor_id, loser_id])
        .order_by("pk")
    }
    for customer_id in (survivor_id, loser_id):
        if customer_id not in locked:
            # Seen or not, a customer the actor may not change is reported as not found (nothing is revealed).
            raise CustomerNotFound(_("No customer with id %(id)s.") % {"id": customer_id})
    return locked[survivor_id], locked[loser_id]


def _pair(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


@transaction.atomic
def merge_customers(
    *,
    actor: User,
    survivor_id: int,
    loser_id: int,
    field_choices: Mapping[str, str] | None = None,
    survivor_version: int | None,
    loser_version: int | None,
) -> MergeRecord:
    """Merge ``loser`` into ``survivor``. Both must be editable by the actor (else 404, as if unseen) and at
    the versions the actor saw (else 409).

    Moves the loser's rows of every registered model onto the survivor, applies ``field_choices`` (see
    ``merged_values`` for the defaults), soft-deletes the loser with ``merged_into`` pointing at the survivor,
    marks their duplicate candidate merged, and writes a MergeRecord for ``undo_merge``. Emits
    ``customer.merged`` (survivor) and ``customer.merged_into`` (loser), each with an audit entry.
    """
    survivor, loser = _lock_pair(actor, survivor_id, loser_id)
    check_version(survivor, survivor_version)
    check_version(loser, loser_version)
    choices = dict(field_choices or {})
    values = merged_values(survivor, loser, choices)
    survivor_before, loser_before = customer_state(survivor), customer_state(loser)
    before_values = field_values(survivor)

    moved: dict[str, dict[str, Any]] = {}
    removed: dict[str, list[dict]] = {}
    for entry in registered():
        if entry.on_merge == "keep":
            continue
        model = entry.model
        rows = model._base_manager.filter(**{entry.customer_field: loser.pk})
        if entry.on_merge == "remove":
            doomed = list(rows)
            ids: list[Any] = []
        else:
            doomed = []
            if entry.unique_with:
                survivor_rows = model._base_manager.filter(**{entry.customer_field: survivor.pk})
                candidates = rows
                if entry.unique_when is not None:
                    survivor_rows = survivor_rows.filter(entry.unique_when)
                    candidates = rows.filter(entry.unique_when)
                taken = set(survivor_rows.values_list(*entry.unique_with))
                for row in candidates:
                    if tuple(getattr(row, name) for name in _attnames(model, entry.unique_with)) in taken:
                        doomed.append(row)
            doomed_ids = {row.pk for row in doomed}
            ids = sorted(pk for pk in rows.values_list("pk", flat=True) if pk not in doomed_ids)
        if doomed:
            removed[entry.model_label] = _serialize(doomed)
            model._base_manager.filter(pk__in=[row.pk for row in doomed]).delete()
        if ids:
            model._base_manager.filter(pk__in=ids).update(**{entry.customer_field: survivor.pk})
            moved[entry.model_label] = {"field": entry.customer_field, "ids": ids}

    tags = values.pop("tags")
    for name, value in values.items():
        setattr(survivor, name, value)
    survivor.search_text = normalize.search_text(survivor)
    bump_version(survivor)
    survivor.save()
    survivor.tags.set(_tag_ids(tags))

    loser.deleted_at = timezone.now()
    loser.merged_into = survivor
    bump_version(loser)
    loser.save(update_fields=["deleted_at", "merged_into", "version", "updated_at"])

    candidate = DuplicateCandidate.objects.select_for_update().filter(
        customer_a_id=_pair(survivor.pk, loser.pk)[0], customer_b_id=_pair(survivor.pk, loser.pk)[1]
    )
    candidate = candidate.first()
    candidate_before = None
    if candidate is not None:
        candidate_before = {
            "id": candidate.pk,
            "status": candidate.status,
            "decided_by_id": candidate.decided_by_id,
            "decided_at": events.jsonable(candidate.decided_at),
            "updated_at": events.jsonable(candidate.updated_at),
        }
        candidate.status, candidate.decided_by, candidate.decided_at = (
            DuplicateCandidate.Status.MERGED,
            actor,
            timezone.now(),
        )
        candidate.save(update_fields=["status", "decided_by", "decided_at", "updated_at"])

    record = MergeRecord.objects.create(
        survivor=survivor,
        loser=loser,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        field_choices=choices,
        survivor_before=survivor_before,
        loser_before=loser_before,
        survivor_version_after=survivor.version,
        moved=moved,
        removed=removed,
        candidate_before=candidate_before,
    )
    counts = {label: len(info["ids"]) for label, info in moved.items()}
    payload = {"merge_id": record.pk, "survivor_id": survivor.pk, "loser_id": loser.pk, "moved": counts}
    changes = events.diff(before_values, {**values, "tags": tags})
    changes["merged_from"] = [None, loser.pk]
    events.record(
        "customer.merged", subject=survivor, actor=actor, payload=payload, audit_action="update", changes=changes
    )
    events.record(
        "customer.merged_into",
        subject=loser,
        actor=actor,
        payload=payload,
        audit_action="delete",
        changes={"merged_into": [None, survivor.pk], "deleted_at": [None, loser.deleted_at]},
    )
    return record


def _attnames(model: type[models.Model], names: tuple[str, ...]) -> list[str]:
    return [model._meta.get_field(name).attname for name in names]


def _tag_ids(names: list[str]) -> list[int]:
    Tag = apps.get_model("customers", "Tag")
    return list(Tag.objects.filter(name__in=names).values_list("pk", flat=True))


@transaction.atomic
def undo_merge(*, actor: User, merge_id: int) -> MergeRecord:
    """Put both customers and every moved or removed row back exactly as they were before the merge.

    The actor must be able to change the survivor (else 404). Refuses with UndoNotPossible (409) when the merge
    was undone already, when the survivor changed since (its version moved), or when a moved row is gone or
    belongs elsewhere now. Emits ``customer.merge_undone`` on both, each with an audit entry.
    """
    editable = access.editable_customers(actor).values("pk")
    record = MergeRecord.objects.select_for_update().filter(pk=merge_id, survivor_id__in=editable).first()
    if record is None:
        raise MergeNotFound(_("No merge with id %(id)s.") % {"id": merge_id})
    if record.undone_at is not None:
        raise UndoNotPossible(_("This merge was undone already."))
    survivor = Customer.objects.select_for_update().get(pk=record.survivor_id)
    loser = Customer.objects.select_for_update().get(pk=record.loser_id)
    if survivor.version != record.survivor_version_after or survivor.deleted_at is not None:
        raise UndoNotPossible(
            _("The surviving customer changed after the merge, so it cannot be undone automatically."),
            version=[str(survivor.version)],
        )
    if loser.merged_into_id != survivor.pk:
        raise UndoNotPossible(_("The merged-away customer changed after the merge."))

    entries = {e.model_label: e for e in registered()}
    for label, info in record.moved.items():
        model = entries[label].model if label in entries else apps.get_model(label)
        field, ids = info["field"], info["ids"]
        count = model._base_manager.filter(pk__in=ids, **{field: survivor.pk}).update(**{field: loser.pk})
        if count != len(ids):
            raise UndoNotPossible(
                _("Some records moved by the merge were changed or deleted since, so it cannot be undone."),
                model=[label],
            )
    for _label, rows in record.removed.items():
        _deserialize(rows)

    _restore_state(loser.pk, record.loser_before)
    _restore_state(survivor.pk, record.survivor_before)
    if record.candidate_before:
        DuplicateCandidate.objects.filter(pk=record.candidate_before["id"]).update(
            status=record.candidate_before["status"],
            decided_by_id=record.candidate_before["decided_by_id"],
            decided_at=record.candidate_before["decided_at"],
            updated_at=record.candidate_before["updated_at"],
        )
    record.undone_at = timezone.now()
    record.undone_by = actor if getattr(actor, "is_authenticated", False) else None
    record.save(update_fields=["undone_at", "undone_by"])
    payload = {"merge_id": record.pk, "survivor_id": survivor.pk, "loser_id": loser.pk}
    survivor.refresh_from_db()
    loser.refresh_from_db()
    events.record(
        "customer.merge_undone",
        subject=survivor,
        actor=actor,
        payload=payload,
        audit_action="update",
        changes={"merged_from": [loser.pk, None]},
    )
    events.record(
        "customer.merge_undone",
        subject=loser,
        actor=actor,
        payload=payload,
        audit_action="restore",
        changes={"merged_into": [survivor.pk, None], "deleted_at": [record.loser_before.get("deleted_at"), None]},
    )
    return record


def register_defaults() -> None:
    """The customers app's own tables, and those of apps that predate the registry. An app that registered
    itself already (its ready() ran first) keeps its own entry."""
    defaults = [
        ("customers.Identity", {}),
        ("customers.CustomerShare", {"unique_with": ("user",)}),
        ("commerce.Order", {}),
        ("segments.CustomerScore", {"on_merge": "remove"}),
        ("segments.CustomerScoreHistory", {"on_merge": "keep"}),
    ]
    for label, options in defaults:
        if (label.lower(), "customer") not in _registry:
            register_related(label, **options)
