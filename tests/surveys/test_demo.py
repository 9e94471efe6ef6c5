import datetime

import pytest


@pytest.mark.django_db
def test_the_demo_loader_does_nothing_without_resolved_tickets():
    from guanxi.demo import surveys
    from guanxi.surveys.models import Invitation

    surveys.load(seed=1, today=datetime.date(2025, 6, 1), progress=None)
    assert not Invitation.objects.exists()
