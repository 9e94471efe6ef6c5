"""What counts as activity on a customer, for auto-release ("N days without any follow-up or order").

Last activity = the latest of: the customer's last order, the moment its current owner got it (claim,
assignment, transfer, creation), and the latest domain event about the customer whose type is registered
here. Apps whose events mean "someone worked on this customer" register them from ``AppConfig.ready()``::

    from guanxi.ownership.activity import register_activity_event
    register_activity_event("interaction.logged")

A registered event counts when its subject is the customer (``events.record(..., subject=customer)``). Apps
whose rows are the activity (an interaction, a completed follow-up) register the table instead, which an index on
(customer, time) answers without reading events::

    register_activity_table("engagement.Interaction", time_field="occurred_at")
"""

from django.apps import apps
from django.db.models import DateTimeField, F, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, Greatest

_activity_types: set[str] = set()
_activity_tables: dict[str, tuple[str, str, dict]] = {}


def register_activity_event(event_type: str) -> None:
    _activity_types.add(event_type)


def register_activity_table(model_label: str, *, time_field: str, customer_field: str = "customer", **filters) -> None:
    """Rows of ``model_label`` (restricted by ``filters``) count as activity on their customer at ``time_field``."""
    _activity_tables[model_label] = (customer_field, time_field, filters)


def unregister_activity_event(event_type: str) -> None:
    _activity_types.discard(event_type)


def activity_event_types() -> frozenset[str]:
    return frozenset(_activity_types)


def with_last_activity(customers: QuerySet) -> QuerySet:
    """Annotate ``owner_since``, ``last_order_at``, ``last_event_at`` and ``last_activity_at`` (never null).

    Three correlated subqueries, each on an index: (customer, at), (customer, ordered_at) and
    (subject_type, subject_id, occurred_at).
    """
    change = apps.get_model("ownership", "OwnershipChange")
    order = apps.get_model("commerce", "Order")
    event = apps.get_model("core", "Event")
    owner_since = Subquery(change.objects.filter(customer=OuterRef("pk")).order_by("-at", "-id").values("at")[:1])
    last_order = Subquery(
        order.objects.filter(customer=OuterRef("pk")).order_by("-ordered_at").values("ordered_at")[:1]
    )
    types = sorted(_activity_types)
    if types:
        last_event = Subquery(
            event.objects.filter(subject_type="customers.customer", subject_id=OuterRef("pk"), type__in=types)
            .order_by("-occurred_at")
            .values("occurred_at")[:1]
        )
    else:
        last_event = Value(None, output_field=DateTimeField())
    customers = customers.annotate(owner_since=owner_since, last_order_at=last_order, last_event_at=last_event)
    tables = {}
    for index, (label, (customer_field, time_field, filters)) in enumerate(sorted(_activity_tables.items())):
        rows = apps.get_model(label).objects.filter(**{customer_field: OuterRef("pk")}, **filters)
        tables[f"last_activity_{index}"] = Subquery(
            rows.exclude(**{f"{time_field}__isnull": True}).order_by(f"-{time_field}").values(time_field)[:1]
        )
    customers = customers.annotate(**tables)
    return customers.annotate(
        last_activity_at=Greatest(
            Coalesce(F("owner_since"), F("created_at")),
            Coalesce(F("last_order_at"), F("created_at")),
            Coalesce(F("last_event_at"), F("created_at")),
            *(Coalesce(F(name), F("created_at")) for name in tables),
            output_field=DateTimeField(),
        )
    )
