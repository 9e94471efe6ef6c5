"""Global customer search on PostgreSQL with 1,000,000 customers: p50/p95 per kind of query (issue 3, item 5).

    .venv/bin/python bench/bench_search.py [--n 1000000] [--queries 300] [--url postgres://postgres@127.0.0.1:5432]

Creates its own database (``guanxi_bench_search``, dropped first; ``--keep`` leaves it for EXPLAIN), migrates it,
loads N seeded customers with COPY (70% Chinese names, 30% Latin; mobile phones, e-mails, companies, WeChat
IDs; ``search_text`` written in the same form as ``customers.normalize.search_text``), builds the trigram and
CJK bigram indexes from the migrations' own DDL, ANALYZEs, then times the header search's own query
(``guanxi.web.search.search_customers``: the access policy, LIMIT, the ORM) for a few hundred queries of each
kind, as an admin (every customer visible: the worst case) and as a sales rep. Target: p95 < 100 ms.
"""

import argparse
import json
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

FAMILY = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"  # noqa: E501
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉建国志文斌宇浩凯晨欣怡子涵梓轩雨婷佳琪思博天俊鑫宁嘉瑞海燕飞雪梅丹凤晓东亮"  # noqa: E501
LATIN_FIRST = [
    "james",
    "mary",
    "john",
    "patricia",
    "robert",
    "jennifer",
    "michael",
    "linda",
    "william",
    "elizabeth",
    "david",
    "barbara",
    "richard",
    "susan",
    "joseph",
    "jessica",
    "thomas",
    "sarah",
    "charles",
    "karen",
    "daniel",
    "nancy",
    "matthew",
    "lisa",
    "anthony",
    "betty",
    "mark",
    "sandra",
    "paul",
    "ashley",
    "steven",
    "emily",
    "andrew",
    "donna",
    "kenneth",
    "michelle",
    "kevin",
    "carol",
    "brian",
    "amanda",
    "george",
    "melissa",
    "olivia",
    "lucas",
    "sophie",
    "hans",
    "anna",
]
LATIN_LAST = [
    "smith",
    "johnson",
    "williams",
    "brown",
    "jones",
    "garcia",
    "miller",
    "davis",
    "rodriguez",
    "martinez",
    "hernandez",
    "lopez",
    "gonzalez",
    "wilson",
    "anderson",
    "thomas",
    "taylor",
    "moore",
    "jackson",
    "martin",
    "lee",
    "perez",
    "thompson",
    "white",
    "harris",
    "sanchez",
    "clark",
    "ramirez",
    "lewis",
    "robinson",
    "walker",
    "young",
    "allen",
    "king",
    "wright",
    "scott",
    "torres",
    "nguyen",
    "hill",
    "flores",
    "green",
    "adams",
    "nelson",
    "baker",
    "hall",
    "mueller",
    "schmidt",
    "schneider",
    "fischer",
    "weber",
    "meyer",
    "wagner",
    "becker",
    "schulz",
    "hoffmann",
    "dupont",
    "durand",
    "lefebvre",
    "moreau",
]
CITIES = "北京上海广州深圳杭州南京苏州成都武汉西安天津重庆青岛厦门宁波长沙郑州合肥济南福州"
CITY_NAMES = [CITIES[i : i + 2] for i in range(0, len(CITIES), 2)]
BRAND = "华信恒泰宏达金鑫瑞丰永安鼎盛天成远大新创博远东方海诚联合正大中科汇通百川星辰"
BRANDS = [BRAND[i : i + 2] for i in range(0, len(BRAND), 2)]
TRADES = "科技贸易实业电子网络信息建设食品服饰医药物流咨询文化传媒教育汽车能源机械化工餐饮"
TRADE_WORDS = [TRADES[i : i + 2] for i in range(0, len(TRADES), 2)]
LATIN_COMPANY_A = [
    "acme",
    "global",
    "pacific",
    "northern",
    "summit",
    "blue",
    "orion",
    "atlas",
    "vertex",
    "harbor",
    "silver",
    "golden",
]
LATIN_COMPANY_B = [
    "trading",
    "logistics",
    "software",
    "foods",
    "textiles",
    "consulting",
    "electronics",
    "holdings",
    "media",
]
DOMAINS = ["qq.com", "163.com", "126.com", "gmail.com", "outlook.com", "sina.com", "foxmail.com", "hotmail.com"]
MOBILE_PREFIXES = [
    [
        "130",
        "131",
        "132",
        "133",
        "135",
        "136",
        "137",
        "138",
        "139",
        "150",
        "151",
        "152",
        "155",
        "156",
        "157",
        "158",
        "159",
        "166",
        "176",
        "177",
        "178",
        "180",
        "181",
        "182",
        "183",
        "185",
        "186",
        "187",
        "188",
        "189",
        "198",
        "199",
    ]
]
MOBILE_PREFIXES = MOBILE_PREFIXES[0]
COLUMNS = [
    "kind",
    "display_name",
    "given_name",
    "family_name",
    "emails",
    "phones",
    "wechat_id",
    "company",
    "industry",
    "region",
    "address",
    "source",
    "custom_fields",
    "profiling_opt_out",
    "owner_id",
    "team_id",
    "search_text",
    "created_at",
    "updated_at",
    "deleted_at",
    "version",
]
KINDS = ["cjk2", "phone", "email", "company"]


