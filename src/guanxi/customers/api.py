from django.http import HttpRequest
from ninja import Query, Router, Status

from guanxi.core import access
from guanxi.core.errors import PermissionDenied
from guanxi.core.pagination import paginate
from guanxi.core.schemas import ERRORS, Id
from guanxi.customers import selectors, services
from guanxi.customers.models import Customer
from guanxi.customers.schemas import (
    CustomerCreate,
    CustomerList,
    CustomerOut,
    CustomerQuery,
    CustomerSummaryOut,
    CustomerUpdate,
    ShareIn,
    ShareOut,
)

router = Router(tags=["customers"])


def _summary(customer: Customer) -> dict:
    return {
        "id": customer.pk,
        "kind": customer.kind,
        "industry": customer.industry,
        "region": customer.region,
        "source": customer.source,
        "tags": [t.name for t in customer.tags.all()],
        "owner_id": customer.owner_id,
        "team_id": customer.team_id,
        "version": customer.version,
        "created_at": customer.created_at,
        "updated_at": customer.updated_at,
    }


def present(user, customer: Customer) -> dict:
    """The customer as ``user`` may see it: analysts get no personal fields."""
    data = _summary(customer)
    if access.can_see_personal_data(user):
        data.update(
            display_name=customer.display_name,
            given_name=customer.given_name,
            family_name=customer.family_name,
            emails=customer.emails,
            phones=customer.phones,
            wechat_id=customer.wechat_id,
            company=customer.company,
            address=customer.address,
            custom_fields=customer.custom_fields,
            profiling_opt_out=customer.profiling_opt_out,
        )
    return data


def _reload(request: HttpRequest, customer_id: Id) -> dict:
    return present(request.auth, selectors.get_customer(request.auth, customer_id))


@router.get("", response={200: CustomerList, **ERRORS})
def list_customers(request: HttpRequest, filters: Query[CustomerQuery]):
    """Customers you can see, newest first, with the total count for paging.

    Sales reps see the customers they own or that are shared with them; managers their teams'; analysts get
    every customer without personal fields.
    """
    data = filters.dict()
    limit, offset = data.pop("limit"), data.pop("offset")
    page = paginate(
        selectors.list_customers(request.auth, selectors.CustomerFilters(**data)), limit=limit, offset=offset
    )
    return {
        "items": [present(request.auth, c) for c in page.items],
        "total": page.total,
        "limit": limit,
        "offset": offset,
    }


@router.post("", response={201: CustomerOut, **ERRORS})
def create_customer(request: HttpRequest, payload: CustomerCreate):
    """Create a customer. A sales rep becomes its owner; managers may set ``owner_id`` within their teams."""
    data = payload.dict(exclude_unset=True)
    data.setdefault("source", "api")
    customer = services.create_customer(actor=request.auth, data=data)
    return Status(201, _reload(request, customer.pk))


@router.get("/{customer_id}", response={200: CustomerOut | CustomerSummaryOut, **ERRORS})
def get_customer(request: HttpRequest, customer_id: Id):
    """One customer. A customer you may not see is reported as not found."""
    return _reload(request, customer_id)


def _update(request: HttpRequest, customer_id: Id, payload: CustomerUpdate):
    data = payload.dict(exclude_unset=True)
    version = data.pop("version")
    services.update_customer(actor=request.auth, customer_id=customer_id, version=version, data=data)
    return _reload(request, customer_id)


@router.put("/{customer_id}", response={200: CustomerOut, **ERRORS})
def update_customer(request: HttpRequest, customer_id: Id, payload: CustomerUpdate):
    """Change the fields you send. ``version`` must be the version you read, or you get 409 and nothing changes."""
    return _update(request, customer_id, payload)


@router.patch("/{customer_id}", response={200: CustomerOut, **ERRORS})
def patch_customer(request: HttpRequest, customer_id: Id, payload: CustomerUpdate):
    """Same as PUT: only the fields sent change, and ``version`` is required."""
    return _update(request, customer_id, payload)


@router.delete("/{customer_id}", response={204: None, **ERRORS})
def delete_customer(request: HttpRequest, customer_id: Id, version: int | None = Query(None, ge=1, le=2**31 - 1)):
    """Soft-delete a customer you own (managers: their teams'). Pass ``version`` to guard against stale deletes."""
    services.delete_customer(actor=request.auth, customer_id=customer_id, version=version)
    return Status(204, None)


@router.post("/{customer_id}/shares", response={201: ShareOut, **ERRORS})
def share_customer(request: HttpRequest, customer_id: Id, payload: ShareIn):
    """Share a customer you own with a colleague, who can then see and edit it."""
    if not access.can_see_personal_data(request.auth):
        raise PermissionDenied("Your role cannot share customers.")
    services.share_customer(actor=request.auth, customer_id=customer_id, user_id=payload.user_id)
    return Status(201, {"customer_id": customer_id, "user_id": payload.user_id})


@router.delete("/{customer_id}/shares/{user_id}", response={204: None, **ERRORS})
def unshare_customer(request: HttpRequest, customer_id: Id, user_id: Id):
    """Stop sharing a customer with a colleague."""
    services.unshare_customer(actor=request.auth, customer_id=customer_id, user_id=user_id)
    return Status(204, None)
