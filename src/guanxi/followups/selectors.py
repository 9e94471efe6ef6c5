"""Every read of follow-ups, starting from the access policy.

Who sees which follow-ups: a sales rep only those assigned to them; a manager those assigned to them plus those of
the customers of the teams they lead; an admin all; support agents and analysts none. The customer must also be
visible to the user (a rep whose customer went to someone else keeps no view of it) and not deleted. A follow-up
outside this scope is not found (404) by the same query that fetches it.
"""

import hashlib
import hmac
from dataclasses import dataclass
from datetime import date, timedelta

from django.apps import apps
from django.db.models import F, FloatField, Func, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Cast, Coalesce, Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.accounts.models import User
from guanxi.core import access
from guanxi.followups.errors import FollowUpNotFound, PolicyNotFound
from guanxi.followups.models import CadencePolicy, CalendarFeed, FollowUp


def follow_up_q(user) -> Q | None:
    """The filter of follow-ups ``user`` may see and work on; None means all of them."""
    role = access.role_of(user)
    if role == access.ADMIN:
        return None
    if role == access.MANAGER:
        return Q(assignee_id=user.pk) | Q(customer__team_id__in=access.managed_team_ids(user) or [])
    if role == access.SALES:
        return Q(assignee_id=user.pk)
    return access.NOTHING


def visible_follow_ups(user) -> QuerySet:
    follow_ups = FollowUp.objects.filter(customer__deleted_at__isnull=True)
    q = follow_up_q(user)
    if q is not None:
        follow_ups = follow_ups.filter(q)
    customer_q = access.customer_q(user, via="customer")
    if customer_q is not None:
        follow_ups = follow_ups.filter(customer_q)
    return follow_ups


def _with_relations(follow_ups: QuerySet) -> QuerySet:
    return follow_ups.select_related("customer", "assignee", "policy", "completed_by")


def get_follow_up(user, follow_up_id: int) -> FollowUp:
    follow_up = _with_relations(visible_follow_ups(user)).filter(pk=follow_up_id).first()
    if follow_up is None:
        raise FollowUpNotFound(_("No follow-up with id %(id)s.") % {"id": follow_up_id})
    return follow_up


def list_follow_ups(
    user,
    *,
    status: str = "",
    due_before: date | None = None,
    due_after: date | None = None,
    customer_id: int | None = None,
    assignee_id: int | None = None,
    team_id: int | None = None,
    mine: bool = True,
) -> QuerySet:
    """Follow-ups ``user`` may see, by due date. ``mine`` keeps those assigned to ``user``; a manager (or admin)
    passes ``mine=False`` with ``team_id`` or ``assignee_id`` for their team's."""
    follow_ups = visible_follow_ups(user)
    if mine:
        follow_ups = follow_ups.filter(assignee_id=user.pk)
    if status:
        follow_ups = follow_ups.filter(status=status)
    if due_before:
        follow_ups = follow_ups.filter(due_on__lt=due_before)
    if due_after:
        follow_ups = follow_ups.filter(due_on__gte=due_after)
    if customer_id:
        follow_ups = follow_ups.filter(customer_id=customer_id)
    if assignee_id:
        follow_ups = follow_ups.filter(assignee_id=assignee_id)
    if team_id:
        follow_ups = follow_ups.filter(customer__team_id=team_id)
    return _with_relations(follow_ups).order_by("due_on", "-priority", "id")


@dataclass(frozen=True)
class Agenda:
    """Open follow-ups split for the "My follow-ups" page (each list capped at ``limit``) with full counts."""

    overdue: list[FollowUp]
    today: list[FollowUp]
    upcoming: list[FollowUp]
    counts: dict[str, int]
    done_recently: list[FollowUp]


def agenda(user, *, today: date | None = None, team_id: int | None = None, limit: int = 100) -> Agenda:
    """The open follow-ups of ``user`` (or, for a manager with ``team_id``, of that team) by due date."""
    today = today or timezone.localdate()
    if team_id and access.role_of(user) in (access.MANAGER, access.ADMIN):
        base = list_follow_ups(user, status=FollowUp.Status.OPEN, team_id=team_id, mine=False)
        done = list_follow_ups(user, status=FollowUp.Status.DONE, team_id=team_id, mine=False)
    else:
        base = list_follow_ups(user, status=FollowUp.Status.OPEN)
        done = list_follow_ups(user, status=FollowUp.Status.DONE)
    sections = {
        "overdue": base.filter(due_on__lt=today),
        "today": base.filter(due_on=today),
        "upcoming": base.filter(due_on__gt=today),
    }
    counts = {name: qs.count() for name, qs in sections.items()}
    since = timezone.now() - timedelta(days=7)
    return Agenda(
        overdue=list(sections["overdue"][:limit]),
        today=list(sections["today"][:limit]),
        upcoming=list(sections["upcoming"][:limit]),
        counts=counts,
        done_recently=list(done.filter(completed_at__gte=since).order_by("-completed_at", "-id")[:20]),
    )


def customer_follow_ups(user, customer_id: int, *, limit: int = 20) -> list[FollowUp]:
    """Open follow-ups of one customer (already fetched through a selector) that ``user`` may see."""
    return list(
        list_follow_ups(user, status=FollowUp.Status.OPEN, customer_id=customer_id, mine=False)
        .select_related(None)
        .select_related("assignee")[:limit]
    )