def pinyin_table() -> dict[str, str]:
    from pypinyin import lazy_pinyin

    return {ch: lazy_pinyin(ch)[0] for ch in FAMILY + GIVEN}


def generate(n: int, seed: int, owners: list[int], team_id: int, sample: dict):
    """Yield N customer rows (COLUMNS order) and fill ``sample`` with values to query for."""
    rnd = random.Random(seed)
    py = pinyin_table()
    start = datetime(2020, 1, 1, tzinfo=UTC)
    for i in range(n):
        if rnd.random() < 0.7:
            family = rnd.choice(FAMILY)
            given = rnd.choice(GIVEN) + (rnd.choice(GIVEN) if rnd.random() < 0.6 else "")
            name = family + given
            local = f"{''.join(py[c] for c in given)}.{py[family]}{rnd.randint(0, 99) if rnd.random() < 0.5 else ''}"
            if i % 50 == 0:
                sample["names"].append(name)
        else:
            given = rnd.choice(LATIN_FIRST).title()
            family = rnd.choice(LATIN_LAST).title()
            name = f"{given} {family}"
            local = f"{given.lower()}.{family.lower()}{rnd.randint(1, 999) if rnd.random() < 0.5 else ''}"
        if rnd.random() < 0.75:
            company = f"{rnd.choice(CITY_NAMES)}{rnd.choice(BRANDS)}{rnd.choice(TRADE_WORDS)}有限公司"
        else:
            company = f"{rnd.choice(LATIN_COMPANY_A).title()} {rnd.choice(LATIN_COMPANY_B).title()} Ltd"
        email = f"{local}@{rnd.choice(DOMAINS)}"
        national = rnd.choice(MOBILE_PREFIXES) + f"{rnd.randrange(10**8):08d}"
        phone = "+86" + national
        wechat = f"wxid_{rnd.randrange(36**8):x}" if rnd.random() < 0.5 else ""
        if i % 50 == 0:
            sample["emails"].append(email)
            sample["phones"].append(national)
        parts = [name, family + given, given, family, company, wechat, email, phone, national]
        search_text = " | ".join(p.lower() for p in parts if p)
        created = start + timedelta(seconds=i * 157)
        yield (
            "person",
            name,
            given,
            family,
            json.dumps([email]),
            json.dumps([phone]),
            wechat,
            company,
            "",
            "",
            "",
            "import",
            "{}",
            False,
            owners[i % len(owners)],
            team_id,
            search_text,
            created,
            created,
            None,
            1,
        )


