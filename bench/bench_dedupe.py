"""Duplicate detection (Splink on DuckDB) on synthetic customers with injected duplicates: precision, recall, time.

    .venv/bin/python bench/bench_dedupe.py            # 100,000 customers, 5% of them duplicated
    .venv/bin/python bench/bench_dedupe.py --n 10000  # smaller

The generator is seeded. 70% of people have Chinese names (surnames weighted like the real distribution's head,
one or two given characters), 30% Latin names; most have a mobile phone, many an e-mail, a company and an
address. A duplicate copies a record and changes one to three things: a typo in the name (a homophone or a
dropped character for Chinese, an edit for Latin), the traditional-script form of the name and company (张伟 ->
張偉), the name written in pinyin or with swapped words, the phone reformatted (+86 138-1234-5678, 0086...,
spaces) or mistyped by one digit, the e-mail mistyped or missing, the company or address missing.
Phones are normalised to E.164 the way the CRM stores them before the model sees them.

Precision = true pairs found / pairs reported; recall = true pairs found / injected pairs. Pairs between two
distinct synthetic people that happen to look alike (same common name and company) count against precision.
"""

import argparse
import json
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"  # noqa: E501
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国志红玉萍文辉力鹏飞斌宇浩凯鑫晨亮婷雪琳颖欣怡佳慧思梦雨佳晓东海波峰宁鹤俊博瑞涵睿泽轩昊天宏伦毅健"  # noqa: E501
# Same-sound characters for Chinese typos (a rep types the pinyin and picks the wrong character).
HOMOPHONES = {
    "伟": "玮",
    "芳": "方",
    "静": "晶",
    "丽": "莉",
    "强": "墙",
    "军": "君",
    "洋": "阳",
    "杰": "洁",
    "明": "铭",
}
HOMOPHONES |= {
    "华": "骅",
    "国": "果",
    "红": "宏",
    "文": "雯",
    "辉": "晖",
    "飞": "菲",
    "宇": "雨",
    "浩": "昊",
    "亮": "靓",
}
FIRST = ["James", "Mary", "John", "Linda", "Robert", "Anna", "David", "Sophie", "Michael", "Emma", "Thomas", "Laura"]
FIRST += ["Daniel", "Julia", "Peter", "Clara", "Lucas", "Nina", "Mark", "Sarah", "Oliver", "Eva", "Jan", "Ines"]
LAST = ["Smith", "Müller", "Johnson", "Schmidt", "Brown", "Garcia", "Martin", "Rossi", "Dubois", "Novak", "Kowalski"]
LAST += ["Jensen", "Silva", "Nagy", "Walker", "Young", "King", "Wright", "Lopez", "Hill", "Green", "Adams", "Baker"]
CITIES = ["上海市", "北京市", "广州市", "深圳市", "杭州市", "成都市", "南京市", "武汉市", "苏州市", "西安市"]
DISTRICTS = ["浦东新区", "朝阳区", "天河区", "南山区", "西湖区", "武侯区", "鼓楼区", "江汉区", "工业园区", "雁塔区"]
STREETS = ["人民路", "中山路", "解放路", "建设路", "和平路", "长江路", "黄河路", "新华路", "延安路", "东风路"]
COMPANY_WORDS = ["华", "东", "星", "瑞", "嘉", "恒", "盛", "达", "通", "信", "源", "科", "联", "创", "康", "宝"]
COMPANY_SUFFIX = ["科技有限公司", "贸易有限公司", "实业有限公司", "电子有限公司", "餐饮管理有限公司", "咨询有限公司"]
DOMAINS = ["qq.com", "163.com", "126.com", "gmail.com", "outlook.com", "sina.com", "example.cn"]


def _setup():
    import os
    import tempfile

    # No database is used: Django is set up only for the settings the model reads.
    os.environ.setdefault("GUANXI_DATA_DIR", os.path.join(tempfile.gettempdir(), "guanxi-bench-dedupe"))
    from guanxi.cli import setup_django

    setup_django()


