from guanxi.core.errors import Conflict, ValidationFailed


class NothingToScore(ValidationFailed):
    code = "nothing_to_score"


class ScoringAlreadyRunning(Conflict):
    code = "scoring_already_running"
