"""The funnel view (awareness -> consideration -> purchase -> support -> loyalty), decided by fixed rules.

A customer's funnel stage is the furthest one whose rule matches, and it never moves back: the funnel counts
who *reached* each stage. The rules (in the rule language, so they run in the same query as the stages):

- loyalty: a repeat purchase (two orders or more; the loyal lifecycle stage needs more than that anyway);
- support: contact after the first purchase (an interaction logged after it), or any support signal another
  app registers (``register_support_signal("has_ticket")`` once the service app has a boolean ``has_ticket``
  rule field);
- purchase: an order;
- consideration: any logged interaction, or the customer came in through an inbound channel (web form, phone,
  e-mail, WeChat, social media, referral, event, store);
- awareness: every customer (the default).
"""

from guanxi.core import rules
from guanxi.lifecycle.models import FUNNEL_ORDER, FunnelStage

INBOUND_SOURCES = ("web_form", "phone", "email", "wechat", "social", "referral", "event", "store")

_support_signals: list[str] = []


def register_support_signal(field_name: str) -> None:
    """Count customers matching the boolean rule field ``field_name`` as having reached the support stage."""
    if field_name not in _support_signals:
        _support_signals.append(field_name)


def funnel_rules() -> list[tuple[int, rules.Rule]]:
    """``(rank, rule)`` from the furthest stage down; rank is the index in ``FUNNEL_ORDER``."""
    support = " or ".join(["contacted_after_purchase", *_support_signals])
    inbound = ", ".join(f'"{source}"' for source in INBOUND_SOURCES)
    texts = [
        (FunnelStage.LOYALTY, "orders >= 2"),
        (FunnelStage.SUPPORT, support),
        (FunnelStage.PURCHASE, "orders >= 1"),
        (FunnelStage.CONSIDERATION, f"contacted or source in ({inbound})"),
    ]
    return [(FUNNEL_ORDER.index(key), rules.parse(text)) for key, text in texts]


def rank(funnel_stage: str | None) -> int:
    return FUNNEL_ORDER.index(funnel_stage) if funnel_stage in FUNNEL_ORDER else -1
