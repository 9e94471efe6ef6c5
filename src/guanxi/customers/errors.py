from guanxi.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed


class CustomerNotFound(NotFound):
    code = "customer_not_found"


class CustomerInvalid(ValidationFailed):
    code = "customer_invalid"


class OwnerAssignmentDenied(PermissionDenied):
    code = "owner_assignment_denied"


class CustomerReadOnly(PermissionDenied):
    code = "customer_read_only"


class IdentityConflict(Conflict):
    """An e-mail, phone, WeChat ID or external id already belongs to another live customer.

    ``details`` name the field and the other customer's owner (or the team pool), nothing else about it."""

    code = "identity_conflict"


class MergeNotAllowed(Conflict):
    code = "merge_not_allowed"


class MergeNotFound(NotFound):
    code = "merge_not_found"


class UndoNotPossible(Conflict):
    code = "undo_not_possible"


class CandidateNotFound(NotFound):
    code = "duplicate_candidate_not_found"
