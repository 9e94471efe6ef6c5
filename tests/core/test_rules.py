"""The rule language: parse errors say where, types are checked, and every operator decides in SQL."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from guanxi.core import rules

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


# ------------------------------------------------------------------------------------------------ parsing


@pytest.mark.parametrize(
    ("text", "line", "column", "words"),
    [
        ("", 1, 1, ["empty"]),
        ('tier == "A" and', 1, 16, ["ends too early", "a field name"]),
        ("(orders > 1", 1, 12, ["ends too early", ")"]),
        ("orders ! 3", 1, 8, ["Unexpected character", "!"]),
        ('tier == "A"\nand and orders > 1', 2, 5, ["Unexpected", "and", "line 2, column 5"]),
        ("orders > > 3", 1, 10, ["Unexpected", ">"]),
        ('stage in "new"', 1, 10, ["Unexpected", "("]),
    ],
)
def test_syntax_errors_say_where_and_what_was_expected(text, line, column, words):
    with pytest.raises(rules.RuleError) as caught:
        rules.parse(text)
    error = caught.value
    assert error.status == 400 and error.code == "invalid_rule"
    assert (error.details["line"], error.details["column"]) == (line, column)
    for word in words:
        assert word in error.message


def test_an_unknown_field_names_the_known_ones_and_the_closest():
    with pytest.raises(rules.RuleError) as caught:
        rules.parse('orders > 1 and tierr == "A"')
    error = caught.value
    assert (error.details["line"], error.details["column"], error.details["token"]) == (1, 16, "tierr")
    assert "Did you mean tier?" in error.message
    assert "p_alive" in error.message and "orders_12m" in error.message


@pytest.mark.parametrize(
    ("text", "column"),
    [
        ("tier > 3", 6),
        ("tier == 3", 9),
        ('orders == "many"', 11),
        ("orders in (1, 'x')", 15),
        ('tier between "A" and "B"', 1),
        ('region has "x"', 1),
        ('tags == "vip"', 9),
        ("profiling_opt_out == 1", 22),
        ("orders", 1),
        ("orders < null", 10),
        ("tier < orders", 6),
        ("tags == region", 6),
    ],
)
def test_type_mismatches_are_refused_with_their_position(text, column):
    with pytest.raises(rules.RuleError) as caught:
        rules.parse(text)
    assert caught.value.details["column"] == column


def test_parse_builds_the_tree_and_the_fields_used():
    rule = rules.parse('tier == "A" and (p_alive < 0.5 OR NOT tags has "vip") and stage not in ("new",)')
    assert rule.fields == {"tier", "p_alive", "tags", "stage"}
    assert rule.tree == (
        "and",
        ("cmp", "tier", "==", "A"),
        ("or", ("cmp", "p_alive", "<", 0.5), ("not", ("has", "tags", "vip"))),
        ("not", ("in", "stage", ("new",))),
    )
    assert rules.parse("orders = 1").tree == ("cmp", "orders", "==", 1)
    assert rules.parse("'vip' in tags").tree == ("has", "tags", "vip")
    assert rules.parse("not profiling_opt_out").tree == ("not", ("cmp", "profiling_opt_out", "==", True))
    assert str(rules.parse("orders >= 2")) == "orders >= 2"


def test_known_fields_cover_the_contract():
    names = {info.name for info in rules.known_fields()}
    assert {
        "kind", "industry", "region", "source", "tags", "owner", "team", "created_days", "orders", "orders_12m",
        "revenue", "first_order_days", "last_order_days", "tier", "value_tier", "segment", "needs_segment",
        "p_alive", "clv", "churn_risk", "expected_purchases_90d", "usual_interval_days", "overdue_ratio",
        "profiling_opt_out", "stage", "days_in_stage", "funnel_stage",
    } <= names  # fmt: skip
    tier = next(info for info in rules.known_fields() if info.name == "tier")
    assert tier.type == "string" and "A" in tier.examples and str(tier.label)


def test_register_field_refuses_keywords_and_unknown_types():
    with pytest.raises(ValueError):
        rules.register_field("and", type="string", label="x", expression="kind")
    with pytest.raises(ValueError):
        rules.register_field("color", type="colour", label="x", expression="kind")


# ------------------------------------------------------------------------------------------------ SQL


def _order(customer, days_ago: float, amount="100.00", number=[0]):  # noqa: B006 - a counter for unique numbers
    from guanxi.commerce.models import Order

    number[0] += 1
    return Order.objects.create(
        customer=customer,
        external_id=f"R-{number[0]}",
        ordered_at=NOW - timedelta(days=days_ago),
        amount=Decimal(amount),
        currency="CNY",
    )


def _score(customer, **fields):
    from guanxi.segments.models import CustomerScore, ScoreRun

    run = ScoreRun.objects.create(started_at=NOW, as_of=date(2026, 6, 1), status="succeeded")
    values = {
        "as_of": date(2026, 6, 1),
        "segment": "loyal",
        "abc_tier": "B",
        "value_tier": "medium",
        "p_alive": 0.9,
        "expected_purchases_90d": 1.0,
        "expected_spend": 100.0,
        "clv": Decimal("300.00"),
        **fields,
    }
    return CustomerScore.objects.create(customer=customer, run=run, scored_at=NOW, **values)


@pytest.fixture
def people(users, make_customer):
    from guanxi.customers.models import Customer

    rep = users["rep"]
    none = make_customer(rep, display_name="No orders", region="East", industry="retail")
    one = make_customer(rep, display_name="One order", region="West", tags=["vip"])
    many = make_customer(rep, display_name="Many orders", region="East", tags=["vip", "b2b"], kind="company")
    opted = make_customer(rep, display_name="Opted out", region="North", profiling_opt_out=True)
    _order(one, 2, "50.00")
    for days in (10, 40, 70, 100, 400):
        _order(many, days, "200.00")
    _order(opted, 20)
    _score(many, abc_tier="A", p_alive=0.3)
    _score(opted, abc_tier="A", p_alive=0.95)  # left over from before the opt-out: never used
    return {c.display_name: c for c in Customer.objects.filter(pk__in=[none.pk, one.pk, many.pk, opted.pk])}


def _names(people, text):
    from guanxi.customers.models import Customer

    ids = [c.pk for c in people.values()]
    matched = rules.filter_customers(Customer.objects.filter(pk__in=ids), rules.parse(text), now=NOW)
    return set(matched.values_list("display_name", flat=True))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("orders == 0", {"No orders"}),
        ("orders = 1", {"One order", "Opted out"}),
        ("orders != 1", {"No orders", "Many orders"}),
        ("orders > 1", {"Many orders"}),
        ("orders >= 1", {"One order", "Many orders", "Opted out"}),
        ("orders < 1", {"No orders"}),
        ("orders <= 1", {"No orders", "One order", "Opted out"}),
        ("orders_12m == 4", {"Many orders"}),
        ("orders between 1 and 4", {"One order", "Opted out"}),
        ("orders not in (0, 5)", {"One order", "Opted out"}),
        ('region in ("East", "North")', {"No orders", "Many orders", "Opted out"}),
        ('region not in ("East")', {"One order", "Opted out"}),
        ('tags has "vip"', {"One order", "Many orders"}),
        ('"b2b" in tags', {"Many orders"}),
        ('not tags has "vip"', {"No orders", "Opted out"}),
        ('kind == "company"', {"Many orders"}),
        ("profiling_opt_out", {"Opted out"}),
        ("profiling_opt_out == false", {"No orders", "One order", "Many orders"}),
        ('owner == "rep"', {"No orders", "One order", "Many orders", "Opted out"}),
        ('team == "Team A"', {"No orders", "One order", "Many orders", "Opted out"}),
        ("revenue > 500", {"Many orders"}),
        ("revenue == 0", {"No orders"}),
        ("first_order_days <= 3", {"One order"}),
        ("last_order_days between 9 and 11", {"Many orders"}),
        ("last_order_days = null", {"No orders"}),
        ("usual_interval_days == 97.5", {"Many orders"}),
        ("overdue_ratio < 0.2", {"Many orders"}),
        ("created_days > 1", set()),  # created just now (after NOW): negative days
        # Scores: missing for the unscored and ignored for the opted-out customer.
        ('tier == "A"', {"Many orders"}),
        ("p_alive < 0.5", {"Many orders"}),
        ("p_alive >= 0.5", set()),
        ("not p_alive < 0.5", {"No orders", "One order", "Opted out"}),
        ("p_alive = null", {"No orders", "One order", "Opted out"}),
        ("p_alive != null and clv > 100", {"Many orders"}),
        ('tier != "A"', set()),
        ("first_order_days > last_order_days", {"Many orders"}),
        ("first_order_days == last_order_days", {"One order", "Opted out"}),
        ("first_order_days != last_order_days", {"Many orders"}),
        ("orders_12m < orders", {"Many orders"}),
        ('(tier == "A" or orders == 0) and region == "East"', {"No orders", "Many orders"}),
        (
            'stage == "potential" and funnel_stage == "awareness"',
            {"No orders", "One order", "Many orders", "Opted out"},
        ),
    ],
)
def test_each_operator_decides_in_sql(people, text, expected):
    assert _names(people, text) == expected


def test_matches_one_customer_and_filter_keeps_a_plain_queryset(people):
    from guanxi.customers.models import Customer

    rule = rules.parse('orders >= 5 and tier == "A"')
    assert rules.matches(rule, people["Many orders"].pk, now=NOW)
    assert not rules.matches(rule, people["One order"].pk, now=NOW)
    matched = rules.filter_customers(Customer.objects.all(), rule, now=NOW)
    assert matched.count() == 1
    assert list(matched.order_by("pk").values_list("display_name", flat=True)) == ["Many orders"]


def test_first_match_takes_the_first_rule_that_matches_in_one_query(people, django_assert_num_queries):
    from guanxi.customers.models import Customer

    choices = [
        ("big", rules.parse("orders >= 5")),
        ("some", rules.parse("orders >= 1")),
        ("vip", rules.parse('tags has "vip"')),
    ]
    with django_assert_num_queries(1):
        decided = dict(
            rules.first_match(
                Customer.objects.filter(pk__in=[c.pk for c in people.values()]), choices, now=NOW
            ).values_list("display_name", "rule_match")
        )
    assert decided == {"No orders": None, "One order": "some", "Many orders": "big", "Opted out": "some"}
