import pytest


@pytest.fixture
def queue_a(teams):
    from guanxi.tickets.models import Queue

    return Queue.objects.create(name="Team A desk", team=teams[0])


@pytest.fixture
def queue_b(teams):
    from guanxi.tickets.models import Queue

    return Queue.objects.create(name="Team B desk", team=teams[1])


@pytest.fixture
def new_ticket(users, queue_a):
    from guanxi.tickets import services

    def make(customer, **data):
        data = {"customer_id": customer.pk, "subject": "Broken kettle", "category": "question", **data}
        data.setdefault("queue_id", queue_a.pk)
        return services.create_ticket(actor=data.pop("actor", users["admin"]), data=data)

    return make