def completed_for_timeline(user, customer_id: int, *, before=None, limit: int = 20) -> list[FollowUp]:
    """Completed follow-ups of a customer ``user`` may see, newest first (the customer timeline).

    Anyone who sees the customer sees that it was followed up, whoever the assignee was.
    """
    if not access.visible_customers(user).filter(pk=customer_id).exists():
        return []
    follow_ups = FollowUp.objects.filter(customer_id=customer_id, status=FollowUp.Status.DONE)
    if before is not None:
        follow_ups = follow_ups.filter(completed_at__lt=before)
    return list(follow_ups.select_related("assignee", "completed_by").order_by("-completed_at", "-id")[:limit])


def team_choices(user) -> QuerySet:
    """Teams whose follow-ups ``user`` may review (managers: the teams they lead; admins: all)."""
    from guanxi.accounts.models import Team

    managed = access.managed_team_ids(user)
    if access.role_of(user) not in (access.ADMIN, access.MANAGER):
        return Team.objects.none()
    return Team.objects.all() if managed is None else Team.objects.filter(pk__in=managed)


def assignee_choices(user, customer) -> QuerySet:
    """Who a follow-up of ``customer`` may be assigned to by ``user``.

    Reps: themselves and the owner. Managers and admins: the active reps and managers of the owner's team.
    """
    users = User.objects.filter(is_active=True, role__in=(User.Role.SALES, User.Role.MANAGER))
    role = access.role_of(user)
    if role == access.SALES:
        return users.filter(pk__in=[user.pk, customer.owner_id or user.pk]).order_by("username")
    team_id = customer.team_id or (customer.owner.team_id if customer.owner_id else None)
    if role in (access.MANAGER, access.ADMIN):
        q = Q(pk=customer.owner_id or 0) | Q(pk=user.pk)
        if team_id:
            q |= Q(team_id=team_id)
        return users.filter(q).order_by("username")
    return users.none()


def policies() -> QuerySet:
    return CadencePolicy.objects.all().order_by("priority", "key")


def get_policy(key: str) -> CadencePolicy:
    policy = CadencePolicy.objects.filter(key=key).first()
    if policy is None:
        raise PolicyNotFound(_("No cadence policy %(key)s.") % {"key": key})
    return policy


# ------------------------------------------------------------------------------------------- silent customers


class DayNumber(Func):
    """A date-time as a number of days (fractional), for differences in days on SQLite and PostgreSQL alike."""

    output_field = FloatField()

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, function="julianday", **extra)

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="(EXTRACT(EPOCH FROM %(expressions)s) / 86400.0)", **extra)


def silent_customers(user, *, now=None) -> QuerySet:
    """Customers ``user`` may see who have gone quiet for longer than their own usual purchase interval.

    Usual interval = ``recency_days / frequency`` of the customer's current score (days from the first to the last
    purchase over the repeat purchases: the mean time between purchases). Customers with no repeat purchase
    (frequency 0) or no score have no usual interval and are not listed. "Quiet" = no interaction and no order
    since; the last contact is the later of the last interaction and the last order (or the customer's creation).
    Annotates ``usual_interval_days``, ``silent_days``, ``last_order_at``, ``last_interaction_at``; biggest CLV
    first. Analysts get an empty list (they see aggregates only).
    """
    if not access.can_see_personal_data(user) or access.role_of(user) == access.SUPPORT:
        return access.visible_customers(user).none()
    now = now or timezone.now()
    order_model = apps.get_model("commerce", "Order")
    interaction_model = apps.get_model("engagement", "Interaction")
    last_order = order_model.objects.filter(customer=OuterRef("pk")).order_by("-ordered_at").values("ordered_at")[:1]
    last_interaction = (
        interaction_model.objects.filter(customer=OuterRef("pk")).order_by("-occurred_at").values("occurred_at")[:1]
    )
    customers = (
        access.visible_customers(user)
        .filter(score__frequency__gt=0, score__recency_days__gt=0)
        .annotate(
            last_order_at=Subquery(last_order),
            last_interaction_at=Subquery(last_interaction),
            usual_interval_days=Cast(F("score__recency_days"), FloatField())
            / Cast(F("score__frequency"), FloatField()),
        )
        .annotate(
            # Each side falls back on the other (and then on the creation), so a missing one never wins.
            last_contact_at=Greatest(
                Coalesce(F("last_order_at"), F("last_interaction_at"), F("created_at")),
                Coalesce(F("last_interaction_at"), F("last_order_at"), F("created_at")),
            )
        )
        .annotate(silent_days=DayNumber(Value(now)) - DayNumber(F("last_contact_at")))
        .filter(silent_days__gt=F("usual_interval_days"))
    )
    return customers.select_related("score", "owner").order_by(F("score__clv").desc(nulls_last=True), "pk")


# ---------------------------------------------------------------------------------------------- calendar feed


def feed_for(token: str) -> CalendarFeed | None:
    """The active user's feed whose token is ``token``, or None. Only the token's SHA-256 is stored; the lookup
    is by that digest (an attacker controls no prefix of it) and the match is confirmed in constant time."""
    if not token or len(token) > 200:
        return None
    digest = hashlib.sha256(token.encode()).hexdigest()
    feed = CalendarFeed.objects.select_related("user").filter(digest=digest, user__is_active=True).first()
    if feed is None or not hmac.compare_digest(feed.digest, digest):
        return None
    return feed


def feed_follow_ups(user) -> QuerySet:
    """The open follow-ups assigned to ``user`` (only theirs, whatever their role) of customers they still see."""
    return list_follow_ups(user, status=FollowUp.Status.OPEN).filter(assignee_id=user.pk)[:1000]


def calendar_feed(user) -> CalendarFeed | None:
    return CalendarFeed.objects.filter(user=user).first()
