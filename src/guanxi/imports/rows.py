"""Turning one file row into clean field values, with a reason for every cell that is not valid.

No database access: the preview and the import run the same parsing; matching against stored customers and
orders happens batch by batch in ``services``.
"""

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from guanxi.customers import normalize
from guanxi.customers.services import TEXT_LIMITS
from guanxi.imports import fields
from guanxi.imports.reading import Row

ROW = ""  # the "column" of a problem that concerns the whole row
_KINDS = {
    "person": "person",
    "individual": "person",
    "个人": "person",
    "人": "person",
    "company": "company",
    "business": "company",
    "organisation": "company",
    "organization": "company",
    "公司": "company",
    "企业": "company",
}


@dataclass
class Parsed:
    line: int
    cells: list[str]
    values: dict[str, Any] = field(default_factory=dict)
    keys: list[tuple[str, str]] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (column header, reason)

    @property
    def ok(self) -> bool:
        return not self.errors

    def reject(self, column: str, reason: str) -> None:
        self.errors.append((column, reason))


def _cells_by_field(row: Row, headers: list[str], columns: dict[str, str]) -> dict[str, tuple[str, str]]:
    """``{field: (header, raw text)}`` for the mapped columns of the row."""
    out = {}
    for index, header in enumerate(headers):
        name = columns.get(header)
        if name and index < len(row.cells):
            out[name] = (header, row.cells[index])
    return out


def parse_customer(row: Row, headers: list[str], columns: dict[str, str], options: dict[str, Any]) -> Parsed:
    parsed = Parsed(row.line, row.cells)
    if row.problem:
        parsed.reject(ROW, row.problem)
        return parsed
    region = options.get("region") or settings.GUANXI_PHONE_REGION
    system = options.get("system") or "import"
    values = parsed.values
    for name, (header, raw) in _cells_by_field(row, headers, columns).items():
        text = normalize.clean_text(raw)
        if not text:
            continue
        try:
            if name == "external_id":
                if len(text) > 200:
                    raise ValueError(_("At most %(n)d characters.") % {"n": 200})
                values["external_ids"] = [f"{system}:{text}"]
                parsed.keys.append(("external", f"{system.lower()}:{text}"))
            elif name == "email":
                emails = [normalize.normalize_email(part) for part in fields.split_list(text)]
                values["emails"] = list(dict.fromkeys(emails))
                parsed.keys.extend(("email", e) for e in values["emails"])
            elif name == "phone":
                phones = [normalize.normalize_phone(part, region) for part in fields.split_list(text)]
                values["phones"] = list(dict.fromkeys(phones))
                parsed.keys.extend(("phone", p) for p in values["phones"])
            elif name == "kind":
                kind = _KINDS.get(text.lower())
                if kind is None:
                    raise ValueError(_("Write person or company."))
                values["kind"] = kind
            elif name == "tags":
                tags = fields.split_list(text)
                if any(len(t) > 50 for t in tags):
                    raise ValueError(_("A tag has 1 to 50 characters."))
                values["tags"] = list(dict.fromkeys(tags))
            else:
                limit = TEXT_LIMITS.get(name, 200)
                if len(text) > limit:
                    raise ValueError(_("At most %(n)d characters.") % {"n": limit})
                values[name] = text
                if name == "wechat_id":
                    parsed.keys.append(("wechat", text.lower()))
        except ValueError as exc:
            parsed.reject(header, str(exc))
    if not any(values.get(n) for n in ("display_name", "given_name", "family_name", "company")) and not any(
        c == ROW or columns.get(c) in ("display_name", "given_name", "family_name", "company")
        for c, _r in parsed.errors
    ):
        parsed.reject(ROW, _("A customer needs a name (or given/family name, or company)."))
    return parsed


@dataclass
class OrderRow(Parsed):
    """One row of an orders file: the order's fields and, optionally, one line (product, quantity, price)."""

    line_item: dict[str, Any] | None = None


def parse_order(row: Row, headers: list[str], columns: dict[str, str], options: dict[str, Any]) -> OrderRow:
    parsed = OrderRow(row.line, row.cells)
    if row.problem:
        parsed.reject(ROW, row.problem)
        return parsed
    cells = _cells_by_field(row, headers, columns)
    values = parsed.values

    def take(name: str, parse, required: bool = False):
        header, raw = cells.get(name, ("", ""))
        text = normalize.clean_text(raw)
        if not text:
            if required:
                parsed.reject(header or name, _("This value is required."))
            return None
        try:
            return parse(text)
        except ValueError as exc:
            parsed.reject(header, str(exc))
            return None

    def text_of(limit: int):
        def parse(text: str) -> str:
            if len(text) > limit:
                raise ValueError(_("At most %(n)d characters.") % {"n": limit})
            return text

        return parse

    values["order_id"] = take("order_id", text_of(100), required=True)
    values["customer_ref"] = take("customer_ref", text_of(255), required=True)
    values["ordered_at"] = take("ordered_at", fields.parse_datetime, required=True)
    values["amount"] = take("amount", fields.parse_amount)
    values["currency"] = take("currency", fields.parse_currency) or options.get("currency") or ""
    sku = take("sku", text_of(64)) or ""
    description = take("description", text_of(200)) or ""
    quantity = take("quantity", fields.parse_quantity)
    price = take("unit_price", fields.parse_price)
    if sku or description or quantity is not None or price is not None:
        if price is None and not any(c == cells.get("unit_price", ("",))[0] for c, _r in parsed.errors):
            parsed.reject(cells.get("unit_price", ("unit_price",))[0], _("A line needs a unit price."))
        parsed.line_item = {
            "sku": sku,
            "description": description,
            "quantity": quantity if quantity is not None else Decimal(1),
            "unit_price": price,
        }
    elif values["amount"] is None and "amount" not in {columns.get(c) for c, _r in parsed.errors}:
        parsed.reject(cells.get("amount", ("amount",))[0], _("An order needs an amount or a line with a price."))
    return parsed


def order_level(parsed: OrderRow) -> tuple[Any, ...]:
    """The order's own fields, which every line row of one order must repeat (or leave empty)."""
    v = parsed.values
    return (v.get("customer_ref"), v.get("ordered_at"), v.get("amount"), v.get("currency"))


def same_order(first: OrderRow, other: OrderRow) -> bool:
    a, b = order_level(first), order_level(other)
    return all(y is None or y == "" or x == y for x, y in zip(a, b, strict=True))
