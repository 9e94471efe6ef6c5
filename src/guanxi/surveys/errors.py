from guanxi.core.errors import Conflict, GuanxiError, NotFound, PermissionDenied, ValidationFailed


class SurveyNotFound(NotFound):
    code = "survey_not_found"


class SurveyDenied(PermissionDenied):
    code = "survey_denied"


class SurveyInvalid(ValidationFailed):
    code = "survey_invalid"


class InvitationNotFound(NotFound):
    """The link's token matches no invitation."""

    code = "survey_link_invalid"


class InvitationExpired(GuanxiError):
    status, code = 410, "survey_link_expired"


class AlreadyAnswered(Conflict):
    code = "survey_already_answered"


class AnswersInvalid(ValidationFailed):
    """``details`` maps ``q<question id>`` to that question's problems."""

    code = "survey_answers_invalid"
