"""The access policy: the one place that decides who sees and changes which customers (DESIGN.md, security).

- admin: every customer.
- manager: the customers of the teams they lead, plus those they own or that are shared with them.
- sales rep: the customers they own, plus those shared with them. Only the owner may delete.
- support agent: the customers behind tickets in their queues (the service app registers that scope with
  ``register_support_scope``); read-only on the profile.
- analyst: aggregates only. They may list customers for counts, but the API and pages give them the
  non-personal fields only (``can_see_personal_data``), and they change nothing.

Every selector starts from ``visible_customers``/``customer_q`` so that a customer outside the caller's scope is
simply not found (404) by the same query that would fetch it. Bypasses say so: ``system=True``.
"""

from collections.abc import Callable

from django.apps import apps
from django.db.models import Q, QuerySet

ADMIN, MANAGER, SALES, SUPPORT, ANALYST = "admin", "manager", "sales", "support", "analyst"

_support_scopes: list[Callable[[object, str], Q]] = []

NOTHING = Q(pk__in=[])


def register_support_scope(scope: Callable[[object, str], Q]) -> None:
    """Let an app widen what support agents see: ``scope(user, prefix)`` returns a Q over customers."""
    if scope not in _support_scopes:
        _support_scopes.append(scope)


def role_of(user) -> str | None:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if user.is_superuser:
        return ADMIN
    return user.role


def _prefixed(prefix: str, **lookups) -> Q:
    return Q(**{f"{prefix}{key}": value for key, value in lookups.items()})


def _owned_or_shared(user, prefix: str) -> Q:
    # A list, not a subquery: PostgreSQL then combines the owner index with the search indexes (bitmap OR)
    # instead of filtering every search hit through a subplan. A rep has few shares.
    shared = list(
        apps.get_model("customers", "CustomerShare").objects.filter(user=user).values_list("customer_id", flat=True)
    )
    return _prefixed(prefix, owner_id=user.pk) | _prefixed(prefix, pk__in=shared)


def _led_team_ids(user):
    return apps.get_model("accounts", "Team").objects.filter(managers=user).values("pk")


def customer_q(user, *, via: str = "", for_write: bool = False, for_delete: bool = False) -> Q | None:
    """The filter that limits customers to what ``user`` may see (or change); None means no limit.

    ``via`` is the path from the queried model to the customer, e.g. ``"customer"`` for orders.
    """
    prefix = f"{via}__" if via else ""
    role = role_of(user)
    if role == ADMIN:
        return None
    if role == MANAGER:
        return _prefixed(prefix, team_id__in=_led_team_ids(user)) | _owned_or_shared(user, prefix)
    if role == SALES:
        if for_delete:
            return _prefixed(prefix, owner_id=user.pk)
        return _owned_or_shared(user, prefix)
    if role == SUPPORT and not (for_write or for_delete):
        q = NOTHING
        for scope in _support_scopes:
            q |= scope(user, prefix)
        return q
    if role == ANALYST and not (for_write or for_delete):
        return None
    return NOTHING


def visible_customers(user, *, system: bool = False, include_deleted: bool = False) -> QuerySet:
    """Customers ``user`` may read. ``system=True`` is for jobs and admin tools that act for no user."""
    customers = apps.get_model("customers", "Customer").objects.all()
    if not include_deleted:
        customers = customers.filter(deleted_at__isnull=True)
    if system:
        return customers
    q = customer_q(user)
    return customers if q is None else customers.filter(q)


def editable_customers(user, *, for_delete: bool = False) -> QuerySet:
    customers = apps.get_model("customers", "Customer").objects.filter(deleted_at__isnull=True)
    q = customer_q(user, for_write=True, for_delete=for_delete)
    return customers if q is None else customers.filter(q)


def restrict(queryset: QuerySet, user, *, via: str) -> QuerySet:
    """Limit any queryset of records that belong to a customer (orders, tickets ...) to visible customers."""
    q = customer_q(user, via=via)
    queryset = queryset.filter(**{f"{via}__deleted_at__isnull": True})
    return queryset if q is None else queryset.filter(q)


def pool_team_ids(user) -> set[int] | None:
    """Teams whose public pool (公海) ``user`` may browse and claim from; None means every team.

    Reps and managers: their own team; managers also the teams they lead; admins every team; support agents
    and analysts none.
    """
    role = role_of(user)
    if role == ADMIN:
        return None
    if role not in (SALES, MANAGER):
        return set()
    ids = {user.team_id} if user.team_id else set()
    if role == MANAGER:
        ids |= set(_led_team_ids(user).values_list("pk", flat=True))
    return ids


def pool_customers(user) -> QuerySet:
    """Customers waiting in a pool ``user`` may claim from: no owner, a team in ``pool_team_ids(user)``.

    This widens what a rep may see beyond ``visible_customers``, so callers show only the pool summary
    (name, company, region, industry, last order); the full profile opens once the customer is claimed.
    """
    customers = apps.get_model("customers", "Customer").objects.filter(
        deleted_at__isnull=True, owner__isnull=True, team__isnull=False
    )
    team_ids = pool_team_ids(user)
    return customers if team_ids is None else customers.filter(team_id__in=team_ids)


def can_see_personal_data(user) -> bool:
    return role_of(user) in {ADMIN, MANAGER, SALES, SUPPORT}


def can_create_customers(user) -> bool:
    return role_of(user) in {ADMIN, MANAGER, SALES}


def can_assign_owner(user) -> bool:
    """Reps cannot hand customers to each other directly: transfers go through a manager (issue 3)."""
    return role_of(user) in {ADMIN, MANAGER}


def managed_team_ids(user) -> set[int] | None:
    """Teams whose customers ``user`` may assign; None means any team."""
    role = role_of(user)
    if role == ADMIN:
        return None
    if role == MANAGER:
        return set(_led_team_ids(user).values_list("pk", flat=True))
    return set()


def can_view_audit(user) -> bool:
    return role_of(user) in {ADMIN, MANAGER, SALES, SUPPORT}
