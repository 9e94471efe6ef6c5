from django.http import HttpRequest
from ninja import Router, Status

from guanxi.accounts import selectors, services
from guanxi.accounts.schemas import MeOut, TokenCreate, TokenCreated, TokenOut
from guanxi.core.schemas import ERRORS, Id

router = Router(tags=["accounts"])


@router.get("/me", response={200: MeOut, **ERRORS})
def me(request: HttpRequest):
    """The user the request is authenticated as."""
    user = request.auth
    return {
        "id": user.pk,
        "username": user.username,
        "display_name": str(user),
        "role": user.role,
        "team_id": user.team_id,
    }


@router.get("/tokens", response={200: list[TokenOut], **ERRORS})
def list_tokens(request: HttpRequest):
    """Your API tokens (their prefixes only; a token is shown once, when created)."""
    return list(selectors.user_tokens(request.auth))


@router.post("/tokens", response={201: TokenCreated, **ERRORS})
def create_token(request: HttpRequest, payload: TokenCreate):
    """Create an API token for yourself. The response is the only time the token is shown."""
    record, token = services.create_api_token(user=request.auth, name=payload.name)
    return Status(201, {**TokenOut.from_orm(record).dict(), "token": token})


@router.delete("/tokens/{token_id}", response={204: None, **ERRORS})
def revoke_token(request: HttpRequest, token_id: Id):
    """Revoke one of your tokens; requests with it get 401 from then on."""
    services.revoke_api_token(user=request.auth, token_id=token_id)
    return Status(204, None)
