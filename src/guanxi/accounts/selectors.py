from django.db.models import QuerySet

from guanxi.accounts.models import ApiToken, Team, User


def user_tokens(user: User) -> QuerySet:
    return ApiToken.objects.filter(user=user).order_by("-created_at")


def assignable_users(user: User) -> QuerySet:
    """Users a manager or admin may make owners of customers."""
    users = User.objects.filter(is_active=True, role__in=[User.Role.SALES, User.Role.MANAGER]).select_related("team")
    if user.is_admin:
        return users
    if user.role == User.Role.MANAGER:
        return users.filter(team__in=Team.objects.filter(managers=user)) | User.objects.filter(pk=user.pk)
    return User.objects.filter(pk=user.pk)


def visible_teams(user: User) -> QuerySet:
    if user.is_admin or user.role == User.Role.ANALYST:
        return Team.objects.all()
    if user.role == User.Role.MANAGER:
        return Team.objects.filter(managers=user)
    return Team.objects.filter(pk=user.team_id)
