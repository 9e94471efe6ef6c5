"""The demo company: a bilingual business with real purchase histories (the CDNOW sample).

Deterministic for a seed, except that dates are shifted so the last purchase is yesterday. Later apps add their
own sections to ``load``.
"""

import random
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import phonenumbers
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone
from faker import Faker

from guanxi.accounts import services as accounts
from guanxi.accounts.models import User
from guanxi.commerce.models import Order, OrderLine, Product
from guanxi.core.context import current_origin
from guanxi.core.events import jsonable
from guanxi.core.models import AuditEntry, Event
from guanxi.customers import normalize
from guanxi.customers.models import Customer, CustomerShare, CustomFieldDefinition, Tag

CDNOW_SAMPLE = Path(__file__).parent / "data" / "CDNOW_sample.txt"
DEMO_PASSWORD = "guanxi-demo"  # noqa: S105 - documented demo credential, printed by `make run`

TEAMS = ["East China 华东", "South China 华南", "Key Accounts 大客户"]
# username, role, team index, display name
DEMO_USERS = [
    ("admin", "admin", None, "Admin 管理员"),
    ("manager", "manager", None, "Zhou Min 周敏"),
    ("rep1", "sales", 0, "Li Na 李娜"),
    ("rep2", "sales", 0, "David Chen"),
    ("rep3", "sales", 1, "Wang Fang 王芳"),
    ("rep4", "sales", 1, "Emily Wong"),
    ("rep5", "sales", 2, "Zhang Wei 张伟"),
    ("rep6", "sales", 2, "Michael Liu"),
    ("support1", "support", 0, "Chen Jing 陈静"),
    ("support2", "support", 1, "Sarah Lin"),
    ("support3", "support", 2, "Liu Yang 刘洋"),
    ("analyst", "analyst", None, "Analyst 分析师"),
]
INDUSTRIES = [
    "Retail 零售",
    "Education 教育",
    "Manufacturing 制造",
    "Healthcare 医疗",
    "Technology 科技",
    "Hospitality 餐饮",
    "Finance 金融",
    "Logistics 物流",
]
CN_REGIONS = ["上海", "浙江", "江苏", "广东", "北京", "四川", "福建", "湖北", "山东", "深圳"]
EN_REGIONS = ["Hong Kong", "Singapore", "California", "New York", "London", "Sydney", "Vancouver"]
TAGS = ["VIP", "经销商", "Newsletter", "老客户", "Wholesale", "团购"]
SOURCES = [
    ("store", 30),
    ("wechat", 20),
    ("web_form", 15),
    ("referral", 10),
    ("phone", 8),
    ("event", 7),
    ("email", 5),
    ("social", 5),
]

Progress = Callable[[str, int], Callable[..., None]]


def has_data() -> bool:
    return Customer.objects.exists()


def _no_progress(description: str, total: int):
    return lambda n=1, done=False: None


def read_cdnow(path: Path = CDNOW_SAMPLE) -> list[tuple[int, date, int, Decimal]]:
    """(sample customer id, date, number of CDs, dollar value) rows of the CDNOW sample."""
    rows = []
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        _master, sample_id, day, cds, value = line.split()
        rows.append((int(sample_id), datetime.strptime(day, "%Y%m%d").date(), int(cds), Decimal(value)))
    return rows


def _phone(fake: Faker, rng: random.Random, region: str) -> str:
    for _attempt in range(20):
        candidate = (
            fake.phone_number()
            if region == "CN"
            else f"+1 {rng.randint(201, 989)} {rng.randint(200, 999)} {rng.randint(1000, 9999)}"
        )
        try:
            number = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return ""


def _users(progress: Progress) -> tuple[list[User], dict[int, list[User]]]:
    teams = [accounts.create_team(name=name) for name in TEAMS]
    users = []
    advance = progress("users", len(DEMO_USERS))
    for username, role, team_index, display in DEMO_USERS:
        user = accounts.create_user(
            username=username,
            role=role,
            display_name=display,
            team=teams[team_index] if team_index is not None else None,
            email=f"{username}@demo.guanxi.local",
        )
        if role == "manager":
            for team in teams:
                team.managers.add(user)
        users.append(user)
        advance()
    advance(0, done=True)
    # One Argon2 hash serves every demo user (same password): hashing is deliberately slow.
    User.objects.filter(pk__in=[u.pk for u in users]).update(password=make_password(DEMO_PASSWORD))
    reps_by_team = {i: [u for u in users if u.role == "sales" and u.team_id == t.pk] for i, t in enumerate(teams)}
    return users, reps_by_team


