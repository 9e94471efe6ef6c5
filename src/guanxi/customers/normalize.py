"""Normalising contact data the same way everywhere: forms, API, imports and search."""

import contextlib
import re
import unicodedata
from datetime import date
from decimal import Decimal, InvalidOperation

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_SPACES = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(value: str | None) -> str:
    """Trim, collapse inner whitespace, drop control characters and apply Unicode NFKC (full-width letters and
    digits become ASCII)."""
    if not value:
        return ""
    return _SPACES.sub(" ", _CONTROL.sub("", unicodedata.normalize("NFKC", value))).strip()


def normalize_email(value: str) -> str:
    email = clean_text(value).lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise ValueError(_("“%(value)s” is not a valid e-mail address.") % {"value": value}) from exc
    return email


def normalize_phone(value: str, region: str | None = None) -> str:
    """E.164 form (+8613812345678) of a phone number written in any common way."""
    raw = clean_text(value)
    try:
        number = phonenumbers.parse(raw, region or settings.GUANXI_PHONE_REGION)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(_("“%(value)s” is not a phone number.") % {"value": value}) from exc
    if not phonenumbers.is_valid_number(number):
        raise ValueError(_("“%(value)s” is not a valid phone number.") % {"value": value})
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def has_cjk(value: str) -> bool:
    return bool(_CJK.search(value or ""))


def compose_name(family_name: str, given_name: str) -> str:
    """Chinese names are written family name first with no space (王小明); others given name first."""
    if has_cjk(family_name) or has_cjk(given_name):
        return f"{family_name}{given_name}"
    return " ".join(part for part in (given_name, family_name) if part)


def search_text(customer) -> str:
    """One lower-cased string of a customer's name, e-mails, phones, company and WeChat ID for substring search;
    phones also in national form, so "13812345678" finds "+8613812345678"."""
    parts = [
        customer.display_name,
        customer.family_name + customer.given_name,
        customer.given_name,
        customer.family_name,
        customer.company,
        customer.wechat_id,
        *customer.emails,
    ]
    for phone in customer.phones:
        parts.append(phone)
        with contextlib.suppress(phonenumbers.NumberParseException):
            parts.append(str(phonenumbers.parse(phone).national_number))
    return " | ".join(clean_text(p).lower() for p in parts if p)


def parse_number(value) -> Decimal:
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise ValueError(_("“%(value)s” is not a number.") % {"value": value}) from exc
    if not number.is_finite():
        raise ValueError(_("“%(value)s” is not a number.") % {"value": value})
    return number


def parse_iso_date(value) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError as exc:
        raise ValueError(_("“%(value)s” is not a date (use YYYY-MM-DD).") % {"value": value}) from exc
