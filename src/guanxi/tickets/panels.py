"""Side panels of the ticket detail page, registered by other apps (sla, surveys), same shape as
guanxi.customers.panels: ``register_ticket_panel(TicketPanel(key, template, context(request, ticket), order))``."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TicketPanel:
    key: str
    template: str
    context: Callable[[Any, Any], dict[str, Any] | None]
    order: int = 100


_panels: dict[str, TicketPanel] = {}


def register_ticket_panel(panel: TicketPanel) -> None:
    """Registering the same key again replaces the panel."""
    _panels[panel.key] = panel


def panels_for(request, ticket) -> list[tuple[TicketPanel, dict[str, Any]]]:
    """The panels that have something to show for this ticket (context not None), in order."""
    shown = []
    for panel in sorted(_panels.values(), key=lambda p: (p.order, p.key)):
        context = panel.context(request, ticket)
        if context is not None:
            shown.append((panel, context))
    return shown
