from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Status

from guanxi.core.pagination import paginate
from guanxi.core.schemas import ERRORS, Id
from guanxi.privacy import selectors, services
from guanxi.privacy.models import Consent, ErasureLog
from guanxi.privacy.schemas import ConsentIn, ConsentsOut, EraseIn, ErasureList, ErasureOut

router = Router(tags=["privacy"])


def _consent(c: Consent | None) -> dict | None:
    if c is None:
        return None
    return {
        "id": c.pk,
        "channel": c.channel,
        "status": c.status,
        "source": c.source,
        "evidence": c.evidence,
        "recorded_at": c.recorded_at,
        "recorded_by": c.recorded_by.get_username() if c.recorded_by else None,
    }


def _erasure(log: ErasureLog) -> dict:
    return {
        "id": log.pk,
        "customer_id": log.customer_id,
        "masked_identifiers": log.masked_identifiers,
        "reason": log.reason,
        "counts": log.counts,
        "erased_at": log.erased_at,
        "erased_by": log.erased_by_label,
    }


def _consents(request: HttpRequest, customer_id: int) -> dict:
    customer = selectors.visible_customer(request.auth, customer_id)
    return {
        "customer_id": customer.pk,
        "channels": [
            {"channel": s.channel, "may_contact": s.allowed, "current": _consent(s.current)}
            for s in selectors.consent_state(customer)
        ],
        "history": [_consent(c) for c in selectors.consent_history(customer)],
    }


@router.get("/customers/{customer_id}/consents", response={200: ConsentsOut, **ERRORS})
def get_consents(request: HttpRequest, customer_id: Id):
    """The customer's current consent per channel (``may_contact`` is what outreach must obey) and the history,
    newest first. Analysts and customers outside your scope get 404."""
    return _consents(request, customer_id)


@router.post("/customers/{customer_id}/consents", response={201: ConsentsOut, **ERRORS})
def record_consent(request: HttpRequest, customer_id: Id, payload: ConsentIn):
    """Record that the customer granted or withdrew consent for one channel (``email_marketing``, ``sms``,
    ``wechat``, ``phone``), with its source and evidence. Records are never changed; the latest one counts."""
    services.record_consent(actor=request.auth, customer_id=customer_id, **payload.dict())
    return Status(201, _consents(request, customer_id))


@router.get("/customers/{customer_id}/export", response={200: None, **ERRORS})
def export_customer(request: HttpRequest, customer_id: Id):
    """Everything about the customer as a zip (``customer.json`` plus one CSV per record type): the data
    subject access / portability request. Owner, their manager or an admin; audited."""
    data = services.export_customer(actor=request.auth, customer_id=customer_id)
    response = HttpResponse(data, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="customer-{customer_id}-personal-data.zip"'
    return response


@router.post("/customers/{customer_id}/erase", response={200: ErasureOut, **ERRORS})
def erase_customer(request: HttpRequest, customer_id: Id, payload: EraseIn):
    """Irreversibly erase the customer's personal data; orders stay for analytics. Admins, or the manager of
    the customer's team. Returns the erasure log (identifiers masked) kept as proof."""
    log = services.erase_customer(actor=request.auth, customer_id=customer_id, reason=payload.reason)
    return _erasure(log)


@router.get("/erasures", response={200: ErasureList, **ERRORS})
def list_erasures(request: HttpRequest, limit: int = Query(50, ge=1, le=200), offset: int = Query(0, ge=0)):
    """Erasure proofs, newest first: all for admins, their own for managers, none for other roles."""
    page = paginate(selectors.erasure_logs(request.auth), limit=limit, offset=offset)
    return {"items": [_erasure(log) for log in page.items], "total": page.total, "limit": limit, "offset": offset}
