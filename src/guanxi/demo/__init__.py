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

# The catalogue: (sku, name, category index, list price in USD). Categories are bilingual like the industries.
CATEGORIES = ["Tea 茶", "Coffee 咖啡", "Snacks 零食", "Skincare 护肤", "Books 图书", "Home 家居"]
CATALOGUE = [
    ("TEA-SET", "Tea set 茶具套装", 0, Decimal("48.00")),
    ("TEA-LJ", "Longjing green tea 龙井绿茶", 0, Decimal("18.00")),
    ("TEA-PE", "Pu'er tea cake 普洱茶饼", 0, Decimal("22.00")),
    ("TEA-OL", "Oolong tea 乌龙茶", 0, Decimal("16.00")),
    ("TEA-JS", "Jasmine tea 茉莉花茶", 0, Decimal("12.00")),
    ("TEA-CUP", "Tasting cups 品茗杯", 0, Decimal("9.00")),
    ("COF-KIT", "Pour-over kit 手冲咖啡套装", 1, Decimal("45.00")),
    ("COF-BEAN", "Coffee beans 咖啡豆", 1, Decimal("15.00")),
    ("COF-FLT", "Paper filters 咖啡滤纸", 1, Decimal("4.00")),
    ("COF-FRO", "Milk frother 奶泡器", 1, Decimal("25.00")),
    ("COF-MUG", "Coffee mug 咖啡杯", 1, Decimal("10.00")),
    ("SNK-MOON", "Mooncake gift box 月饼礼盒", 2, Decimal("28.00")),
    ("SNK-FRUIT", "Dried fruit 果干", 2, Decimal("8.00")),
    ("SNK-NUT", "Mixed nuts 坚果", 2, Decimal("11.00")),
    ("SNK-SWT", "Sweets 糖果", 2, Decimal("6.00")),
    ("SNK-SEA", "Seaweed snacks 海苔", 2, Decimal("5.00")),
    ("SKN-CRM", "Face cream 面霜", 3, Decimal("35.00")),
    ("SKN-SRM", "Serum 精华液", 3, Decimal("42.00")),
    ("SKN-MSK", "Sheet masks 面膜", 3, Decimal("14.00")),
    ("SKN-CLN", "Cleanser 洁面乳", 3, Decimal("12.00")),
    ("SKN-SUN", "Sunscreen 防晒霜", 3, Decimal("18.00")),
    ("BK-COOK", "Cookbook 菜谱", 4, Decimal("20.00")),
    ("BK-TEA", "The culture of tea 茶文化读本", 4, Decimal("16.00")),
    ("BK-NOV", "Novel 小说", 4, Decimal("12.00")),
    ("BK-KID", "Children's picture book 儿童绘本", 4, Decimal("9.00")),
    ("BK-CAL", "Calligraphy set 书法套装", 4, Decimal("30.00")),
    ("HM-CAN", "Scented candle 香薰蜡烛", 5, Decimal("15.00")),
    ("HM-VASE", "Vase 花瓶", 5, Decimal("26.00")),
    ("HM-INC", "Incense 线香", 5, Decimal("7.00")),
    ("HM-CUSH", "Cushion 靠垫", 5, Decimal("19.00")),
    ("HM-RUN", "Table runner 桌旗", 5, Decimal("13.00")),
]
# Starter products and what their buyers come back for: a tea set's buyers later buy tea, and so on.
FOLLOW_ONS = {
    "TEA-SET": ["TEA-LJ", "TEA-PE", "TEA-OL", "TEA-JS", "TEA-CUP", "BK-TEA"],
    "COF-KIT": ["COF-BEAN", "COF-FLT", "COF-FRO", "COF-MUG"],
    "SKN-CRM": ["SKN-SRM", "SKN-MSK", "SKN-CLN", "SKN-SUN"],
    "BK-CAL": ["HM-INC", "BK-TEA", "HM-RUN"],
    "HM-VASE": ["HM-CAN", "HM-CUSH", "HM-RUN"],
    "BK-COOK": ["SNK-NUT", "SNK-FRUIT", "SNK-MOON"],
    "SNK-MOON": ["TEA-PE", "TEA-JS", "SNK-NUT", "SNK-FRUIT"],
}
CATEGORY_WEIGHTS = [30, 20, 15, 15, 10, 10]

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

    products = _catalogue()
    advance = progress("orders", len(stamped))
    orders = []
    by_sample = {index + 1: c for index, c in enumerate(customers)}
    for number, (sample_id, at, _cds, value) in enumerate(stamped, start=1):
        orders.append(
            Order(
                customer=by_sample[sample_id],
                external_id=f"CD{number:06d}",
                ordered_at=at,
                amount=value,
                currency="USD",
            )
        )
        advance()
    advance(0, done=True)
    Order.objects.bulk_create(orders, batch_size=2000)
    OrderLine.objects.bulk_create(_order_lines(seed, stamped, orders, products), batch_size=2000)
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
    leads = _leads(seed, today, reps_by_team, progress)
    from guanxi.demo import relationships

    history = relationships.load(seed=seed, today=today, bulk_events=_bulk_events, progress=progress)
    # The service desk (tickets, their SLA clocks, the surveys after them) and retention (membership and
    # points from the orders above), in that order: each reads what the one before wrote.
    from guanxi.demo import deals as deals_demo
    from guanxi.demo import loyalty as loyalty_demo
    from guanxi.demo import offers as offers_demo
    from guanxi.demo import quality as quality_demo
    from guanxi.demo import sla as sla_demo
    from guanxi.demo import surveys as surveys_demo
    from guanxi.demo import tickets as tickets_demo

    tickets_demo.load(seed=seed, today=today, progress=progress)
    sla_demo.load(seed=seed, today=today, progress=progress)
    surveys_demo.load(seed=seed, today=today, progress=progress)
    quality_demo.load(seed=seed, today=today)
    offers_demo.load(seed=seed, today=today, progress=progress)  # its return orders then earn points
    loyalty_demo.load(seed=seed, today=today, progress=progress)
    deals_demo.load(seed=seed, today=today, progress=progress)
    return {
        "customers": len(customers) + len(leads),
        "leads": len(leads),
        "orders": len(orders),
        "users": len(users),
        "products": len(products),
        **history,
    }


