"""The surveys API: who may write, scoped invitations and responses, results by dimension."""

import pytest

from guanxi.surveys import services
from guanxi.surveys.models import Invitation, Survey

NEW = {
    "key": "delivery",
    "name": "Delivery",
    "name_zh_hans": "配送",
    "questions": [
        {"kind": "nps", "text": "Recommend?", "text_zh_hans": "推荐？"},
        {"kind": "single", "text": "Channel?", "choices": [{"value": "web", "label": "Web"}, {"value": "shop"}]},
        {"kind": "scale", "text": "Speed?", "scale_min": 1, "scale_max": 10},
    ],
}


@pytest.mark.django_db
def test_creating_surveys_is_for_admins_and_managers_and_validates(api, users):
    assert api(None).post("/api/v1/surveys", NEW, content_type="application/json").status_code == 401
    assert api(users["rep"]).post("/api/v1/surveys", NEW, content_type="application/json").status_code == 403
    bad = {**NEW, "questions": [{"kind": "single", "text": "One choice only", "choices": [{"value": "a"}]}]}
    reply = api(users["manager"]).post("/api/v1/surveys", bad, content_type="application/json")
    assert reply.status_code == 422 and "questions.0.choices" in reply.json()["error"]["details"]
    reply = api(users["manager"]).post(
        "/api/v1/surveys", {**NEW, "audience": "tier =="}, content_type="application/json"
    )
    assert reply.status_code == 400 and reply.json()["error"]["code"] == "invalid_rule"
    assert not Survey.objects.filter(key="delivery").exists()
    reply = api(users["manager"]).post("/api/v1/surveys", NEW, content_type="application/json")
    assert reply.status_code == 201
    assert [q["kind"] for q in reply.json()["questions"]] == ["nps", "single", "scale"]


@pytest.mark.django_db
def test_invitations_return_links_only_for_visible_customers(api, users, make_customer, survey):
    mine = make_customer(users["rep"], display_name="Mine", emails=["m@example.com"])
    theirs = make_customer(users["rep_b"], display_name="Theirs")
    url = f"/api/v1/surveys/{survey.pk}/invitations"
    reply = api(users["rep"]).post(url, {"customer_ids": [theirs.pk]}, content_type="application/json")
    assert reply.status_code == 404 and not Invitation.objects.exists()
    reply = api(users["rep"]).post(url, {"customer_ids": [mine.pk]}, content_type="application/json")
    assert reply.status_code == 201
    [item] = reply.json()
    assert item["link"].startswith("/survey/") and item["emailed"] is True
    token = item["link"].split("/")[2]
    assert Invitation.objects.get().token_digest == services.digest(token)
    again = api(users["rep"]).post(url, {"customer_ids": [mine.pk]}, content_type="application/json")
    assert again.json() == []  # one open invitation per customer and survey


@pytest.mark.django_db
def test_responses_and_results_are_scoped(api, users, make_customer, survey, questions, invite):
    for name, owner, csat in (("A", "rep", 5), ("B", "rep_b", 1)):
        customer = make_customer(users[owner], display_name=name)
        token = invite(survey, customer)
        services.submit_response(token=token, answers={f"q{questions['csat'].pk}": csat,
                                                       f"q{questions['ces'].pk}": 3})  # fmt: skip
    assert api(users["rep"]).get("/api/v1/surveys/responses").json()["total"] == 1
    analyst = api(users["analyst"]).get("/api/v1/surveys/responses").json()
    assert analyst["total"] == 2 and {i["customer_id"] for i in analyst["items"]} == {None}
    results = api(users["admin"]).get("/api/v1/surveys/results?by=tier&metric=csat").json()
    assert results["overall"] == 50.0 and results["rows"][0]["count"] == 2
    detractors = api(users["admin"]).get("/api/v1/surveys/responses?detractors=true").json()
    assert [i["csat"] for i in detractors["items"]] == [1]
    assert api(users["admin"]).get("/api/v1/surveys/results?by=colour").status_code == 422
