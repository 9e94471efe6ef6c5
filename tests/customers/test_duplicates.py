"""Duplicate detection (Splink on DuckDB), the review queue, dismissals that stick, and the pages."""

import pytest

from guanxi.customers import duplicates, services
from guanxi.customers.models import Customer, DuplicateCandidate, MergeRecord


def test_model_folds_scripts_pinyin_and_word_order():
    frame = duplicates.prepare(
        [
            {"id": 1, "name": "张伟", "phones": ["+8613812345678"], "company": "上海示例科技有限公司"},
            {"id": 2, "name": "張偉", "phones": ["+8613812345679"], "company": "上海示例科技有限公司"},
            {"id": 3, "name": "Wei Zhang", "emails": ["wei@example.com"]},
            {"id": 4, "name": "Zhang Wei", "emails": ["wei@example.com"]},
            {"id": 5, "name": "李娜", "phones": ["+8613900001111"], "address": "北京市朝阳区建国路1号"},
            {"id": 6, "name": "Maria Garcia", "phones": ["+8613700002222"]},
        ]
    )
    row = frame.set_index("unique_id")
    assert row.loc[1, "name_fold"] == row.loc[2, "name_fold"] == "张伟"
    assert row.loc[1, "name_key"] == row.loc[3, "name_key"] == row.loc[4, "name_key"] == "wei zhang"
    scored = duplicates.score_records(frame, threshold=0.5, train=False)
    pairs = {(a, b) for a, b in zip(scored.pairs["id_l"], scored.pairs["id_r"], strict=True)}
    assert (1, 2) in pairs and (3, 4) in pairs
    assert not {p for p in pairs if 5 in p or 6 in p}
    matched = dict(
        zip(zip(scored.pairs["id_l"], scored.pairs["id_r"], strict=True), scored.pairs["matched"], strict=True)
    )
    assert {"name", "phone", "company"} <= set(matched[(1, 2)])


def test_training_on_data_where_no_two_customers_share_a_phone_still_scores():
    # Live customers never share a phone (identities are unique), so the phone training rule finds no pair;
    # the nightly job must keep the starting values for those fields instead of failing.
    names = [surname + given for surname in "王李张刘陈杨黄赵吴周" for given in "伟芳娜敏静丽强磊军洋"]
    records = [
        {"id": i, "name": name, "phones": [f"+86138{i:08d}"], "company": f"公司{i % 40}"}
        for i, name in enumerate(names, 1)
    ]
    records.append({"id": 1000, "name": "王伟", "phones": ["+8613800000999"], "company": "公司1"})
    scored = duplicates.score_records(duplicates.prepare(records), threshold=0.5, train=True)
    assert scored.trained and scored.records == 101
    assert (1, 1000) in set(zip(scored.pairs["id_l"], scored.pairs["id_r"], strict=True))


def test_find_duplicates_stores_pairs_once_and_dismissed_pairs_stay_dismissed(users, make_customer):
    rep = users["rep"]
    a = make_customer(rep, display_name="王小明", phones=["13812345678"], company="示例公司", address="上海市人民路1号")
    b = make_customer(rep, display_name="王曉明", phones=["13812345679"], company="示例公司", address="上海市人民路1号")
    make_customer(rep, display_name="Someone Else", phones=["13700001111"])
    result = duplicates.find_duplicates(threshold=0.8)
    assert result.customers == 3 and result.created == 1
    candidate = DuplicateCandidate.objects.get()
    assert (candidate.customer_a_id, candidate.customer_b_id) == (a.pk, b.pk)
    assert candidate.probability >= 0.8 and "name" in candidate.matched_fields
    duplicates.find_duplicates(threshold=0.8)
    assert DuplicateCandidate.objects.count() == 1  # once per pair

    duplicates.dismiss_candidate(actor=rep, candidate_id=candidate.pk)
    again = duplicates.find_duplicates(threshold=0.8)
    assert again.created == 0
    assert DuplicateCandidate.objects.get().status == "dismissed"
    assert not duplicates.visible_candidates(rep).exists()


def test_queue_shows_pairs_the_user_may_change_both_of(users, make_customer):
    mine = make_customer(users["rep"], display_name="A")
    mine2 = make_customer(users["rep"], display_name="A2")
    theirs = make_customer(users["rep2"], display_name="B")
    DuplicateCandidate.objects.create(customer_a=mine, customer_b=mine2, probability=0.95)
    mixed = DuplicateCandidate.objects.create(customer_a=mine, customer_b=theirs, probability=0.99)
    assert list(duplicates.visible_candidates(users["rep"]).values_list("customer_b_id", flat=True)) == [mine2.pk]
    assert duplicates.visible_candidates(users["manager"]).count() == 2
    with pytest.raises(duplicates.CandidateNotFound):
        duplicates.dismiss_candidate(actor=users["rep"], candidate_id=mixed.pk)


