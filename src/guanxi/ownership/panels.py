"""What ownership adds to the customer page (customers.panels): header buttons and the ownership history."""

from guanxi.core import access
from guanxi.ownership import selectors, services


def actions(request, customer):
    """Release / request a transfer / claim, as the user's role and the customer's state allow."""
    user = request.user
    role = access.role_of(user)
    if role not in (access.ADMIN, access.MANAGER, access.SALES):
        return None
    managed = access.managed_team_ids(user)
    manages = managed is None or customer.team_id in managed
    is_owner = customer.owner_id == user.pk
    in_pool = customer.owner_id is None and customer.team_id is not None
    return {
        "can_release": customer.owner_id is not None and (is_owner or manages),
        "can_claim": in_pool and access.pool_customers(user).filter(pk=customer.pk).exists() and role != access.ADMIN,
        "can_request": customer.owner_id is not None,
        "pending": selectors.pending_transfer(customer.pk),
    }


def history(request, customer):
    if not access.can_view_audit(request.user):
        return None
    return {
        "changes": selectors.customer_history(request.user, customer.pk)[:50],
        "protected_until": services.protected_until(customer),
    }
