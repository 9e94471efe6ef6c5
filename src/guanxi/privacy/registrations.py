"""What the privacy app plugs into others at start-up: the personal-data exporters/erasers of the apps that do
not register their own yet (customers, commerce, segments, core's audit trail, consents) and the customer
page's privacy panel and buttons."""

from typing import Any

from django.apps import apps

from guanxi.customers import personal_data
from guanxi.customers.panels import Panel, register_panel


def export_orders(customer) -> list[dict[str, Any]]:
    Order = apps.get_model("commerce", "Order")
    return [
        {
            "order_number": o.external_id,
            "ordered_at": o.ordered_at,
            "amount": o.amount,
            "currency": o.currency,
            "lines": "; ".join(f"{line.quantity} × {line.description or line.product}" for line in o.lines.all()),
        }
        for o in Order.objects.filter(customer=customer).prefetch_related("lines__product").order_by("ordered_at")
    ]


def export_scores(customer) -> list[dict[str, Any]]:
    History = apps.get_model("segments", "CustomerScoreHistory")
    fields = ("as_of", "segment", "abc_tier", "value_tier", "p_alive", "clv", "order_count", "revenue")
    return list(History.objects.filter(customer=customer).order_by("as_of").values(*fields))


def erase_scores(customer, needles: list[str]) -> int:
    """Scores are profiling about the person: gone with the rest (the erased customer is opted out, so no
    later run scores them again). The orders behind them stay."""
    touched = 0
    for model in ("CustomerScore", "CustomerScoreHistory", "Recommendation"):
        deleted, _detail = apps.get_model("segments", model).objects.filter(customer=customer).delete()
        touched += deleted
    return touched


def export_audit(customer) -> list[dict[str, Any]]:
    AuditEntry = apps.get_model("core", "AuditEntry")
    return [
        {"at": e.at, "actor": e.actor_label, "action": e.action, "changes": e.changes}
        for e in AuditEntry.objects.filter(subject_type="customers.customer", subject_id=customer.pk).order_by("at")
    ]


def export_consents(customer) -> list[dict[str, Any]]:
    from guanxi.privacy.models import Consent

    return [
        {
            "channel": c.channel,
            "status": c.status,
            "source": c.source,
            "evidence": c.evidence,
            "recorded_at": c.recorded_at,
            "recorded_by": c.recorded_by.get_username() if c.recorded_by else "",
        }
        for c in Consent.objects.filter(customer=customer).select_related("recorded_by").order_by("recorded_at")
    ]


def erase_consents(customer, needles: list[str]) -> int:
    """Consent history goes with the person (the erasure log is the proof kept); without a consent, may_contact
    says no on every channel. Consent is append-only: this queryset delete is the erasure's bypass."""
    from guanxi.privacy.models import Consent

    deleted, _detail = Consent.objects.filter(customer=customer).delete()
    return deleted


def register() -> None:
    from guanxi.privacy import views

    personal_data.register_customers_data()
    personal_data.register_exporter("orders", export_orders)
    personal_data.register_exporter("scores", export_scores)
    personal_data.register_eraser("scores", erase_scores)
    personal_data.register_exporter("audit_trail", export_audit)
    personal_data.register_exporter("consents", export_consents)
    personal_data.register_eraser("consents", erase_consents)
    register_panel(Panel("privacy", "privacy/_panel.html", views.panel_context, order=80))
    register_panel(Panel("privacy-actions", "privacy/_actions.html", views.actions_context, order=80, slot="actions"))
