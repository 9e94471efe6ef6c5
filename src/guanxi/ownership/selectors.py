"""Every read of ownership data, starting from the access policy."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.accounts.models import Team, User
from guanxi.commerce.models import Order
from guanxi.core import access
from guanxi.customers.errors import CustomerNotFound
from guanxi.customers.models import Customer
from guanxi.ownership import services
from guanxi.ownership.models import OwnershipChange, PoolRule, TransferRequest

# The pool summary: enough to choose whom to claim, no contact details.
POOL_FIELDS = ("id", "display_name", "company", "region", "industry", "team_id", "team__name", "created_at", "version")


def pool(user, *, q: str = "", region: str = "", industry: str = "", team_id: int | None = None) -> QuerySet:
    """Pool customers ``user`` may claim, as dicts of POOL_FIELDS plus ``last_order_at``; oldest first."""
    customers = access.pool_customers(user)
    if q:
        customers = customers.filter(search_text__contains=q.strip().lower())
    if region:
        customers = customers.filter(region=region)
    if industry:
        customers = customers.filter(industry=industry)
    if team_id is not None:
        customers = customers.filter(team_id=team_id)
    last_order = Order.objects.filter(customer=OuterRef("pk")).order_by("-ordered_at").values("ordered_at")[:1]
    return (
        customers.annotate(last_order_at=Subquery(last_order))
        .values(*POOL_FIELDS, "last_order_at")
        .order_by("created_at", "id")
    )


@dataclass(frozen=True)
class Standing:
    """How much room a rep has left: holdings against the cap, today's claims against the quota."""

    held: int
    cap: int | None
    claimed_today: int
    quota: int | None

    @property
    def can_claim(self) -> bool:
        return (self.cap is None or self.held < self.cap) and (self.quota is None or self.claimed_today < self.quota)


def standing(user) -> Standing:
    rule = services.rule_for(user.team_id)
    return Standing(
        held=services.holdings(user),
        cap=rule.holding_cap,
        claimed_today=services.claims_on(user, timezone.localdate()),
        quota=rule.daily_claim_quota,
    )


def customer_history(user, customer_id: int) -> list[OwnershipChange]:
    """The ownership history of a customer ``user`` can see, newest first; otherwise CustomerNotFound."""
    if not access.visible_customers(user).filter(pk=customer_id).exists():
        raise CustomerNotFound(_("No customer with id %(id)s.") % {"id": customer_id})
    return list(
        OwnershipChange.objects.filter(customer_id=customer_id)
        .select_related("from_user", "to_user", "actor", "team")
        .order_by("-at", "-id")
    )


def _transfers() -> QuerySet:
    return TransferRequest.objects.select_related(
        "customer", "from_user", "to_user", "requested_by", "decided_by"
    ).filter(customer__deleted_at__isnull=True)


def transfer_queue(user) -> QuerySet:
    """Pending requests ``user`` may decide: managers for the teams they lead, admins all."""
    if access.role_of(user) not in (access.ADMIN, access.MANAGER):
        return TransferRequest.objects.none()
    requests = _transfers().filter(status=TransferRequest.Status.PENDING)
    managed = access.managed_team_ids(user)
    if managed is not None:
        requests = requests.filter(customer__team_id__in=managed)
    return requests.order_by("created_at", "id")


def transfers(user, *, status: str = "") -> QuerySet:
    """Requests ``user`` made or is party to, plus those they may decide; newest first."""
    if access.role_of(user) is None:
        return TransferRequest.objects.none()
    scope = Q(requested_by=user) | Q(from_user=user) | Q(to_user=user)
    managed = access.managed_team_ids(user)
    if managed is None:
        scope = Q()
    elif managed:
        scope |= Q(customer__team_id__in=managed)
    requests = _transfers().filter(scope)
    if status:
        requests = requests.filter(status=status)
    return requests.order_by("-created_at", "-id")


def pending_transfer(customer_id: int) -> TransferRequest | None:
    """The pending request of a customer the caller already fetched through a selector."""
    return _transfers().filter(customer_id=customer_id, status=TransferRequest.Status.PENDING).first()


def manageable_teams(user) -> QuerySet:
    """Teams whose pool rules ``user`` may change."""
    managed = access.managed_team_ids(user)
    if access.role_of(user) not in (access.ADMIN, access.MANAGER):
        return Team.objects.none()
    return Team.objects.all() if managed is None else Team.objects.filter(pk__in=managed)


def team_rule(user, team_id: int) -> PoolRule:
    """The rule of a team ``user`` manages (unsaved defaults when none is stored); otherwise not found."""
    from guanxi.ownership.errors import OwnershipDenied

    if not manageable_teams(user).filter(pk=team_id).exists():
        raise OwnershipDenied(_("Only a manager of this team or an admin can see its pool rules."))
    return services.rule_for(team_id)


def transfer_candidates(user, customer: Customer) -> QuerySet:
    """Reps and managers a transfer of ``customer`` may go to: its team's (and the actor's own team)."""
    team_ids = {t for t in (customer.team_id, user.team_id) if t}
    return (
        User.objects.filter(is_active=True, role__in=services.OWNER_ROLES, team_id__in=team_ids)
        .exclude(pk=customer.owner_id)
        .order_by("username")
    )


def is_protected(customer: Customer) -> datetime | None:
    return services.protected_until(customer)
