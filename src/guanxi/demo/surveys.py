"""Demo survey data: invitations for ~70 % of the resolved demo tickets, ~55 % of them answered with realistic
CSAT/CES (agents differ; the slow ``return`` category scores lower), Chinese and English comments, and a quarterly
relationship NPS survey to active and loyal customers. Bulk inserts only; no events (the demo's history is
already past). Does nothing when the tickets app loaded no tickets."""

import hashlib
import random
from collections.abc import Callable
from datetime import date, timedelta

from django.apps import apps
from django.utils import timezone

from guanxi.surveys import text

COMMENTS = {
    "good": ["客服非常耐心，问题很快解决了，很满意。", "Very helpful and friendly, solved quickly. Thanks!",
             "处理及时，态度很好。", "Great service, easy and fast."],
    "mid": ["还可以，就是等得有点久。", "OK, but the reply took a while.", ""],
    "bad": ["退货太慢了，等了一个多星期，非常失望。", "Terrible experience, slow refund and nobody called back.",
            "客服态度敷衍，问题没有解决。", "Rude and slow, very disappointed."],
}  # fmt: skip
NPS_COMMENTS = {
    "promoter": ["产品质量好，服务专业，会推荐给朋友。", "Excellent products and friendly people."],
    "passive": ["总体还行，价格有点贵。", "Good, but expensive."],
    "detractor": ["发货慢，售后麻烦。", "Delivery is slow and support is difficult to reach."],
}


def _digest(rng: random.Random) -> str:
    return hashlib.sha256(rng.randbytes(24)).hexdigest()


def load(*, seed: int, today: date, progress: Callable | None = None) -> None:
    try:
        Ticket = apps.get_model("tickets", "Ticket")
    except LookupError:
        return
    from guanxi.surveys.models import Answer, Invitation, Response, Survey

    rng = random.Random(seed + 606)
    survey = Survey.objects.filter(key="after_ticket").prefetch_related("questions").first()
    tickets = list(
        Ticket.objects.filter(resolved_at__isnull=False)
        .values("pk", "customer_id", "assignee_id", "queue__team_id", "category__key", "resolved_at")
        .order_by("pk")
    )
    if survey is None or not tickets:
        return
    questions = {q.kind: q for q in survey.questions.all()}
    agent_skill = {}  # agents differ: each gets a bias on the 1-5 scale
    invitations, answered = [], []
    for t in tickets:
        if rng.random() >= 0.7:
            continue
        sent = t["resolved_at"] + timedelta(minutes=rng.randint(1, 30))
        invitation = Invitation(
            survey=survey, customer_id=t["customer_id"], ticket_id=t["pk"], agent_id=t["assignee_id"],
            team_id=t["queue__team_id"], token_digest=_digest(rng), sent_at=sent,
            expires_at=sent + timedelta(days=survey.expiry_days), status="expired",
        )  # fmt: skip
        if rng.random() < 0.55:
            bias = agent_skill.setdefault(t["assignee_id"], rng.uniform(-0.8, 0.6))
            if t["category__key"] == "return":
                bias -= 1.2
            csat = max(1, min(5, round(rng.gauss(4.1 + bias, 0.9))))
            ces = max(1, min(7, round(rng.gauss(5.2 + bias * 1.2, 1.1))))
            invitation.status = "answered"
            invitation.answered_at = sent + timedelta(hours=rng.randint(1, 96))
            answered.append((invitation, csat, ces))
        elif invitation.expires_at > timezone.now():
            invitation.status = "open"
        invitations.append(invitation)
    nps_survey = Survey.objects.filter(key="relationship_nps").prefetch_related("questions").first()
    nps_rows = []
    if nps_survey is not None:
        customers = list(
            apps.get_model("lifecycle", "CustomerStage")
            .objects.filter(stage__in=("active", "loyal"))
            .values_list("customer_id", "stage")[:2000]
        )
        for quarter in range(4):
            day = today - timedelta(days=90 * quarter + 10)
            sent = timezone.make_aware(timezone.datetime(day.year, day.month, day.day, 10))
            for customer_id, stage in rng.sample(customers, min(len(customers), 150)):
                invitation = Invitation(
                    survey=nps_survey, customer_id=customer_id, token_digest=_digest(rng), sent_at=sent,
                    expires_at=sent + timedelta(days=14), status="expired",
                )  # fmt: skip
                if rng.random() < 0.4:
                    score = max(0, min(10, round(rng.gauss(8.3 if stage == "loyal" else 7.2, 1.8))))
                    invitation.status = "answered"
                    invitation.answered_at = sent + timedelta(hours=rng.randint(1, 120))
                    nps_rows.append((invitation, score))
                invitations.append(invitation)
    # As the live service does: a newer invitation to the same survey replaces an older one still open.
    latest: dict[tuple[int, int], Invitation] = {}
    for invitation in sorted(invitations, key=lambda i: i.sent_at):
        if invitation.status == "open":
            older = latest.get((invitation.survey_id, invitation.customer_id))
            if older is not None:
                older.status = "superseded"
            latest[(invitation.survey_id, invitation.customer_id)] = invitation
    Invitation.objects.bulk_create(invitations, batch_size=1000)
    stage_of = dict(apps.get_model("lifecycle", "CustomerStage").objects.values_list("customer_id", "stage"))
    scores = {c: (s, t) for c, s, t in apps.get_model("segments", "CustomerScore").objects.values_list(
        "customer_id", "segment", "abc_tier")}  # fmt: skip
    responses, answers = [], []
    for invitation, csat, ces in answered:
        mood = "good" if csat >= 4 else "mid" if csat == 3 else "bad"
        comment = rng.choice(COMMENTS[mood]) if rng.random() < 0.6 else ""
        segment, tier = scores.get(invitation.customer_id, ("", ""))
        response = Response(
            invitation=invitation, survey=survey, customer_id=invitation.customer_id, ticket_id=invitation.ticket_id,
            agent_id=invitation.agent_id, team_id=invitation.team_id, answered_at=invitation.answered_at,
            csat=csat, ces=ces, comment=comment, sentiment=text.sentiment(comment), keywords=text.keywords(comment),
            segment=segment, tier=tier, stage=stage_of.get(invitation.customer_id, ""),
        )  # fmt: skip
        responses.append(response)
        answers.append((response, [(questions["csat"], csat), (questions["ces"], ces)]
                        + ([(questions["text"], comment)] if comment else [])))  # fmt: skip
    if nps_survey is not None:
        nps_questions = {q.kind: q for q in nps_survey.questions.all()}
        for invitation, score in nps_rows:
            mood = "promoter" if score >= 9 else "passive" if score >= 7 else "detractor"
            comment = rng.choice(NPS_COMMENTS[mood]) if rng.random() < 0.5 else ""
            segment, tier = scores.get(invitation.customer_id, ("", ""))
            response = Response(
                invitation=invitation, survey=nps_survey, customer_id=invitation.customer_id,
                answered_at=invitation.answered_at, nps=score, comment=comment, sentiment=text.sentiment(comment),
                keywords=text.keywords(comment), segment=segment, tier=tier,
                stage=stage_of.get(invitation.customer_id, ""),
            )  # fmt: skip
            responses.append(response)
            answers.append((response, [(nps_questions["nps"], score)]
                            + ([(nps_questions["text"], comment)] if comment else [])))  # fmt: skip
    Response.objects.bulk_create(responses, batch_size=1000)
    Answer.objects.bulk_create(
        [Answer(response=r, question=q, value=v) for r, pairs in answers for q, v in pairs], batch_size=2000
    )
    if progress:
        progress("surveys", len(responses))(len(responses), done=True)
