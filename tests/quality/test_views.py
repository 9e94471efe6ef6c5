"""Service-quality pages: who may open them, the figures they show, the CSV export and the training form."""

import csv
import io

import pytest

from guanxi.quality.models import TrainingSession

PERIOD = "since=2026-03-01&until=2026-03-02"


@pytest.mark.django_db
def test_pages_refuse_anonymous_and_sales_reps(client, browser_for, users, clock):
    for path in ("/service-quality/", "/service-quality/scorecards/", "/service-quality/coaching/"):
        assert client.get(path).status_code == 302, path  # to the login page
        assert browser_for(users["rep"]).get(path).status_code == 403, path


@pytest.mark.django_db
def test_overview_shows_the_process_of_the_callers_scope(browser_for, users, walked, clock):
    page = browser_for(users["manager"]).get(f"/service-quality/?{PERIOD}")
    assert page.status_code == 200
    html = page.content.decode()
    assert "1 ticket arrived in the period." in html
    for testid in ("bottlenecks", "process-map", "time-in-status", "waiting-working", "ageing", "throughput"):
        assert f'data-testid="{testid}"' in html, testid
    # Ticket A waited 1 h new + 3 h pending and was worked on 2 h + 1 h.
    assert "4 h waiting (new, pending), 3 h working (open)." in html
    assert "guanxi/charts.js" in html and "cdn" not in html.lower()


@pytest.mark.django_db
def test_scorecards_page_and_csv_export(browser_for, users, walked, clock, answer_csat):
    answer_csat(walked[0], 4)
    manager = browser_for(users["manager"])
    html = manager.get(f"/service-quality/scorecards/?{PERIOD}").content.decode()
    assert f'data-agent="{users["support"].pk}"' in html
    response = manager.get(f"/service-quality/scorecards/?{PERIOD}&format=csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    header, [row] = rows[0], rows[1:]
    card = dict(zip(header, row, strict=True))
    assert card["Name"] == str(users["support"]) and card["Tickets"] == "1" and card["Resolved"] == "1"
    # Created 09:00, first public reply 10:00, resolved 16:00.
    assert float(card["First response (median h)"]) == 1.0 and float(card["Resolution (median h)"]) == 7.0
    assert float(card["CSAT"]) == 4.0 and card["CSAT answers"] == "1"
    teams = manager.get(f"/service-quality/scorecards/?{PERIOD}&by=team&format=csv")
    assert len(list(csv.reader(io.StringIO(b"".join(teams.streaming_content).decode("utf-8-sig"))))) == 2


@pytest.mark.django_db
def test_coaching_form_records_a_session_and_rejects_bad_input(browser_for, users, led, clock):
    manager = browser_for(users["manager"])
    page = manager.get("/service-quality/coaching/")
    assert page.status_code == 200 and "csrfmiddlewaretoken" in page.content.decode()
    bad = manager.post("/service-quality/coaching/sessions/", {"agent_id": users["support"].pk, "topic": ""})
    assert bad.status_code == 400 and not TrainingSession.objects.exists()
    data = {"agent_id": users["support"].pk, "topic": "Empathy", "held_on": "2026-02-20", "category": "complaint"}
    response = manager.post("/service-quality/coaching/sessions/", data)
    assert response.status_code == 302
    session = TrainingSession.objects.get()
    assert (session.agent, session.category.key, session.created_by) == (users["support"], "complaint",
                                                                         users["manager"])  # fmt: skip
    assert "Empathy" in manager.get("/service-quality/coaching/").content.decode()
    # A support agent sees their own sessions but has no form.
    html = browser_for(users["support"]).get("/service-quality/coaching/").content.decode()
    assert "Empathy" in html and "coaching/sessions/" not in html
    assert browser_for(users["support"]).post("/service-quality/coaching/sessions/", data).status_code == 400
    assert TrainingSession.objects.count() == 1
