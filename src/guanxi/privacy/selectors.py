"""Every privacy read, starting from the access policy."""

from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from guanxi.core import access
from guanxi.customers.errors import CustomerNotFound
from guanxi.customers.models import Customer
from guanxi.privacy import services
from guanxi.privacy.models import Channel, Consent, ErasureLog

HISTORY_LIMIT = 50


@dataclass(frozen=True)
class ChannelState:
    channel: str
    label: str
    current: Consent | None

    @property
    def allowed(self) -> bool:
        return self.current is not None and self.current.status == Consent.Status.GRANTED


def visible_customer(user, customer_id: int) -> Customer:
    customer = access.visible_customers(user).filter(pk=customer_id).first()
    if customer is None or not access.can_see_personal_data(user):
        raise CustomerNotFound(_("No customer with id %(id)s.") % {"id": customer_id})
    return customer


def consent_history(customer: Customer, limit: int = HISTORY_LIMIT) -> list[Consent]:
    """A customer's consent statements, newest first (pass a customer from ``visible_customer``)."""
    return list(Consent.objects.filter(customer=customer).select_related("recorded_by")[:limit])


def consent_state(customer: Customer) -> list[ChannelState]:
    """The current consent of each channel, in the channels' order (one query)."""
    latest: dict[str, Consent] = {}
    for consent in (
        Consent.objects.filter(customer=customer).select_related("recorded_by").order_by("-recorded_at", "-id")
    ):
        latest.setdefault(consent.channel, consent)
    return [ChannelState(value, str(label), latest.get(value)) for value, label in Channel.choices]


def can_record_consent(user, customer: Customer) -> bool:
    return access.editable_customers(user).filter(pk=customer.pk).exists()


def can_export(user, customer: Customer) -> bool:
    return services.exportable_customers(user).filter(pk=customer.pk).exists()


def can_erase(user, customer: Customer) -> bool:
    return services.erasable_customers(user).filter(pk=customer.pk).exists()


def erasure_logs(user) -> QuerySet:
    """Erasure proofs: every one for admins; managers see those they made themselves; nobody else any."""
    role = access.role_of(user)
    if role == access.ADMIN:
        return ErasureLog.objects.all()
    if role == access.MANAGER:
        return ErasureLog.objects.filter(erased_by=user)
    return ErasureLog.objects.none()