def test_review_page_merges_side_by_side_and_history_undoes(users, make_customer, browser_for):
    manager = users["manager"]
    a = make_customer(users["rep"], display_name="Li Lei", company="Old Co", phones=["13812345678"])
    b = make_customer(users["rep2"], display_name="李雷", company="New Co", emails=["li@example.com"])
    candidate = DuplicateCandidate.objects.create(
        customer_a=a, customer_b=b, probability=0.93, matched_fields=["name", "company"]
    )
    client = browser_for(manager)
    queue = client.get("/customers/duplicates/").content.decode()
    assert "Li Lei" in queue and "李雷" in queue and "93%" in queue
    page = client.get(f"/customers/duplicates/{candidate.pk}/").content.decode()
    assert "Old Co" in page and "New Co" in page and 'name="choice_company"' in page
    response = client.post(
        f"/customers/duplicates/{candidate.pk}/",
        {"survivor": "a", "choice_company": "b", "choice_display_name": "a", "version_a": 1, "version_b": 1},
    )
    assert response.status_code == 302 and response["Location"] == f"/customers/{a.pk}/"
    a.refresh_from_db()
    assert (a.display_name, a.company, a.emails) == ("Li Lei", "New Co", ["li@example.com"])
    assert Customer.objects.get(pk=b.pk).merged_into_id == a.pk
    history = client.get("/customers/merges/").content.decode()
    assert "Undo" in history
    record = MergeRecord.objects.get()
    client.post(f"/customers/merges/{record.pk}/undo/")
    a.refresh_from_db()
    assert a.company == "Old Co" and Customer.objects.get(pk=b.pk).deleted_at is None
    assert DuplicateCandidate.objects.get().status == "open"


def test_review_page_of_a_pair_the_rep_cannot_change_is_404(users, make_customer, browser_for):
    a = make_customer(users["rep"], display_name="A")
    b = make_customer(users["rep2"], display_name="B")
    candidate = DuplicateCandidate.objects.create(customer_a=a, customer_b=b, probability=0.9)
    client = browser_for(users["rep"])
    assert client.get(f"/customers/duplicates/{candidate.pk}/").status_code == 404
    assert client.post(f"/customers/duplicates/{candidate.pk}/", {"version_a": 1, "version_b": 1}).status_code == 404
    assert client.post(f"/customers/duplicates/{candidate.pk}/dismiss/").status_code == 404
    assert Customer.objects.filter(deleted_at__isnull=True).count() == 2


def test_create_form_warns_about_a_colleagues_customer_by_owner_only(users, make_customer, browser_for):
    users["rep2"].display_name = "张伟"
    users["rep2"].save()
    make_customer(users["rep2"], display_name="秘密客户", phones=["13812345678"], company="机密公司")
    client = browser_for(users["rep"])
    form = client.get("/customers/new/").content.decode()
    assert 'id="collision-warnings"' in form and "/customers/lookup/" in form
    fragment = client.get(
        "/customers/lookup/", {"phones": "138 1234 5678", "display_name": "新客户"}, headers={"HX-Request": "true"}
    ).content.decode()
    assert "A customer with this phone already exists, owned by 张伟." in fragment
    assert "秘密客户" not in fragment and "机密公司" not in fragment and "/customers/" not in fragment
    assert client.get("/customers/lookup/", {"display_name": "nobody"}).content.decode().strip() == ""
    assert browser_for(users["analyst"]).get("/customers/lookup/", {"phones": "13812345678"}).status_code == 404


def test_nav_links_the_queue_for_managers_not_reps(users, browser_for):
    assert "/customers/duplicates/" in browser_for(users["manager"]).get("/customers/").content.decode()
    assert "/customers/duplicates/" not in browser_for(users["rep"]).get("/customers/").content.decode()


def test_api_queue_merge_and_undo(users, make_customer, api):
    a = make_customer(users["rep"], display_name="A", phones=["13812345678"])
    b = make_customer(users["rep"], display_name="A.", emails=["a@example.com"])
    candidate = DuplicateCandidate.objects.create(customer_a=a, customer_b=b, probability=0.91, matched_fields=["name"])
    client = api(users["rep"])
    queue = client.get("/api/v1/customers/duplicates").json()
    assert queue["total"] == 1 and queue["items"][0]["customer_b"] == {"id": b.pk, "display_name": "A.", "owner": "rep"}
    merged = client.post(
        "/api/v1/customers/merges",
        {"survivor_id": a.pk, "loser_id": b.pk, "survivor_version": 1, "loser_version": 1},
        content_type="application/json",
    )
    assert merged.status_code == 201, merged.content
    assert merged.json()["moved"] == {"customers.Identity": 1}
    stale = client.post(
        "/api/v1/customers/merges",
        {"survivor_id": a.pk, "loser_id": b.pk, "survivor_version": 1, "loser_version": 1},
        content_type="application/json",
    )
    assert stale.status_code == 404  # the loser is gone
    other = api(users["rep_b"]).post(f"/api/v1/customers/merges/{merged.json()['id']}/undo")
    assert other.status_code == 404 and other.json()["error"]["code"] == "merge_not_found"
    undone = client.post(f"/api/v1/customers/merges/{merged.json()['id']}/undo")
    assert undone.status_code == 200 and undone.json()["undone_at"]
    again = client.post(f"/api/v1/customers/merges/{merged.json()['id']}/undo")
    assert again.status_code == 409 and again.json()["error"]["code"] == "undo_not_possible"
    assert client.post(f"/api/v1/customers/duplicates/{candidate.pk}/dismiss").json()["status"] == "dismissed"
    services.delete_customer(actor=users["rep"], customer_id=b.pk)
