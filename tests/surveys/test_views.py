"""The results page, its CSV export, the survey editor and the customer panel."""

import pytest

from guanxi.surveys import services
from guanxi.surveys.models import Survey


@pytest.fixture
def answered(users, make_customer, survey, questions, invite):
    customer = make_customer(users["rep"], display_name="Chen <b>Jie</b>")
    token = invite(survey, customer)
    services.submit_response(
        token=token,
        answers={
            f"q{questions['csat'].pk}": 2,
            f"q{questions['ces'].pk}": 3,
            f"q{questions['text'].pk}": "<i>太慢了</i>",
        },
    )
    return customer


@pytest.mark.django_db
def test_results_page_shows_figures_breakdowns_and_escaped_comments(browser_for, users, answered):
    page = browser_for(users["admin"]).get("/surveys/")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="breakdown-agent"' in html and 'data-testid="survey-chart"' in html
    assert "&lt;i&gt;太慢了&lt;/i&gt;" in html and "<i>太慢了" not in html
    analyst = browser_for(users["analyst"]).get("/surveys/").content.decode()
    assert "Chen" not in analyst and "太慢了" in analyst


@pytest.mark.django_db
def test_csv_export_follows_the_callers_scope(browser_for, users, answered):
    body = b"".join(browser_for(users["admin"]).get("/surveys/export.csv").streaming_content).decode("utf-8-sig")
    assert "Chen" in body and "after_ticket" in body
    other = b"".join(browser_for(users["rep_b"]).get("/surveys/export.csv").streaming_content).decode("utf-8-sig")
    assert "after_ticket" not in other


@pytest.mark.django_db
def test_the_editor_is_for_managers_and_validates(browser_for, users, survey):
    assert browser_for(users["rep"]).get("/surveys/new/").status_code == 403
    client = browser_for(users["manager"])
    bad = client.post("/surveys/new/", {"key": "x", "name": "X", "kind": "manual", "interval_days": "90",
                                        "expiry_days": "14", "questions": "[{\"kind\": \"bogus\"}]"})  # fmt: skip
    assert bad.status_code == 422 and not Survey.objects.filter(key="x").exists()
    questions = '[{"kind": "nps", "text": "Recommend?", "text_zh_hans": "推荐吗？"}]'
    ok = client.post("/surveys/new/", {"key": "x", "name": "X", "kind": "manual", "interval_days": "90",
                                       "expiry_days": "14", "questions": questions, "active": "on"})  # fmt: skip
    assert ok.status_code == 302
    created = Survey.objects.get(key="x")
    assert created.active and created.questions.get().text_zh_hans == "推荐吗？"


@pytest.mark.django_db
def test_customer_page_panel_lists_the_responses(browser_for, users, answered):
    html = browser_for(users["rep"]).get(f"/customers/{answered.pk}/").content.decode()
    assert 'data-testid="survey-panel"' in html and "&lt;i&gt;太慢了" in html
