"""What an import can fill in, the headers (English and Chinese) that suggest each field, and cell parsers."""

import re
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanxi.customers import normalize

CUSTOMER_FIELDS = {
    "external_id": gettext_lazy("Customer id (in the source system)"),
    "display_name": gettext_lazy("Name"),
    "given_name": gettext_lazy("Given name"),
    "family_name": gettext_lazy("Family name"),
    "email": gettext_lazy("E-mail"),
    "phone": gettext_lazy("Phone"),
    "wechat_id": gettext_lazy("WeChat ID"),
    "company": gettext_lazy("Company"),
    "industry": gettext_lazy("Industry"),
    "region": gettext_lazy("Region"),
    "address": gettext_lazy("Address"),
    "kind": gettext_lazy("Kind (person or company)"),
    "tags": gettext_lazy("Tags"),
}
ORDER_FIELDS = {
    "order_id": gettext_lazy("Order number"),
    "customer_ref": gettext_lazy("Customer (id, e-mail or phone)"),
    "ordered_at": gettext_lazy("Order date"),
    "amount": gettext_lazy("Amount"),
    "currency": gettext_lazy("Currency"),
    "sku": gettext_lazy("Product (SKU)"),
    "description": gettext_lazy("Product name"),
    "quantity": gettext_lazy("Quantity"),
    "unit_price": gettext_lazy("Unit price"),
}
FIELDS = {"customers": CUSTOMER_FIELDS, "orders": ORDER_FIELDS}

_SYNONYMS = {
    "customers": {
        "external_id": [
            "id",
            "customer id",
            "customer no",
            "customer number",
            "customer code",
            "external id",
            "code",
            "客户编号",
            "客户id",
            "客户代码",
            "编号",
            "会员号",
            "会员编号",
            "客户号",
        ],
        "display_name": [
            "name",
            "full name",
            "customer name",
            "customer",
            "contact",
            "contact name",
            "姓名",
            "名称",
            "客户名称",
            "客户姓名",
            "客户",
            "名字",
            "联系人",
            "会员名",
        ],
        "given_name": ["first name", "given name", "firstname", "名"],
        "family_name": ["last name", "surname", "family name", "lastname", "姓"],
        "email": [
            "email",
            "e-mail",
            "mail",
            "email address",
            "e-mail address",
            "邮箱",
            "电子邮件",
            "邮件",
            "电子邮箱",
            "邮箱地址",
        ],
        "phone": [
            "phone",
            "mobile",
            "tel",
            "telephone",
            "cell",
            "phone number",
            "mobile phone",
            "手机",
            "手机号",
            "电话",
            "手机号码",
            "联系电话",
            "电话号码",
            "联系方式",
        ],
        "wechat_id": ["wechat", "wechat id", "weixin", "微信", "微信号"],
        "company": [
            "company",
            "organization",
            "organisation",
            "company name",
            "公司",
            "单位",
            "公司名称",
            "企业",
            "企业名称",
        ],
        "industry": ["industry", "sector", "行业"],
        "region": ["region", "city", "province", "area", "地区", "城市", "省份", "区域", "省市"],
        "address": ["address", "street", "地址", "联系地址", "详细地址"],
        "kind": ["kind", "type", "customer type", "类型", "客户类型"],
        "tags": ["tags", "tag", "labels", "标签"],
    },
    "orders": {
        "order_id": [
            "order id",
            "order number",
            "order no",
            "order",
            "order #",
            "invoice",
            "订单号",
            "订单编号",
            "单号",
            "订单",
        ],
        "customer_ref": [
            "customer",
            "customer id",
            "customer ref",
            "customer reference",
            "customer email",
            "customer phone",
            "email",
            "phone",
            "客户",
            "客户编号",
            "客户id",
            "客户邮箱",
            "客户手机",
            "邮箱",
            "手机",
            "会员号",
        ],
        "ordered_at": [
            "date",
            "order date",
            "ordered at",
            "time",
            "datetime",
            "order time",
            "purchase date",
            "日期",
            "下单时间",
            "订单日期",
            "时间",
            "下单日期",
            "购买日期",
            "订单时间",
        ],
        "amount": ["amount", "total", "order total", "sum", "金额", "总额", "订单金额", "实付金额", "总金额", "合计"],
        "currency": ["currency", "币种", "货币"],
        "sku": ["sku", "product", "product id", "product code", "item", "商品", "产品", "商品编号", "产品编号", "货号"],
        "description": ["product name", "item name", "description", "商品名称", "产品名称", "品名"],
        "quantity": ["quantity", "qty", "count", "数量", "件数"],
        "unit_price": ["price", "unit price", "单价", "价格"],
    },
}
_PUNCT = re.compile(r"[\s_\-.:：()（）/#]+")


