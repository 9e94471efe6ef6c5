from django.http import HttpRequest
from ninja import Query, Router

from guanxi.core.errors import NotFound
from guanxi.core.pagination import paginate
from guanxi.core.schemas import ERRORS, Id
from guanxi.segments import selectors
from guanxi.segments.schemas import RunOut, ScoreList, ScoreOut, ScoreQuery

router = Router(tags=["scores"])


@router.get("", response={200: ScoreList, **ERRORS})
def list_scores(request: HttpRequest, filters: Query[ScoreQuery]):
    """Current scores of the customers you can see: RFM segment, ABC and value tier, probability alive,
    expected purchases, CLV and churn risk. Filter to find, e.g., tier-A customers with P(alive) below 0.5."""
    scores = selectors.visible_scores(request.auth)
    for name in ("segment", "abc_tier", "value_tier"):
        if getattr(filters, name):
            scores = scores.filter(**{name: getattr(filters, name)})
    if filters.max_p_alive is not None:
        scores = scores.filter(p_alive__lte=filters.max_p_alive)
    page = paginate(scores.order_by(filters.sort, "customer_id"), limit=filters.limit, offset=filters.offset)
    return {"items": page.items, "total": page.total, "limit": page.limit, "offset": page.offset}


@router.get("/runs/latest", response={200: RunOut, **ERRORS})
def latest_run(request: HttpRequest):
    """The latest successful scoring run: when, how many customers, the fitted model parameters."""
    run = selectors.latest_run()
    if run is None:
        raise NotFound("No scoring run has succeeded yet.")
    return run


@router.get("/{customer_id}", response={200: ScoreOut, **ERRORS})
def get_score(request: HttpRequest, customer_id: Id):
    """The current scores of one customer you can see."""
    score = selectors.visible_scores(request.auth).filter(customer_id=customer_id).first()
    if score is None:
        raise NotFound("No scores for this customer (not scored yet, opted out, or not visible to you).")
    return score