def make_queries(sample: dict, count: int, seed: int) -> dict[str, list[str]]:
    rnd = random.Random(seed + 1)
    queries: dict[str, list[str]] = {kind: [] for kind in KINDS}
    for _ in range(count):
        name = rnd.choice(sample["names"])
        start = rnd.randrange(len(name) - 1)
        queries["cjk2"].append(name[start : start + 2])
        number = rnd.choice(sample["phones"])
        length = rnd.randint(4, 8)
        start = rnd.randrange(len(number) - length + 1)
        queries["phone"].append(number[start : start + length])
        local = rnd.choice(sample["emails"]).split("@")[0]
        queries["email"].append(local[: rnd.randint(3, min(8, len(local)))])
        queries["company"].append(
            rnd.choice(TRADE_WORDS + BRANDS + CITY_NAMES if rnd.random() < 0.75 else LATIN_COMPANY_A + LATIN_COMPANY_B)
        )
    return queries


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="customers to load (default 1,000,000)")
    parser.add_argument("--queries", type=int, default=300, help="queries of each kind (default 300)")
    parser.add_argument("--url", default="postgres://postgres@127.0.0.1:5432", help="PostgreSQL server")
    parser.add_argument("--db", default="guanxi_bench_search")
    parser.add_argument("--seed", type=int, default=20260301)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE of one query per kind")
    args = parser.parse_args()

    import psycopg

    with psycopg.connect(f"{args.url}/postgres", autocommit=True) as admin_conn:
        admin_conn.execute(f'DROP DATABASE IF EXISTS "{args.db}" WITH (FORCE)')
        admin_conn.execute(f'CREATE DATABASE "{args.db}"')
    os.environ["DATABASE_URL"] = f"{args.url}/{args.db}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guanxi.settings")
    os.environ.setdefault("GUANXI_LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from guanxi.accounts import services as accounts
    from guanxi.search import sql
    from guanxi.web import search

    try:
        t0 = time.perf_counter()
        call_command("migrate", verbosity=0)
        team = accounts.create_team(name="Bench")
        admin = accounts.create_user(username="bench-admin", role="admin")
        reps = [accounts.create_user(username=f"rep{i}", role="sales", team=team) for i in range(50)]
        print(f"migrated in {time.perf_counter() - t0:.1f} s")

        with connection.cursor() as cursor:
            cursor.execute("DROP INDEX IF EXISTS customers_customer_search_trgm")
            cursor.execute(sql.DROP_BIGRAM_INDEX)
        sample: dict[str, list[str]] = {"names": [], "emails": [], "phones": []}
        t0 = time.perf_counter()
        raw = connection.connection
        copy_sql = f"COPY customers_customer ({', '.join(COLUMNS)}) FROM STDIN"
        with raw.cursor() as cursor, cursor.copy(copy_sql) as copy:
            for row in generate(args.n, args.seed, [r.pk for r in reps], team.pk, sample):
                copy.write_row(row)
        raw.commit()
        print(f"loaded {args.n:,} customers with COPY in {time.perf_counter() - t0:.1f} s")
        for label, statement in (
            (
                "trigram",
                "CREATE INDEX customers_customer_search_trgm ON customers_customer "
                "USING gin (search_text gin_trgm_ops)",
            ),
            ("CJK bigram", sql.BIGRAM_INDEX),
        ):
            t0 = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute("SET maintenance_work_mem = '512MB'")
                cursor.execute(statement)
            print(f"built the {label} index in {time.perf_counter() - t0:.1f} s")
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE customers_customer")
            cursor.execute(
                "SELECT pg_size_pretty(pg_relation_size('customers_customer_search_trgm')), "
                "pg_size_pretty(pg_relation_size('customers_customer_search_cjk_bigrams')), "
                "pg_size_pretty(pg_relation_size('customers_customer'))"
            )
            trgm_size, bigram_size, table_size = cursor.fetchone()
        print(f"sizes: table {table_size}, trigram index {trgm_size}, bigram index {bigram_size}")

        queries = make_queries(sample, args.queries, args.seed)
        for who, user in (("admin (all customers)", admin), ("sales rep (own customers)", reps[7])):
            print(f"\n{who}: {args.queries} queries per kind, top {search.TOP} results each, target p95 < 100 ms")
            print(f"{'kind':<10}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}{'mean hits':>11}  examples")
            for kind in KINDS:
                for q in queries[kind][:5]:  # warm-up: the first touches of each index
                    search.search_customers(user, q)
                times, hits = [], []
                for q in queries[kind]:
                    t0 = time.perf_counter()
                    results = search.search_customers(user, q)
                    times.append((time.perf_counter() - t0) * 1000)
                    hits.append(len(results.customers))
                p95 = percentile(times, 95)
                verdict = "ok" if p95 < 100 else "OVER TARGET"
                print(
                    f"{kind:<10}{percentile(times, 50):>9.1f}{p95:>9.1f}{max(times):>9.1f}"
                    f"{statistics.mean(hits):>11.1f}  {', '.join(queries[kind][:3])}  {verdict}"
                )
            if args.explain:
                for kind in KINDS:
                    qs = search.customer_queryset(user, queries[kind][0])[: search.TOP + 1]
                    print(f"\n-- {kind}: {queries[kind][0]}\n{qs.explain(analyze=True)}")
        with open("/proc/loadavg") as f:
            print(f"\nload average: {f.read().split()[:3]}")
    finally:
        connection.close()
        if not args.keep:
            with psycopg.connect(f"{args.url}/postgres", autocommit=True) as admin_conn:
                admin_conn.execute(f'DROP DATABASE IF EXISTS "{args.db}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
