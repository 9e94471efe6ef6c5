from guanxi.core.errors import NotFound, PermissionDenied, ValidationFailed


class QualityDenied(PermissionDenied):
    """Service-quality analysis is for managers, support agents (their own figures), analysts and admins."""

    code = "quality_denied"


class AgentNotFound(NotFound):
    """No such agent, or one outside the caller's teams (the same answer)."""

    code = "agent_not_found"


class TrainingInvalid(ValidationFailed):
    code = "training_invalid"


class TrainingNotFound(NotFound):
    code = "training_session_not_found"
