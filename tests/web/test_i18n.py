"""The zh-Hans catalogue: complete, well-formed, compiled, and used by the pages and the language switch.

The .mo file is gitignored; ``make install`` (a step of ``make test``) compiles it from the .po file.
"""

import ast
import gettext
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation

LOCALE_DIR = Path(settings.LOCALE_PATHS[0]) / "zh_Hans" / "LC_MESSAGES"
PO_PATH = LOCALE_DIR / "django.po"
MO_PATH = LOCALE_DIR / "django.mo"

# Entries whose translation may equal the English: names and codes that Chinese UIs keep as they are.
SAME_AS_ENGLISH = {"Guanxi", "API", "SKU"}

# printf-style placeholders as Python's % operator reads them: %s, %d, %(name)s, %(n)d, %.2f, %%.
PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[#0 +-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[diouxXeEfFgGcrsa%]")
NAMED_PLACEHOLDER = re.compile(r"%\([^)]*\)[#0 +-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[diouxXeEfFgGcrsa]")
ENTRY_LINE = re.compile(r'^(msgctxt|msgid|msgid_plural|msgstr(?:\[\d+\])?)\s+(".*")\s*$')


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    msgstr_forms: set[str] = field(default_factory=set)  # "plain" for msgstr, "indexed" for msgstr[n]
    flags: set[str] = field(default_factory=set)
    line: int = 0

    @property
    def label(self) -> str:
        return f"line {self.line}: {self.msgid!r}"


def parse_po(text: str) -> list[Entry]:
    """A small PO reader: each entry's flags, msgctxt, msgid(_plural) and msgstr(s); no obsolete ones."""
    entries: list[Entry] = []
    entry: Entry | None = None
    target: tuple[str, int] | None = None  # where a continuation line ("...") goes

    def finish():
        nonlocal entry, target
        if entry is not None:
            entries.append(entry)
        entry, target = None, None

    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#~"):
            if not line:
                finish()
            continue
        if entry is not None and entry.msgstr and not line.startswith(('"', "msgstr")):
            finish()  # the next entry starts without a blank line before it
        if line.startswith("#"):
            if line.startswith("#,"):
                entry = entry or Entry(line=number)
                entry.flags.update(flag.strip() for flag in line[2:].split(",") if flag.strip())
            continue
        if line.startswith('"'):
            if target is None:
                raise AssertionError(f"line {number}: a string outside any entry: {raw!r}")
            name, index = target
            if name == "msgstr":
                entry.msgstr[index] += ast.literal_eval(line)
            else:
                setattr(entry, name, getattr(entry, name) + ast.literal_eval(line))
            continue
        match = ENTRY_LINE.match(line)
        if not match:
            raise AssertionError(f"line {number} is not valid PO syntax: {raw!r}")
        keyword, literal = match.groups()
        entry = entry or Entry(line=number)
        value = ast.literal_eval(literal)
        if keyword.startswith("msgstr"):
            index = int(keyword[7:-1]) if "[" in keyword else 0
            entry.msgstr[index] = value
            entry.msgstr_forms.add("indexed" if "[" in keyword else "plain")
            target = ("msgstr", index)
        else:
            setattr(entry, keyword, value)
            target = (keyword, 0)
    finish()
    return entries


def placeholders(text: str, *, python_format: bool) -> Counter:
    pattern = PLACEHOLDER if python_format else NAMED_PLACEHOLDER
    return Counter(pattern.findall(text))


def problems(entries: list[Entry], nplurals: int = 1) -> list[str]:
    """Why the catalogue is not ready: fuzzy, untranslated, wrong plural forms, mismatched placeholders."""
    found: list[str] = []
    for entry in entries:
        if entry.msgid == "" and entry.msgctxt is None:
            continue  # the header
        if "fuzzy" in entry.flags:
            found.append(f"{entry.label} is fuzzy")
        if entry.msgid_plural is not None:
            if entry.msgstr_forms != {"indexed"} or sorted(entry.msgstr) != list(range(nplurals)):
                found.append(f"{entry.label} needs exactly msgstr[0]..msgstr[{nplurals - 1}]")
            source = entry.msgid_plural
        else:
            if entry.msgstr_forms != {"plain"}:
                found.append(f"{entry.label} needs one plain msgstr")
            source = entry.msgid
        python_format = "python-format" in entry.flags
        for index, text in sorted(entry.msgstr.items()):
            if not text.strip():
                found.append(f"{entry.label} is untranslated")
                continue
            if text == entry.msgid and entry.msgid not in SAME_AS_ENGLISH:
                found.append(f"{entry.label} is still English")
            expected = placeholders(source, python_format=python_format)
            if entry.msgid_plural is not None:
                # With one plural form, the single translation must carry every placeholder either form uses.
                expected = expected | placeholders(entry.msgid, python_format=python_format)
            actual = placeholders(text, python_format=python_format)
            if actual != expected:
                found.append(f"{entry.label} msgstr[{index}] placeholders {dict(actual)} != {dict(expected)}")
    return found


def header(entries: list[Entry]) -> dict[str, str]:
    head = next(e for e in entries if e.msgid == "" and e.msgctxt is None)
    assert "fuzzy" not in head.flags, "the header is fuzzy: msgfmt and Django would ignore the catalogue"
    return dict(line.split(": ", 1) for line in head.msgstr[0].splitlines() if ": " in line)


@pytest.fixture(scope="module")
def po_entries() -> list[Entry]:
    assert PO_PATH.exists(), f"{PO_PATH} is missing: run `make messages`"
    return parse_po(PO_PATH.read_text(encoding="utf-8"))


@pytest.fixture(autouse=True)
def _restore_language():
    """LocaleMiddleware activates the request's language in this thread: keep Chinese out of other tests."""
    before = translation.get_language()
    yield
    if before:
        translation.activate(before)
    else:
        translation.deactivate()


# --- the .po file ----------------------------------------------------------------------------------------


def test_checker_finds_every_kind_of_problem():
    bad = parse_po(r"""
msgid ""
msgstr ""
"Language: zh_Hans\n"

#, fuzzy
msgid "Customers"
msgstr "客户"

msgid "Owner"
msgstr ""

msgid "Dashboard"
msgstr "Dashboard"

#, python-format
msgid "Edit %(name)s"
msgstr "编辑 %(nam)s"

#, python-format
msgid "Choose one of: %s"
msgstr "请选择"

#, python-format
msgid "%(n)s order"
msgid_plural "%(n)s orders"
msgstr[0] "%(n)s 笔订单"
msgstr[1] "%(n)s 笔订单"

#, python-format
msgid "one order"
msgid_plural "%(n)s orders"
msgstr[0] "%(n)s 笔订单"

#, python-format
msgid "last on %(last)s"
msgstr ""
"最近一笔："
"%(last)s"
""")
    found = problems(bad)
    assert [p.split(" ", 2)[2] for p in found] == [
        "'Customers' is fuzzy",
        "'Owner' is untranslated",
        "'Dashboard' is still English",
        "'Edit %(name)s' msgstr[0] placeholders {'%(nam)s': 1} != {'%(name)s': 1}",
        "'Choose one of: %s' msgstr[0] placeholders {} != {'%s': 1}",
        "'%(n)s order' needs exactly msgstr[0]..msgstr[0]",
    ]
    assert bad[-1].msgstr == {0: "最近一笔：%(last)s"}


def test_po_header(po_entries):
    fields = header(po_entries)
    assert fields["Language"] == "zh_Hans"
    assert fields["Content-Type"] == "text/plain; charset=UTF-8"
    assert fields["Plural-Forms"] == "nplurals=1; plural=0;"


def test_every_entry_is_translated_with_the_same_placeholders(po_entries):
    messages = [e for e in po_entries if e.msgid]
    assert len(messages) > 200, "the catalogue looks truncated"
    assert len({(e.msgctxt, e.msgid) for e in messages}) == len(messages), "duplicate msgids"
    found = problems(po_entries)
    assert not found, "django.po is not ready:\n" + "\n".join(found)


def test_compiled_catalogue_matches_the_po_file(po_entries):
    assert MO_PATH.exists(), f"{MO_PATH} is missing: run `make install` (msgfmt compiles the .po file)"
    with MO_PATH.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = []
    for entry in po_entries:
        if not entry.msgid or "fuzzy" in entry.flags:
            continue
        msgid = entry.msgid if entry.msgctxt is None else f"{entry.msgctxt}\x04{entry.msgid}"
        plural = entry.msgid_plural
        got = compiled.gettext(msgid) if plural is None else compiled.ngettext(msgid, plural, 1)
        if got != entry.msgstr[0]:
            stale.append(entry.msgid)
    assert stale == [], f"django.mo is older than django.po (run `make install`): {stale[:5]}"


# --- pages -----------------------------------------------------------------------------------------------


def h1(response) -> str:
    match = re.search(r"<h1[^>]*>(.*?)</h1>", response.content.decode(), re.S)
    assert match, "the page has no <h1>"
    return match.group(1).strip()


def test_customer_list_in_chinese_from_the_language_cookie(client, users, make_customer):
    make_customer(users["rep"], display_name="王小明")
    client.force_login(users["rep"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"

    response = client.get("/customers/")

    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="zh-hans">' in html
    assert h1(response) == "客户"
    assert "新建客户" in html and "New customer" not in html
    assert "第 1–1 位，共 1 位客户" in html  # the plural form, with its placeholders filled in
    assert "负责人" in html and "Owner" not in html
    assert "销售代表" in html  # the user menu shows the role


def test_anonymous_browser_asking_for_chinese_gets_the_login_page_in_chinese(db):
    response = Client().get("/accounts/login/", headers={"accept-language": "zh-CN,zh;q=0.9,en;q=0.5"})

    assert response.status_code == 200
    html = response.content.decode()
    assert h1(response) == "登录"
    assert "用户名" in html and "密码" in html and "Password" not in html


def test_language_switch(users, make_customer, settings):
    settings.LANGUAGE_CODE = "en"  # the default language, whatever GUANXI_LANGUAGE says
    make_customer(users["rep"], display_name="Li Lei")
    client = Client(enforce_csrf_checks=True)
    client.force_login(users["rep"])

    page = client.get("/customers/")
    assert h1(page) == "Customers"
    form = re.search(r'<form action="/i18n/setlang/".*?</form>', page.content.decode(), re.S)
    assert form, "the page has no language switch"
    assert 'value="zh-hans"' in form.group(0)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.group(0)).group(1)

    response = client.post(
        "/i18n/setlang/",
        {"language": "zh-hans", "next": "/customers/", "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302
    assert response["Location"] == "/customers/"
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    chinese = client.get("/customers/")
    assert h1(chinese) == "客户"
    assert "新建客户" in chinese.content.decode() and "New customer" not in chinese.content.decode()

    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', chinese.content.decode()).group(1)
    response = client.post(
        "/i18n/setlang/",
        {"language": "en", "next": "/customers/", "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302
    english = client.get("/customers/")
    assert h1(english) == "Customers"
    assert "New customer" in english.content.decode() and "新建客户" not in english.content.decode()