def generate(n: int, share: float, seed: int):
    """``n`` records of which ``share`` are injected duplicates of others; returns records and the true pairs."""
    import opencc
    import phonenumbers
    from pypinyin import lazy_pinyin

    rng = random.Random(seed)
    s2t = opencc.OpenCC("s2t")
    companies = [
        rng.choice(CITIES)[:2] + "".join(rng.sample(COMPANY_WORDS, 2)) + rng.choice(COMPANY_SUFFIX) for _ in range(3000)
    ]
    used_phones: set[str] = set()

    def phone() -> str:
        while True:
            number = f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"
            if number not in used_phones:
                used_phones.add(number)
                return number

    def person(pk: int) -> dict:
        chinese = rng.random() < 0.7
        if chinese:
            surname = rng.choice(SURNAMES[:20]) if rng.random() < 0.6 else rng.choice(SURNAMES)
            name = surname + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))
            user = "".join(lazy_pinyin(name))
        else:
            first, last = rng.choice(FIRST), rng.choice(LAST)
            name = f"{first} {last}"
            user = f"{first}.{last}".lower().replace("ü", "ue")
        record = {"id": pk, "name": name, "chinese": chinese, "phones": [], "emails": [], "company": "", "address": ""}
        if rng.random() < 0.9:
            record["phones"] = [phone()]
        if rng.random() < 0.6:
            record["emails"] = [f"{user}{rng.randrange(10000)}@{rng.choice(DOMAINS)}"]
        if rng.random() < 0.6:
            record["company"] = rng.choice(companies)
        if rng.random() < 0.5:
            record["address"] = (
                f"{rng.choice(CITIES)}{rng.choice(DISTRICTS)}{rng.choice(STREETS)}{rng.randrange(1, 999)}号"
            )
        return record

    def typo(text: str) -> str:
        if len(text) < 2:
            return text
        i = rng.randrange(len(text))
        op = rng.choice(("drop", "swap", "replace"))
        if op == "drop":
            return text[:i] + text[i + 1 :]
        if op == "swap" and i < len(text) - 1:
            return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
        return text[:i] + rng.choice("abcdefghijklmnopqrstuvwxyz") + text[i + 1 :]

    def reformat(number: str) -> str:
        style = rng.choice(("+86 {a} {b} {c}", "0086{n}", "+86-{a}-{b}-{c}", "({a}) {b}{c}", "{a} {b} {c}"))
        return style.format(a=number[:3], b=number[3:7], c=number[7:], n=number)

    def duplicate(original: dict, pk: int) -> dict:
        dup = {**original, "id": pk, "phones": list(original["phones"]), "emails": list(original["emails"])}
        changes = rng.sample(("name", "script", "order", "phone", "email", "company", "address"), rng.randint(1, 3))
        for change in changes:
            if change == "name":
                if original["chinese"]:
                    given = [HOMOPHONES.get(ch, ch) for ch in dup["name"]]
                    swapped = "".join(given)
                    dup["name"] = swapped if swapped != dup["name"] else dup["name"][:-1] or dup["name"]
                else:
                    dup["name"] = typo(dup["name"])
            elif change == "script" and original["chinese"]:
                dup["name"] = s2t.convert(dup["name"])
                dup["company"] = s2t.convert(dup["company"])
                dup["address"] = s2t.convert(dup["address"])
            elif change == "order":
                if original["chinese"]:
                    syllables = lazy_pinyin(dup["name"])
                    dup["name"] = " ".join(s.capitalize() for s in syllables[1:] + syllables[:1])
                else:
                    dup["name"] = " ".join(reversed(dup["name"].split()))
            elif change == "phone" and dup["phones"]:
                number = dup["phones"][0]
                if rng.random() < 0.6:
                    dup["phones"] = [reformat(number)]
                else:
                    i = rng.randrange(3, len(number))
                    dup["phones"] = [number[:i] + str((int(number[i]) + rng.randint(1, 9)) % 10) + number[i + 1 :]]
            elif change == "email" and dup["emails"]:
                user, domain = dup["emails"][0].split("@")
                dup["emails"] = [] if rng.random() < 0.4 else [f"{typo(user)}@{domain}"]
            elif change == "company":
                dup["company"] = ""
            elif change == "address":
                dup["address"] = ""
        return dup

    n_dups = int(n * share)
    records = [person(pk) for pk in range(1, n - n_dups + 1)]
    clusters: dict[int, list[int]] = {}
    for pk in range(n - n_dups + 1, n + 1):
        original = rng.choice(records[: n - n_dups])
        records.append(duplicate(original, pk))
        clusters.setdefault(original["id"], [original["id"]]).append(pk)
    # Two duplicates of the same person are a true pair too.
    truth = {(a, b) for ids in clusters.values() for i, a in enumerate(ids) for b in ids[i + 1 :]}
    for record in records:  # stored as the CRM stores phones: E.164
        normalised = []
        for raw in record["phones"]:
            try:
                parsed = phonenumbers.parse(raw, "CN")
            except phonenumbers.NumberParseException:
                continue
            if phonenumbers.is_valid_number(parsed):
                normalised.append(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))
        record["phones"] = normalised
    rng.shuffle(records)
    return records, truth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="customers in all (default 100,000)")
    parser.add_argument("--share", type=float, default=0.05, help="share of them that are injected duplicates")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--threshold", type=float, default=None, help="match probability to report a pair")
    args = parser.parse_args()
    _setup()
    from guanxi.customers import duplicates

    threshold = duplicates.THRESHOLD if args.threshold is None else args.threshold
    started = time.perf_counter()
    records, truth = generate(args.n, args.share, args.seed)
    generated = time.perf_counter() - started

    started = time.perf_counter()
    frame = duplicates.prepare(records)
    prepared = time.perf_counter() - started
    scored = duplicates.score_records(frame, threshold=threshold)
    found = set(zip(scored.pairs["id_l"].astype(int), scored.pairs["id_r"].astype(int), strict=True))
    true_found = len(found & truth)
    result = {
        "customers": args.n,
        "injected_duplicates": int(args.n * args.share),
        "true_pairs": len(truth),
        "threshold": threshold,
        "reported_pairs": len(found),
        "true_positives": true_found,
        "precision": round(true_found / len(found), 4) if found else None,
        "recall": round(true_found / len(truth), 4) if truth else None,
        "trained": scored.trained,
        "seconds_prepare": round(prepared, 2),
        "seconds_splink": round(scored.seconds, 2),
        "seconds_total": round(prepared + scored.seconds, 2),
        "seconds_generate": round(generated, 2),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
