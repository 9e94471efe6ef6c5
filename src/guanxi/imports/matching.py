"""Finding the existing customer a row is about: one adapter over the customers app's identity lookup."""

from collections.abc import Iterable

Key = tuple[str, str]


def match_customers(pairs: Iterable[Key]) -> dict[Key, int]:
    """``{(kind, value): customer_id}`` among live customers, whoever owns them (the caller checks access)."""
    from guanxi.customers import identities

    return identities.match_customers(list(pairs))


def external_ids_of(customer) -> list[str]:
    from guanxi.customers import identities

    return identities.external_ids_of(customer)
