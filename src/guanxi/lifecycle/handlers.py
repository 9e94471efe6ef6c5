"""In-transaction reactions: a customer's stage is re-decided in the transaction of the event that may change
it, so the order and its stage change (and automation's reaction to that) commit or roll back together."""

from guanxi.core.models import Event
from guanxi.lifecycle import services
from guanxi.lifecycle.models import StageTransition

EVENT = StageTransition.Source.EVENT


def on_order_placed(event: Event) -> None:
    services.evaluate_stages(customer_ids=[event.payload.get("customer_id")], source=EVENT)


def on_orders_placed(event: Event) -> None:
    services.evaluate_stages(customer_ids=event.payload.get("customer_ids") or [], source=EVENT)


# A customer created in this transaction is invisible to every other one: nothing to lock.
def on_customer_created(event: Event) -> None:
    services.evaluate_stages(customer_ids=[event.subject_id], source=EVENT, lock=False)


def on_customers_created(recorded: list[Event]) -> None:
    services.evaluate_stages(customer_ids=[event.subject_id for event in recorded], source=EVENT, lock=False)


def on_scores_updated(event: Event) -> None:
    services.evaluate_stages(source=EVENT)