def _key(header: str) -> str:
    return _PUNCT.sub(" ", normalize.clean_text(header).lower()).strip()


def suggest_columns(kind: str, headers: list[str]) -> dict[str, str]:
    """``{header: field}`` for the headers that name a known field (each field used once, first header wins)."""
    lookup = {}
    for name, words in _SYNONYMS[kind].items():
        lookup.setdefault(_key(name), name)
        for word in words:
            lookup.setdefault(_key(word), name)
    columns: dict[str, str] = {}
    used: set[str] = set()
    for header in headers:
        name = lookup.get(_key(header)) if header else None
        if name and name not in used:
            columns[header] = name
            used.add(name)
    return columns


# --- parsing cells ---------------------------------------------------------------------------------------------

_DATE_PATTERNS = [
    re.compile(r"(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})"),
    re.compile(r"(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{4})"),
    re.compile(r"(?P<y>\d{4})年(?P<m>\d{1,2})月(?P<d>\d{1,2})日?"),
]
_TIME = re.compile(r"(?:[ T]+|日)?\s*(?P<H>\d{1,2})[:时](?P<M>\d{2})(?:[:分](?P<S>\d{2})(?:\.\d+)?)?秒?\s*$")
_EXCEL_EPOCH = date(1899, 12, 30)


def parse_datetime(value: str) -> datetime:
    """A moment in the server's time zone from 2026-11-23, 2026/11/23, 23.11.2026, 2026年11月23日 (each with an
    optional time), an ISO date-time with offset, or an Excel serial number (days since 1899-12-30)."""
    text = normalize.clean_text(value)
    if not text:
        raise ValueError(_("A date is required."))
    try:
        moment = datetime.fromisoformat(text)
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        return moment
    except ValueError:
        pass
    if re.fullmatch(r"\d+(\.\d+)?", text):
        serial = float(text)
        if 1 <= serial < 2958466:
            moment = datetime.combine(_EXCEL_EPOCH, time()) + timedelta(days=serial)
            if 1900 <= moment.year <= 2200:
                return timezone.make_aware(moment.replace(microsecond=0))
        raise ValueError(_("“%(value)s” is not a date.") % {"value": value})
    for pattern in _DATE_PATTERNS:
        match = pattern.match(text)
        if not match:
            continue
        rest = text[match.end() :]
        clock = time()
        if rest.strip():
            found = _TIME.match(rest)
            if not found:
                break
            try:
                clock = time(int(found["H"]), int(found["M"]), int(found["S"] or 0))
            except ValueError:
                break
        try:
            day = date(int(match["y"]), int(match["m"]), int(match["d"]))
        except ValueError:
            break
        return timezone.make_aware(datetime.combine(day, clock))
    raise ValueError(_("“%(value)s” is not a date (use 2026-11-23).") % {"value": value})


_MONEY_JUNK = re.compile(r"[¥￥$€£,\s]|RMB|CNY|元", re.IGNORECASE)


def parse_decimal(value: str, *, places: int, max_digits: int, what: str) -> Decimal:
    text = _MONEY_JUNK.sub("", normalize.clean_text(value))
    if not text:
        raise ValueError(_("%(what)s is required.") % {"what": what})
    try:
        number = Decimal(text)
    except InvalidOperation as exc:
        raise ValueError(_("“%(value)s” is not a number.") % {"value": value}) from exc
    if not number.is_finite():
        raise ValueError(_("“%(value)s” is not a number.") % {"value": value})
    number = number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    if abs(number) >= Decimal(10) ** (max_digits - places):
        raise ValueError(_("“%(value)s” is too large.") % {"value": value})
    return number


def parse_amount(value: str) -> Decimal:
    number = parse_decimal(value, places=2, max_digits=14, what=_("An amount"))
    if number < 0:
        raise ValueError(_("An amount cannot be negative."))
    return number


def parse_quantity(value: str) -> Decimal:
    number = parse_decimal(value, places=3, max_digits=12, what=_("A quantity"))
    if number <= 0:
        raise ValueError(_("The quantity must be positive."))
    return number


def parse_price(value: str) -> Decimal:
    number = parse_decimal(value, places=2, max_digits=14, what=_("A price"))
    if number < 0:
        raise ValueError(_("A price cannot be negative."))
    return number


def parse_currency(value: str) -> str:
    text = normalize.clean_text(value).upper()
    if text in ("¥", "￥", "RMB", "元"):
        return "CNY"
    if len(text) != 3 or not text.isascii() or not text.isalpha():
        raise ValueError(_("Use a three-letter ISO 4217 code such as CNY."))
    return text


def split_list(value: str) -> list[str]:
    """Several e-mails, phones or tags in one cell, separated by ; , ， ； 、 or a line break."""
    return [part.strip() for part in re.split(r"[;,，；、\n]+", value) if part.strip()]