LEADS = 120


def _leads(seed: int, today: date, reps_by_team: dict[int, list[User]], progress: Progress) -> list[Customer]:
    """Prospects from the last two months who have not ordered yet: the ``potential`` stage of the lifecycle."""
    rng = random.Random(seed + 1000)
    tz = ZoneInfo(settings.TIME_ZONE)
    created = {
        n: datetime.combine(today - timedelta(days=rng.randint(1, 60)), time(rng.randint(9, 20)), tzinfo=tz)
        for n in range(1, LEADS + 1)
    }
    leads = _customers(seed + 1000, LEADS, reps_by_team, created, progress)
    for number, lead in enumerate(leads, start=1):
        lead._demo_created_at = created[number]
        lead.source = Customer.Source.WEB_FORM if rng.random() < 0.5 else lead.source
        lead.emails = [email.replace("@", ".lead@", 1) for email in lead.emails]
    Customer.objects.bulk_create(leads, batch_size=1000)
    for lead in leads:
        lead.created_at = lead._demo_created_at
    Customer.objects.bulk_update(leads, ["created_at"], batch_size=1000)
    _bulk_events(
        "customer.created",
        leads,
        "demo",
        lambda c: {"owner_id": c.owner_id, "team_id": c.team_id, "source": c.source},
        lambda c: c.created_at,
    )
    return leads


def _catalogue() -> dict[str, Product]:
    products = {}
    for sku, name, category, _price in CATALOGUE:
        products[sku], _created = Product.objects.get_or_create(
            sku=sku, defaults={"name": name, "category": CATEGORIES[category]}
        )
    return products


