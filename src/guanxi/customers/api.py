from django.http import HttpRequest
from ninja import Query, Router, Status

from guanxi.core import access
from guanxi.core.errors import PermissionDenied, ValidationFailed
from guanxi.core.pagination import paginate
from guanxi.core.schemas import ERRORS, Id
from guanxi.customers import duplicates, identities, merge, selectors, services
from guanxi.customers.models import Customer
from guanxi.customers.schemas import (
    CandidateList,
    CandidateOut,
    CustomerCreate,
    CustomerIngest,
    CustomerList,
    CustomerOut,
    CustomerQuery,
    CustomerSummaryOut,
    CustomerUpdate,
    IdentityOut,
    IngestOut,
    LookupOut,
    LookupQuery,
    MergeIn,
    MergeOut,
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


@router.post("/ingest", response={200: IngestOut, 201: IngestOut, **ERRORS})
def ingest_customer(request: HttpRequest, payload: CustomerIngest):
    """Attach a record from another system to the customer it identifies, or create one.

    The e-mails, phones, ``wechat_id`` and ``external_ids`` ("system:id") are matched exactly against every
    live customer. One match you may edit: its contact lists gain the new values and the other non-empty
    fields you send replace the stored ones (200, ``created: false``). No match: a new customer (201). A match
    you may not edit, or contacts of several customers: 409 ``identity_conflict`` naming only the owners.
    """
    data = payload.dict(exclude_unset=True)
    data.setdefault("source", "api")
    customer, created = services.ingest_customer(actor=request.auth, data=data)
    return Status(201 if created else 200, {"created": created, "customer": _reload(request, customer.pk)})


@router.get("/lookup", response={200: LookupOut, **ERRORS})
def lookup_customer(request: HttpRequest, query: Query[LookupQuery]):
    """Does a customer with this phone, e-mail, WeChat ID or exact name already exist (the 撞单 check)?

    Answers for every customer, whoever owns it, with the owner's name (or the team pool) only. The customer's
    id and name are given only when you can see that customer. For reps, managers and admins.
    """
    data = query.dict()
    if not any(data.values()):
        raise ValidationFailed("Give a phone, email, wechat or name.", query=["Give a phone, email, wechat or name."])
    matches = selectors.collision_check(request.auth, **data)
    return {"exists": bool(matches), "matches": [m.__dict__ for m in matches]}


def _candidate(candidate) -> dict:
    return {
        "id": candidate.pk,
        "probability": candidate.probability,
        "matched_fields": candidate.matched_fields,
        "source": candidate.source,
        "status": candidate.status,
        "customer_a": {
            "id": candidate.customer_a_id,
            "display_name": candidate.customer_a.display_name,
            "owner": identities.owner_label(candidate.customer_a),
        },
        "customer_b": {
            "id": candidate.customer_b_id,
            "display_name": candidate.customer_b.display_name,
            "owner": identities.owner_label(candidate.customer_b),
        },
    }


@router.get("/duplicates", response={200: CandidateList, **ERRORS})
def list_duplicates(
    request: HttpRequest,
    limit: int = Query(50, ge=1, le=200),
    offset: int = Query(0, ge=0, le=10_000_000),
):
    """Open pairs of likely duplicate customers (``guanxi dedupe`` finds them), most probable first.

    Only pairs where you may change both customers are listed.
    """
    page = paginate(duplicates.visible_candidates(request.auth), limit=limit, offset=offset)
    return {"items": [_candidate(c) for c in page.items], "total": page.total, "limit": limit, "offset": offset}


@router.post("/duplicates/{candidate_id}/dismiss", response={200: CandidateOut, **ERRORS})
def dismiss_duplicate(request: HttpRequest, candidate_id: Id):
    """Not the same customer: the pair leaves the queue and later runs never bring it back."""
    return _candidate(duplicates.dismiss_candidate(actor=request.auth, candidate_id=candidate_id))


def _merge_out(record) -> dict:
    return {
        "id": record.pk,
        "survivor_id": record.survivor_id,
        "loser_id": record.loser_id,
        "field_choices": record.field_choices,
        "moved": {label: len(info["ids"]) for label, info in record.moved.items()},
        "created_at": record.created_at,
        "undone_at": record.undone_at,
    }


@router.post("/merges", response={201: MergeOut, **ERRORS})
def merge_customers(request: HttpRequest, payload: MergeIn):
    """Merge ``loser_id`` into ``survivor_id``: every related record moves, the loser is soft-deleted.

    You must be able to change both (else 404) and send the versions you read (else 409). Undo with
    ``POST /customers/merges/{id}/undo``.
    """
    record = merge.merge_customers(
        actor=request.auth,
        survivor_id=payload.survivor_id,
        loser_id=payload.loser_id,
        field_choices=payload.field_choices,
        survivor_version=payload.survivor_version,
        loser_version=payload.loser_version,
    )
    return Status(201, _merge_out(record))


@router.get("/merges", response={200: list[MergeOut], **ERRORS})
def list_merges(request: HttpRequest, limit: int = Query(50, ge=1, le=200)):
    """Recent merges into customers you can change, newest first."""
    return [_merge_out(r) for r in selectors.merge_history(request.auth)[:limit]]


@router.post("/merges/{merge_id}/undo", response={200: MergeOut, **ERRORS})
def undo_merge(request: HttpRequest, merge_id: Id):
    """Restore both customers and every moved record exactly as before the merge.

    409 ``undo_not_possible`` when the surviving customer was changed after the merge.
    """
    return _merge_out(merge.undo_merge(actor=request.auth, merge_id=merge_id))


@router.get("/{customer_id}/identities", response={200: list[IdentityOut], **ERRORS})
def list_identities(request: HttpRequest, customer_id: Id):
    """The e-mails, phones, WeChat IDs and external ids that identify a customer you can see."""
    customer = selectors.get_customer(request.auth, customer_id)
    if not access.can_see_personal_data(request.auth):
        raise PermissionDenied("Your role cannot see contact details.")
    return list(customer.identities.filter(released_at__isnull=True).order_by("kind", "value"))


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
