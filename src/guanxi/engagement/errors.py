from guanxi.core.errors import GuanxiError, NotFound, PermissionDenied, ValidationFailed


class InteractionNotFound(NotFound):
    """No such interaction, or one of a customer the user may not see (the same answer)."""

    code = "interaction_not_found"


class AttachmentNotFound(NotFound):
    code = "attachment_not_found"


class InteractionDenied(PermissionDenied):
    """The user's role may not log interactions (analysts), or the interaction is someone else's."""

    code = "interaction_denied"


class InteractionInvalid(ValidationFailed):
    code = "interaction_invalid"


class AttachmentInvalid(ValidationFailed):
    """An empty file, or a file name that is empty or could name a path."""

    code = "attachment_invalid"


class AttachmentTooLarge(GuanxiError):
    status, code = 413, "attachment_too_large"
