from guanxi.core.errors import NotFound, PermissionDenied, ValidationFailed


class SlaNotFound(NotFound):
    """No such policy, calendar, holiday or clock, or a ticket the user may not see (the same answer)."""

    code = "sla_not_found"


class SlaDenied(PermissionDenied):
    code = "sla_denied"


class PolicyInvalid(ValidationFailed):
    code = "sla_policy_invalid"


class CalendarInvalid(ValidationFailed):
    code = "sla_calendar_invalid"
