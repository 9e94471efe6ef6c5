from guanxi.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed


class TicketNotFound(NotFound):
    """No such ticket, or one the user may not see (the same answer)."""

    code = "ticket_not_found"


class TicketInvalid(ValidationFailed):
    code = "ticket_invalid"


class TransitionNotAllowed(ValidationFailed):
    """A status change the ticket's status machine does not allow (422)."""

    code = "ticket_transition_not_allowed"


class TicketDenied(PermissionDenied):
    code = "ticket_denied"


class TicketClosed(Conflict):
    code = "ticket_closed"


class AttachmentTooLarge(ValidationFailed):
    code = "attachment_too_large"
