"""Writes for users, teams and API tokens."""

import hashlib
import secrets
from datetime import timedelta

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.accounts.errors import InvalidToken, TokenNotFound, UserInvalid
from guanxi.accounts.models import ApiToken, Team, User
from guanxi.core import events

TOKEN_PREFIX = "gx_"  # noqa: S105 - a public prefix, not a secret
# Recording every request's use would turn each API read into a write; once a minute is precise enough.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def create_team(*, name: str, managers: list[User] = (), actor: User | None = None) -> Team:
    """Create a team (or return the one with that name), adding ``managers`` as its leads."""
    team, created = Team.objects.get_or_create(name=name)
    if managers:
        team.managers.add(*managers)
    if created:
        events.record(
            "team.created",
            subject=team,
            actor=actor,
            payload={"name": name},
            audit_action="create",
            changes={"name": [None, name]},
        )
    return team


@transaction.atomic
def create_user(
    *,
    username: str,
    role: str,
    team: Team | None = None,
    password: str | None = None,
    email: str = "",
    display_name: str = "",
    check_password_strength: bool = True,
    actor: User | None = None,
) -> User:
    """Create a user with a role. A password, when given, is validated and stored as an Argon2 hash.

    Without a password the account cannot log in until one is set. A manager leads the team given.
    """
    if role not in User.Role.values:
        raise UserInvalid(
            _("Unknown role %(role)s.") % {"role": role},
            role=[_("Choose one of: %s.") % ", ".join(User.Role.values)],
        )
    if User.objects.filter(username=username).exists():
        raise UserInvalid(_("A user named %(name)s already exists.") % {"name": username}, username=[_("Taken.")])
    user = User(username=username, role=role, team=team, email=email, display_name=display_name)
    user.is_staff = role == User.Role.ADMIN
    user.is_superuser = role == User.Role.ADMIN
    if password:
        if check_password_strength:
            try:
                validate_password(password, user)
            except ValidationError as exc:
                raise UserInvalid(_("The password is too weak."), password=list(exc.messages)) from exc
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    if role == User.Role.MANAGER and team is not None:
        team.managers.add(user)
    events.record(
        "user.created",
        subject=user,
        actor=actor,
        payload={"role": role, "team_id": team.pk if team else None},
        audit_action="create",
        changes={"username": [None, username], "role": [None, role]},
    )
    return user


@transaction.atomic
def create_api_token(*, user: User, name: str, actor: User | None = None) -> tuple[ApiToken, str]:
    """Issue a token for ``user``. Returns the record and the token itself, which is never stored."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    record = ApiToken.objects.create(user=user, name=name[:100], prefix=token[:10], digest=token_digest(token))
    events.record(
        "api_token.created",
        subject=record,
        actor=actor or user,
        payload={"user_id": user.pk, "name": name},
        audit_action="create",
        changes={"name": [None, name]},
    )
    return record, token


@transaction.atomic
def revoke_api_token(*, user: User, token_id: int) -> ApiToken:
    """Revoke one of ``user``'s tokens (admins may revoke anyone's). Idempotent."""
    tokens = ApiToken.objects.select_for_update()
    if not user.is_admin:
        tokens = tokens.filter(user=user)
    record = tokens.filter(pk=token_id).first()
    if record is None:
        raise TokenNotFound(_("No such token."))
    if record.revoked_at is None:
        record.revoked_at = timezone.now()
        record.save(update_fields=["revoked_at"])
        events.record(
            "api_token.revoked",
            subject=record,
            actor=user,
            payload={"user_id": record.user_id},
            audit_action="update",
            changes={"revoked_at": [None, record.revoked_at]},
        )
    return record


def authenticate_token(token: str) -> User:
    """The active user a bearer token belongs to; records when it was last used."""
    if not token.startswith(TOKEN_PREFIX):
        raise InvalidToken(_("Invalid API token."))
    record = ApiToken.objects.select_related("user").filter(digest=token_digest(token)).first()
    if record is None or record.revoked_at is not None or not record.user.is_active:
        raise InvalidToken(_("Invalid or revoked API token."))
    now = timezone.now()
    if record.last_used_at is None or now - record.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=record.pk).update(last_used_at=now)
    return record.user
