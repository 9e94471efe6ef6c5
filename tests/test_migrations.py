from io import StringIO

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_models_and_migrations_agree():
    """Every model change has its migration (the suite's database itself is built from the migrations)."""
    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)


@pytest.mark.django_db(transaction=True)
def test_migrations_reverse_to_zero_and_apply_again(vendor):
    for app in ("commerce", "customers"):
        call_command("migrate", app, "zero", verbosity=0)
    call_command("migrate", verbosity=0)
    from guanxi.customers.models import Customer

    assert Customer.objects.count() == 0
