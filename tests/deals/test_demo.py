import itertools
from datetime import date

from guanxi.deals.models import Deal, DealStageChange


def test_demo_deals_have_consistent_histories(users, make_customer, teams):
    from guanxi.demo import deals as demo

    for i in range(6):
        make_customer(users["rep" if i % 2 else "rep_b"], display_name=f"C{i}")
    today = date(2026, 6, 30)
    demo.load(seed=7, today=today, count=60)
    deals = list(Deal.objects.select_related("stage"))
    assert len(deals) == 60
    assert deals[0].pipeline.record_order_on_win
    kinds = {d.stage.kind for d in deals}
    assert kinds == {"open", "won", "lost"}
    for deal in deals:
        path = list(DealStageChange.objects.filter(deal=deal).order_by("at", "id"))
        assert path[0].from_stage_id is None and path[-1].to_stage_id == deal.stage_id
        assert all(a.to_stage_id == b.from_stage_id for a, b in itertools.pairwise(path))
        assert path[-1].at.date() <= today and deal.version == len(path)
        assert (deal.lost_reason_id is not None) == (deal.stage.kind == "lost")
        assert (deal.won_at is not None) == (deal.stage.kind == "won") and deal.order_id is None
        assert deal.team_id == deal.owner.team_id
