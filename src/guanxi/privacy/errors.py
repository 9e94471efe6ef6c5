from guanxi.core.errors import PermissionDenied, ValidationFailed


class PrivacyActionDenied(PermissionDenied):
    code = "privacy_action_denied"


class ConsentInvalid(ValidationFailed):
    code = "consent_invalid"


class ErasureInvalid(ValidationFailed):
    code = "erasure_invalid"
