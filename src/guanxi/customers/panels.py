"""What other apps show on the customer page, without the customers app importing them.

An app registers a panel in its ``AppConfig.ready()``::

    from guanxi.customers.panels import Panel, register_panel

    register_panel(Panel("ownership", "ownership/_customer_panel.html", ownership_panel, order=20))

``context(request, customer)`` returns a dict that the template sees as ``panel`` (beside the page's own
variables: ``customer``, ``personal``, ``request`` ...), or None to show nothing (e.g. the user may not see
this part). Slots:

- ``main``: a section below the profile (interactions, recommendations, consent ...);
- ``actions``: buttons in the page header (claim, release, export, erase ...).

Panels are rendered in ``order``, then by key. A panel that raises is a bug; it is not hidden.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

Slot = Literal["main", "actions"]


@dataclass(frozen=True)
class Panel:
    key: str
    template: str
    context: Callable[[Any, Any], dict[str, Any] | None]
    order: int = 100
    slot: Slot = "main"


_panels: dict[str, Panel] = {}


def register_panel(panel: Panel) -> None:
    """Add (or replace, by key) a panel; replacing keeps re-registration on autoreload harmless."""
    _panels[panel.key] = panel


def panels_for(request, customer, slot: Slot) -> list[tuple[Panel, dict[str, Any]]]:
    """The panels of ``slot`` that have something to show, each with its context."""
    shown = []
    for panel in sorted(_panels.values(), key=lambda p: (p.order, p.key)):
        if panel.slot != slot:
            continue
        context = panel.context(request, customer)
        if context is not None:
            shown.append((panel, context))
    return shown