def _order_lines(seed: int, stamped: list, orders: list[Order], products: dict[str, Product]) -> list[OrderLine]:
    """Lines over the catalogue for every order, deterministic for ``seed``, summing exactly to the order amount.

    Each customer has a main and a second favourite category; a first order often starts with the main
    category's starter product (tea set, pour-over kit ...), and later orders mostly return for the follow-ons of
    the starters bought before, so that co-purchase recommendations have a real pattern to find. A CDNOW order
    of n CDs gets min(n, 1-3) products; the list prices are scaled so the lines add up to the real amount.
    """
    rng = random.Random(seed + 7919)
    price = {sku: list_price for sku, _name, _c, list_price in CATALOGUE}
    by_category: dict[int, list[str]] = {}
    for sku, _name, category, _price in CATALOGUE:
        by_category.setdefault(category, []).append(sku)
    starters = {category: next(s for s in skus if s in FOLLOW_ONS) for category, skus in by_category.items()}
    categories = list(range(len(CATEGORIES)))
    taste: dict[int, tuple[int, int]] = {}
    bought: dict[int, list[str]] = {}
    lines = []
    for (sample_id, _at, cds, value), order in zip(stamped, orders, strict=True):
        if sample_id not in taste:
            main = rng.choices(categories, weights=CATEGORY_WEIGHTS)[0]
            taste[sample_id] = (main, rng.choice([c for c in categories if c != main]))
        main, second = taste[sample_id]
        history = bought.setdefault(sample_id, [])
        wanted = max(1, min(cds, rng.choice([1, 1, 2, 2, 3])))
        chosen: list[str] = []
        if not history and rng.random() < 0.6:
            chosen.append(starters[main])
        follow_ons = [f for s in dict.fromkeys(history) if s in FOLLOW_ONS for f in FOLLOW_ONS[s]]
        for _attempt in range(12):
            if len(chosen) >= wanted:
                break
            draw = rng.random()
            if follow_ons and draw < 0.65:
                sku = rng.choice(follow_ons)
            else:
                category = main if draw < 0.85 else second
                sku = rng.choice(by_category[category])
            if sku not in chosen:
                chosen.append(sku)
        history.extend(chosen)
        quantities = [1] * len(chosen)
        for _extra in range(max(0, cds - len(chosen))):
            quantities[rng.randrange(len(chosen))] += 1
        lines.extend(_priced_lines(order, [products[s] for s in chosen], quantities, [price[s] for s in chosen], value))
    return lines


def _priced_lines(order: Order, items: list[Product], quantities: list[int], prices: list[Decimal], total: Decimal):
    """Lines whose quantity x unit price add up to ``total`` exactly: list prices scaled to the total, the last
    line taking the rounding (its quantity is split off as a line of one when it would not divide evenly)."""
    cent = Decimal("0.01")
    list_total = sum(q * p for q, p in zip(quantities, prices, strict=True))
    scale = total / list_total
    lines = []
    remaining = total
    for index, (product, quantity, list_price) in enumerate(zip(items, quantities, prices, strict=True)):
        last = index == len(items) - 1
        unit = (list_price * scale).quantize(cent)
        if last:
            unit = (remaining / quantity).quantize(cent, rounding="ROUND_DOWN")
            if unit * quantity != remaining and quantity > 1:
                lines.append(_line(order, product, quantity - 1, unit))
                remaining -= unit * (quantity - 1)
                quantity = 1
            unit = remaining if quantity == 1 else unit
        elif unit * quantity > remaining:
            unit = (remaining / quantity).quantize(cent, rounding="ROUND_DOWN")
        lines.append(_line(order, product, quantity, unit))
        remaining -= unit * quantity
    return lines


def _line(order: Order, product: Product, quantity: int, unit: Decimal) -> OrderLine:
    return OrderLine(order=order, product=product, description=product.name, quantity=quantity, unit_price=unit)
