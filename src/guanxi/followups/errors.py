from guanxi.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed


class FollowUpNotFound(NotFound):
    """No such follow-up, or one the user may not see (the same answer)."""

    code = "follow_up_not_found"


class FollowUpClosed(Conflict):
    """The follow-up is already done or cancelled."""

    code = "follow_up_closed"


class FollowUpDenied(PermissionDenied):
    code = "follow_up_denied"


class FollowUpInvalid(ValidationFailed):
    code = "follow_up_invalid"


class PolicyNotFound(NotFound):
    code = "cadence_policy_not_found"


class PolicyInvalid(ValidationFailed):
    code = "cadence_policy_invalid"


class FeedNotFound(NotFound):
    code = "calendar_feed_not_found"
