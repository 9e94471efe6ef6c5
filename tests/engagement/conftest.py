import pytest


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Attachments go to a fresh directory per test."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def customers(users, make_customer):
    """One customer of rep (team A), one of rep2 (team A), one of rep_b (team B)."""
    return {
        "rep": make_customer(users["rep"], display_name="Wang Fang"),
        "rep2": make_customer(users["rep2"], display_name="Li Lei"),
        "rep_b": make_customer(users["rep_b"], display_name="Zhao Min"),
    }


@pytest.fixture
def log(users):
    """``log(actor, customer, **fields)``: log an interaction through the service (a phone call by default)."""
    from guanxi.engagement import services

    def make(actor, customer, **fields):
        fields.setdefault("channel", "phone")
        fields.setdefault("subject", "Call")
        return services.log_interaction(actor=actor, customer_id=customer.pk, **fields)

    return make
