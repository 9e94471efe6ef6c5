from guanxi.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed


class OfferNotFound(NotFound):
    code = "offer_not_found"


class OfferInvalid(ValidationFailed):
    code = "offer_invalid"


class OfferUnavailable(Conflict):
    """The offer is inactive, outside its validity window, or not for this customer (target rule, limit)."""

    code = "offer_unavailable"


class OfferInUse(Conflict):
    code = "offer_in_use"


class CouponNotFound(NotFound):
    """No such code, or one of a customer the caller may not see or another customer's (the same answer)."""

    code = "coupon_not_found"


class CouponAlreadyRedeemed(Conflict):
    code = "coupon_already_redeemed"


class CouponExpired(Conflict):
    code = "coupon_expired"


class CouponVoid(Conflict):
    code = "coupon_void"


class CampaignNotFound(NotFound):
    code = "campaign_not_found"


class CampaignInvalid(ValidationFailed):
    code = "campaign_invalid"


class CampaignLaunched(Conflict):
    code = "campaign_already_launched"


class OffersDenied(PermissionDenied):
    code = "offers_denied"
