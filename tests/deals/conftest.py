import pytest


@pytest.fixture
def pipeline(db):
    from guanxi.deals.models import Pipeline

    return Pipeline.objects.get(is_default=True)


@pytest.fixture
def stages(pipeline):
    """The seeded stages of the default pipeline by key."""
    return {s.key: s for s in pipeline.stages.all()}


@pytest.fixture
def reason(db):
    from guanxi.deals.models import LostReason

    return LostReason.objects.get(key="price")


@pytest.fixture
def make_deal(db):
    from guanxi.deals import services

    def make(actor, customer, **data):
        data = {"customer_id": customer.pk, "title": "Deal", "value": "1000.00", **data}
        return services.create_deal(actor=actor, data=data)

    return make
