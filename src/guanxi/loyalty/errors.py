from guanxi.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed


class InsufficientPoints(Conflict):
    """The balance does not cover the redemption; ``details`` carry ``balance`` and ``requested``."""

    code = "insufficient_points"


class MembershipNotFound(NotFound):
    """No such customer, or one the user may not see (the same answer)."""

    code = "membership_not_found"


class TierNotFound(NotFound):
    code = "tier_not_found"


class PointsInvalid(ValidationFailed):
    code = "points_invalid"


class TierInvalid(ValidationFailed):
    code = "tier_invalid"


class SourceKeyConflict(Conflict):
    """The source key was already used for another customer or another kind of entry."""

    code = "source_key_conflict"


class AdjustmentDenied(PermissionDenied):
    code = "adjustment_denied"


class LoyaltyDenied(PermissionDenied):
    code = "loyalty_denied"


class CampaignNotFound(NotFound):
    code = "bonus_campaign_not_found"
