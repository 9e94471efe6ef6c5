from guanxi.core.errors import AuthenticationRequired, NotFound, ValidationFailed


class InvalidToken(AuthenticationRequired):
    code = "invalid_token"


class TokenNotFound(NotFound):
    code = "token_not_found"


class UserInvalid(ValidationFailed):
    code = "user_invalid"
