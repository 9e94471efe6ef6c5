"""Every read of customers, always through the access policy."""

from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import FieldDoesNotExist
from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _

from guanxi.accounts.models import Team, User
from guanxi.core import access
from guanxi.core.errors import PermissionDenied
from guanxi.core.models import AuditEntry
from guanxi.customers import normalize
from guanxi.customers.errors import CustomerNotFound
from guanxi.customers.models import Customer, CustomFieldDefinition, Tag

SORTS = {
    "created": ("created_at", "id"),
    "-created": ("-created_at", "-id"),
    "name": ("display_name", "id"),
    "-name": ("-display_name", "-id"),
    "updated": ("updated_at", "id"),
    "-updated": ("-updated_at", "-id"),
}


@dataclass(frozen=True)
class CustomerFilters:
    q: str = ""
    owner_id: int | None = None
    team_id: int | None = None
    tag: str = ""
    kind: str = ""
    created_after: datetime | None = None
    created_before: datetime | None = None
    sort: str = "-created"


def _with_relations(customers: QuerySet) -> QuerySet:
    return customers.select_related("owner", "team").prefetch_related(
        Prefetch("tags", queryset=Tag.objects.order_by("name"))
    )


def list_customers(user, filters: CustomerFilters = CustomerFilters()) -> QuerySet:
    customers = access.visible_customers(user)
    if filters.q and not access.can_see_personal_data(user):
        raise PermissionDenied(_("Your role cannot search customers by name or contact details."))
    if filters.q:
        needle = normalize.clean_text(filters.q).lower()
        if needle:
            customers = customers.filter(search_text__contains=needle)
    if filters.owner_id is not None:
        customers = customers.filter(owner_id=filters.owner_id)
    if filters.team_id is not None:
        customers = customers.filter(team_id=filters.team_id)
    if filters.tag:
        customers = customers.filter(tags__name=filters.tag)
    if filters.kind:
        customers = customers.filter(kind=filters.kind)
    if filters.created_after:
        customers = customers.filter(created_at__gte=filters.created_after)
    if filters.created_before:
        customers = customers.filter(created_at__lt=filters.created_before)
    return _with_relations(customers).order_by(*SORTS.get(filters.sort, SORTS["-created"]))


def get_customer(user, customer_id: int) -> Customer:
    """The customer if ``user`` may see it; otherwise CustomerNotFound, whether or not it exists."""
    customer = _with_relations(access.visible_customers(user)).filter(pk=customer_id).first()
    if customer is None:
        raise CustomerNotFound(_("No customer with id %(id)s.") % {"id": customer_id})
    return customer