def _customers(
    seed: int,
    count: int,
    reps_by_team: dict[int, list[User]],
    first_purchase: dict[int, datetime],
    progress: Progress,
) -> list[Customer]:
    rng = random.Random(seed)
    fakers = {"zh": Faker("zh_CN"), "en": Faker("en_US")}
    for offset, fake in enumerate(fakers.values()):
        fake.seed_instance(seed + offset)
    sources = [s for s, w in SOURCES for _ in range(w)]
    customers = []
    advance = progress("customers", count)
    for sample_id in range(1, count + 1):
        lang = "zh" if rng.random() < 0.6 else "en"
        fake = fakers[lang]
        is_company = rng.random() < 0.15
        family, given = (fake.last_name(), fake.first_name())
        company = fake.company() if (is_company or rng.random() < 0.4) else ""
        team_index = rng.randrange(len(TEAMS))
        reps = reps_by_team[team_index]
        owner = None if rng.random() < 0.05 else reps[sample_id % len(reps)]
        email_user = fake.user_name()
        emails = [f"{email_user}{sample_id}@{fake.free_email_domain()}".lower()]
        phones = [p for p in [_phone(fake, rng, "CN" if lang == "zh" else "US")] if p]
        display = company if is_company else normalize.compose_name(family, given)
        customer = Customer(
            kind=Customer.Kind.COMPANY if is_company else Customer.Kind.PERSON,
            display_name=display,
            given_name="" if is_company else given,
            family_name="" if is_company else family,
            emails=emails,
            phones=phones,
            wechat_id=f"wx_{fake.lexify('????????').lower()}" if lang == "zh" and rng.random() < 0.6 else "",
            company=company,
            industry=rng.choice(INDUSTRIES),
            region=rng.choice(CN_REGIONS if lang == "zh" else EN_REGIONS),
            address=fake.address().replace("\n", " "),
            source=rng.choice(sources),
            custom_fields=_custom_values(rng, fake),
            owner=owner,
            team_id=(owner.team_id if owner else reps[0].team_id),
        )
        customer.search_text = normalize.search_text(customer)
        customer._demo_created_at = first_purchase[sample_id] - timedelta(days=rng.randint(0, 30))
        customers.append(customer)
        advance()
    advance(0, done=True)
    return customers


def _custom_values(rng: random.Random, fake: Faker) -> dict:
    values = {}
    if rng.random() < 0.5:
        values["birthday"] = fake.date_of_birth(minimum_age=18, maximum_age=75).isoformat()
    if rng.random() < 0.7:
        values["preferred_channel"] = rng.choice(["phone", "wechat", "email", "sms"])
    return values


def _bulk_events(event_type: str, objects: list, actor_label: str, payload: Callable, at: Callable) -> None:
    """Events and audit entries for rows created in bulk: the same trail a one-by-one create would leave."""
    origin = current_origin()
    events = [
        Event(
            type=event_type,
            subject_type=obj._meta.label_lower,
            subject_id=obj.pk,
            payload=jsonable(payload(obj)),
            occurred_at=at(obj),
        )
        for obj in objects
    ]
    Event.objects.bulk_create(events, batch_size=2000)
    AuditEntry.objects.bulk_create(
        [
            AuditEntry(
                event=event,
                actor_label=actor_label,
                action=AuditEntry.Action.CREATE,
                subject_type=event.subject_type,
                subject_id=event.subject_id,
                subject_label=str(obj)[:255],
                changes={"source": [None, "demo"]},
                ip_address=origin.ip_address,
                at=event.occurred_at,
            )
            for event, obj in zip(events, objects, strict=True)
        ],
        batch_size=2000,
    )


