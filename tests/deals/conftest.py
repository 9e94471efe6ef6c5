import importlib

import pytest


@pytest.fixture(autouse=True)
def _deal_defaults(db):
    """The seeded Sales pipeline and lost reasons: a transactional test elsewhere in the suite flushes what the data
    migration wrote, so put it back (the seed is idempotent)."""
    from django.apps import apps

    importlib.import_module("guanxi.deals.migrations.0002_defaults").seed(apps, None)


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