def field_label(name: str) -> str:
    """The translated label of a customer field named in an audit entry."""
    try:
        return str(Customer._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:  # a field that no longer exists keeps its stored name
        return name


def _display(name: str, value, users: dict, teams: dict) -> str | None:
    """An audit value as a person reads it: names for ids, labels for choices, lists joined."""
    if value is None or value == "" or value == [] or value == {}:
        return None
    if name == "owner_id":
        return users.get(value, f"#{value}")
    if name == "team_id":
        return teams.get(value, f"#{value}")
    if name == "kind":
        return str(Customer.Kind(value).label) if value in Customer.Kind.values else value
    if name == "source":
        return str(Customer.Source(value).label) if value in Customer.Source.values else value
    if isinstance(value, list):
        return "、".join(map(str, value))
    if isinstance(value, dict):
        return "; ".join(f"{k}: {v}" for k, v in value.items())
    return str(value)


def customer_audit_trail(user, customer: Customer, limit: int = 50) -> list[AuditEntry]:
    """The audit entries of a customer the caller can already see (pass one from ``get_customer``).

    Each entry gets ``labelled_changes``: (field label, before, after) ready for display, with owner and team
    ids resolved to names (one query each, whatever the number of entries).
    """
    if not access.can_view_audit(user):
        return []
    entries = list(
        AuditEntry.objects.filter(subject_type=Customer._meta.label_lower, subject_id=customer.pk)
        .select_related("actor")
        .order_by("-at", "-id")[:limit]
    )
    ids: dict[str, set] = {"owner_id": set(), "team_id": set()}
    for entry in entries:
        for name in ids:
            ids[name].update(v for v in entry.changes.get(name, []) or [] if isinstance(v, int))
    users = {u.pk: str(u) for u in User.objects.filter(pk__in=ids["owner_id"])} if ids["owner_id"] else {}
    teams = dict(Team.objects.filter(pk__in=ids["team_id"]).values_list("pk", "name")) if ids["team_id"] else {}
    for entry in entries:
        entry.labelled_changes = []
        for name, values in entry.changes.items():
            before, after = values if isinstance(values, list) and len(values) == 2 else (None, values)
            entry.labelled_changes.append(
                (field_label(name), _display(name, before, users, teams), _display(name, after, users, teams))
            )
    return entries


def can_edit(user, customer: Customer) -> bool:
    return access.editable_customers(user).filter(pk=customer.pk).exists()


def can_delete(user, customer: Customer) -> bool:
    return access.editable_customers(user, for_delete=True).filter(pk=customer.pk).exists()


def custom_field_definitions() -> list[CustomFieldDefinition]:
    return list(CustomFieldDefinition.objects.filter(active=True))


def tag_names() -> list[str]:
    return list(Tag.objects.order_by("name").values_list("name", flat=True))


@dataclass(frozen=True)
class Collision:
    """An existing customer that a new one's phone, e-mail or name matches (the 撞单 check).

    ``owner`` is all a caller learns about a customer they cannot see; ``customer_id`` and ``display_name``
    are set only when they can see it.
    """

    field: str
    owner: str
    customer_id: int | None = None
    display_name: str = ""


COLLISION_LIMIT = 5


def collision_check(user, *, phone: str = "", email: str = "", name: str = "", wechat: str = "") -> list[Collision]:
    """Whether live customers already have this phone, e-mail, WeChat ID or exact name, across all owners.

    Only reps, managers and admins (who create customers) may ask. Invalid values match nothing.
    """
    from guanxi.customers import identities

    if not access.can_create_customers(user):
        raise PermissionDenied(_("Your role cannot create customers."))
    found: list[tuple[str, Customer]] = []
    probes = [("phone", identities.Kind.PHONE, phone), ("email", identities.Kind.EMAIL, email)]
    probes.append(("wechat_id", identities.Kind.WECHAT, wechat))
    for field, kind, raw in probes:
        if not raw:
            continue
        try:
            key = (kind.value, identities.normalize_value(kind, raw))
        except ValueError:
            continue
        for customer in identities.taken_by_others([key], None).values():
            found.append((field, customer))
    needle = normalize.clean_text(name)
    if needle:
        same_name = (
            access.visible_customers(user, system=True)
            .filter(display_name__iexact=needle)
            .select_related("owner")
            .order_by("pk")[:COLLISION_LIMIT]
        )
        found.extend(("name", customer) for customer in same_name)
    if not found:
        return []
    visible = set(access.visible_customers(user).filter(pk__in=[c.pk for _f, c in found]).values_list("pk", flat=True))
    personal = access.can_see_personal_data(user)
    out, seen = [], set()
    for field, customer in found:
        if (field, customer.pk) in seen:
            continue
        seen.add((field, customer.pk))
        mine = customer.pk in visible
        out.append(
            Collision(
                field=field,
                owner=identities.owner_label(customer),
                customer_id=customer.pk if mine else None,
                display_name=customer.display_name if mine and personal else "",
            )
        )
    return out[: COLLISION_LIMIT * 2]


def merge_history(user) -> QuerySet:
    """Merges into customers the user may change (the survivor), newest first."""
    from guanxi.customers.models import MergeRecord

    editable = access.editable_customers(user).values("pk")
    return MergeRecord.objects.filter(survivor_id__in=editable).select_related("survivor", "loser", "actor")