@transaction.atomic
def load(
    seed: int = 42, progress: Progress = _no_progress, today: date | None = None, limit: int | None = None
) -> dict:
    """Load the demo company into an empty database (raises if customers already exist).

    ``limit`` keeps only the first N CDNOW customers (for quick tests).
    """
    if has_data():
        raise RuntimeError("the database already has customers; demo data goes into an empty database")
    tz = ZoneInfo(settings.TIME_ZONE)
    rng = random.Random(seed)
    purchases = [row for row in read_cdnow() if limit is None or row[0] <= limit]
    today = today or timezone.localdate()
    shift = (today - timedelta(days=1)) - max(day for _id, day, _n, _v in purchases)

    def moment(day: date) -> datetime:
        return datetime.combine(day + shift, time(rng.randint(9, 21), rng.randint(0, 59)), tzinfo=tz)

    stamped = [(sample_id, moment(day), cds, value) for sample_id, day, cds, value in purchases]
    first_purchase: dict[int, datetime] = {}
    for sample_id, at, _cds, _value in stamped:
        first_purchase[sample_id] = min(at, first_purchase.get(sample_id, at))

    users, reps_by_team = _users(progress)
    CustomFieldDefinition.objects.get_or_create(
        key="birthday", defaults={"label": "Birthday", "label_zh_hans": "生日", "field_type": "date"}
    )
    CustomFieldDefinition.objects.get_or_create(
        key="preferred_channel",
        defaults={
            "label": "Preferred channel",
            "label_zh_hans": "偏好渠道",
            "field_type": "choice",
            "choices": ["phone", "wechat", "email", "sms"],
        },
    )

    customers = _customers(seed, max(first_purchase), reps_by_team, first_purchase, progress)
    Customer.objects.bulk_create(customers, batch_size=1000)
    for customer in customers:
        customer.created_at = customer._demo_created_at
    Customer.objects.bulk_update(customers, ["created_at"], batch_size=1000)
    _bulk_events(
        "customer.created",
        customers,
        "demo",
        lambda c: {"owner_id": c.owner_id, "team_id": c.team_id, "source": c.source},
        lambda c: c.created_at,
    )

    tags = {name: Tag.objects.get_or_create(name=name)[0] for name in TAGS}
    Through = Customer.tags.through
    Through.objects.bulk_create(
        [
            Through(customer_id=c.pk, tag_id=tags[name].pk)
            for c in customers
            for name in rng.sample(TAGS, k=rng.choice([0, 0, 1, 1, 2]))
        ]
    )
    shares = []
    for customer in rng.sample(customers, k=len(customers) // 50):
        colleagues = [
            u for u in users if u.role == "sales" and u.team_id == customer.team_id and u.pk != customer.owner_id
        ]
        if colleagues:
            shares.append(CustomerShare(customer=customer, user=rng.choice(colleagues)))
    CustomerShare.objects.bulk_create(shares, ignore_conflicts=True)

    product, _created = Product.objects.get_or_create(
        sku="CD", defaults={"name": "Music CD 音乐CD", "category": "Music"}
    )
    advance = progress("orders", len(stamped))
    orders, lines = [], []
    by_sample = {index + 1: c for index, c in enumerate(customers)}
    for number, (sample_id, at, cds, value) in enumerate(stamped, start=1):
        order = Order(
            customer=by_sample[sample_id],
            external_id=f"CD{number:06d}",
            ordered_at=at,
            amount=value,
            currency="USD",
        )
        orders.append(order)
        lines.append((order, cds, value))
        advance()
    advance(0, done=True)
    Order.objects.bulk_create(orders, batch_size=2000)
    OrderLine.objects.bulk_create(
        [
            OrderLine(
                order=order,
                product=product,
                description=product.name,
                quantity=cds,
                unit_price=(value / cds).quantize(Decimal("0.01")) if cds else value,
            )
            for order, cds, value in lines
        ],
        batch_size=2000,
    )
    _bulk_events(
        "order.placed",
        orders,
        "demo",
        lambda o: {
            "customer_id": o.customer_id,
            "amount": o.amount,
            "currency": o.currency,
            "ordered_at": o.ordered_at,
        },
        lambda o: o.ordered_at,
    )
    return {"customers": len(customers), "orders": len(orders), "users": len(users)}
