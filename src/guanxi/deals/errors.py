from guanxi.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed


class DealNotFound(NotFound):
    """No such deal, or one the user may not see (the same answer)."""

    code = "deal_not_found"


class DealDenied(PermissionDenied):
    code = "deal_denied"


class DealInvalid(ValidationFailed):
    code = "deal_invalid"


class DealClosed(Conflict):
    """The deal is won or lost; reopen it first."""

    code = "deal_closed"


class PipelineNotFound(NotFound):
    code = "pipeline_not_found"


class PipelineInvalid(ValidationFailed):
    code = "pipeline_invalid"


class StageInUse(Conflict):
    code = "deal_stage_in_use"
