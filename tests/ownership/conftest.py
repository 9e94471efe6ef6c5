import pytest


@pytest.fixture
def pool_customer(users, teams):
    """``pool_customer(team=teams[0], **fields)``: a customer with no owner in that team's pool."""
    from guanxi.customers import services

    def make(team=None, **fields):
        data = {"display_name": fields.pop("display_name", "Pool customer"), "owner_id": None}
        data["team_id"] = (team or teams[0]).pk
        data.update(fields)
        return services.create_customer(actor=users["admin"], data=data)

    return make


@pytest.fixture
def rule(teams):
    """``rule(team=teams[0], **fields)``: save that team's pool rule."""
    from guanxi.ownership.models import PoolRule

    def make(team=None, **fields):
        team = team or teams[0]
        obj, _created = PoolRule.objects.update_or_create(team=team, defaults=fields)
        return obj

    return make
