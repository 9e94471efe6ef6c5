from guanxi.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed


class NotInPool(NotFound):
    """The customer is not in a pool the user may claim from (or does not exist: the same answer)."""

    code = "not_in_pool"


class AlreadyClaimed(Conflict):
    code = "already_claimed"


class ClaimQuotaReached(Conflict):
    code = "claim_quota_reached"


class HoldingCapReached(Conflict):
    code = "holding_cap_reached"


class CustomerProtected(Conflict):
    code = "customer_protected"


class OwnerChanged(Conflict):
    """The owner changed since the request was made (a transfer of a customer someone else now owns)."""

    code = "owner_changed"


class TransferPending(Conflict):
    code = "transfer_pending"


class TransferDecided(Conflict):
    code = "transfer_already_decided"


class TransferNotFound(NotFound):
    code = "transfer_not_found"


class OwnershipDenied(PermissionDenied):
    code = "ownership_denied"


class OwnershipInvalid(ValidationFailed):
    code = "ownership_invalid"
