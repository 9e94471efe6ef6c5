"""The rule language: conditions over a customer's data and scores, evaluated in SQL.

Used by lifecycle stage definitions and automation rules. A rule is text such as::

    tier == "A" and p_alive < 0.5
    stage in ("new", "active") or tags has "vip"
    orders_12m between 3 and 10 and not profiling_opt_out

``parse(text)`` checks the syntax, the field names and the types against the field registry and returns a
``Rule``; ``filter_customers(queryset, rule)`` compiles it to a Django ``Q`` over annotations, so one query
decides it for any number of customers; ``matches(rule, customer_id)`` asks for one customer.

Fields are registered by the apps that own the data (``register_field`` in ``AppConfig.ready()``); core knows no
feature app. A field's ``expression`` is a lookup path from the customer (``"score__p_alive"``) or a factory
``expression(ctx)`` returning a Django expression, given a ``RuleContext`` whose ``now`` is the reference time
(so day counts are reproducible in tests and benchmarks). Aggregates are allowed over ``orders`` only (each
aggregate field joins the orders once, grouped by customer); fields over any other to-many relation must be
``Subquery``/``Exists`` expressions so that they do not multiply the order rows.

Semantics of missing values (a customer with no score, no order, no stage): a comparison with a missing value
is false, and ``not`` turns it into true. So ``p_alive < 0.5`` and ``p_alive >= 0.5`` are both false for a
customer without scores, ``not p_alive < 0.5`` is true, and ``p_alive = null`` tests for the missing value.
"""

import difflib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.apps import apps
from django.db.models import (
    Case,
    Exists,
    F,
    FloatField,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.utils import timezone
from django.utils.translation import gettext as _
from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError

from guanxi.core.errors import GuanxiError

STRING, NUMBER, BOOLEAN, SET = "string", "number", "boolean", "set"
FIELD_TYPES = (STRING, NUMBER, BOOLEAN, SET)


class RuleError(GuanxiError):
    """A rule that does not parse, names an unknown field or compares values of the wrong type.

    ``details`` carry ``line`` and ``column`` (1-based) where known, and the offending ``token``.
    """

    status, code = 400, "invalid_rule"


@dataclass(frozen=True)
class RuleContext:
    now: datetime


@dataclass(frozen=True)
class FieldInfo:
    name: str
    type: str
    label: Any
    examples: tuple = ()
    expression: str | Callable[[RuleContext], Any] = field(default="", repr=False, compare=False)


_fields: dict[str, FieldInfo] = {}


def register_field(
    name: str,
    *,
    type: str,
    label: Any,
    expression: str | Callable[[RuleContext], Any],
    examples: Iterable[Any] = (),
) -> None:
    """Make ``name`` usable in rules. ``type`` is string, number, boolean or set (``tags has "vip"``).

    For a set field, ``expression`` is the lookup path to the member value (``"tags__name"``). Registering a
    name again replaces it (apps register in ``ready()``, which may run twice in tests).
    """
    if type not in FIELD_TYPES:
        raise ValueError(f"unknown field type {type!r}")
    if not name.isidentifier() or name.lower() in _KEYWORDS:
        raise ValueError(f"field name {name!r} is not usable in rules")
    _fields[name] = FieldInfo(name, type, label, tuple(examples), expression)


def known_fields() -> list[FieldInfo]:
    return sorted(_fields.values(), key=lambda info: info.name)


class DaysBetween(Func):
    """Days (a float) from ``start`` to ``end``: NULL when either is NULL."""

    output_field = FloatField()
    arity = 2

    def __init__(self, end, start, **extra):
        super().__init__(end, start, **extra)

    def as_sql(self, compiler, connection, **extra_context):  # PostgreSQL and anything else with intervals
        end, end_params = compiler.compile(self.source_expressions[0])
        start, start_params = compiler.compile(self.source_expressions[1])
        return f"(EXTRACT(EPOCH FROM ({end} - {start})) / 86400.0)::double precision", [*end_params, *start_params]

    def as_sqlite(self, compiler, connection, **extra_context):
        end, end_params = compiler.compile(self.source_expressions[0])
        start, start_params = compiler.compile(self.source_expressions[1])
        return f"(julianday({end}) - julianday({start}))", [*end_params, *start_params]


# ---------------------------------------------------------------------------------------------------- grammar

_KEYWORDS = {"and", "or", "not", "in", "between", "has", "true", "false", "null"}

_GRAMMAR = r"""
?start: or_expr
?or_expr: and_expr (_OR and_expr)*
?and_expr: not_expr (_AND not_expr)*
?not_expr: _NOT not_expr -> negation
         | atom
?atom: "(" or_expr ")"
     | FIELD OP value                              -> compare
     | FIELD OP FIELD                              -> compare_fields
     | FIELD _IN "(" value ("," value)* ","? ")"   -> member
     | FIELD _NOT _IN "(" value ("," value)* ","? ")" -> not_member
     | FIELD _BETWEEN value _AND value            -> between
     | FIELD _HAS value                           -> has
     | value _IN FIELD                            -> has_reversed
     | FIELD                                      -> truthy
?value: STRING -> string
      | NUMBER -> number
      | TRUE -> true
      | FALSE -> false
      | NULL -> null

OP: "==" | "!=" | "<=" | ">=" | "<" | ">" | "="
_OR.2: /or\b/i
_AND.2: /and\b/i
_NOT.2: /not\b/i
_IN.2: /in\b/i
_BETWEEN.2: /between\b/i
_HAS.2: /has\b/i
TRUE.2: /true\b/i
FALSE.2: /false\b/i
NULL.2: /null\b/i
FIELD: /[A-Za-z_][A-Za-z0-9_]*/
STRING: /"(?:[^"\\\n]|\\.)*"/ | /'(?:[^'\\\n]|\\.)*'/
NUMBER: /-?(?:\d+\.?\d*|\.\d+)/
%import common.WS
%ignore WS
"""

_parser = Lark(_GRAMMAR, parser="lalr", lexer="basic", propagate_positions=True, maybe_placeholders=False)

_TERMINAL_NAMES = {
    "_OR": "or",
    "_AND": "and",
    "_NOT": "not",
    "_IN": "in",
    "_BETWEEN": "between",
    "_HAS": "has",
    "TRUE": "true",
    "FALSE": "false",
    "NULL": "null",
    "LPAR": "(",
    "RPAR": ")",
    "COMMA": ",",
    "OP": "a comparison (== != < <= > >=)",
    "FIELD": "a field name",
    "STRING": 'a "text"',
    "NUMBER": "a number",
    "$END": "the end of the rule",
}


@dataclass(frozen=True)
class Rule:
    """A parsed rule: the text, its syntax tree and the fields it uses."""

    text: str
    tree: tuple = field(repr=False)
    fields: frozenset[str] = frozenset()

    def __str__(self) -> str:
        return self.text


def _where(text: str, line: int, column: int) -> str:
    return _("line %(line)s, column %(column)s") % {"line": line, "column": column}


class _Literal:
    __slots__ = ("token", "type", "value")

    def __init__(self, value, type_, token):
        self.value, self.type, self.token = value, type_, token


@v_args(inline=True)
class _Build(Transformer):
    """Turns the lark tree into nested tuples, checking fields and types on the way."""

    def __init__(self, text: str):
        super().__init__()
        self.text = text
        self.used: set[str] = set()

    # values
    def string(self, token):
        raw = token.value[1:-1]
        value = raw.encode("utf-8").decode("unicode_escape") if "\\" in raw else raw
        return _Literal(value, STRING, token)

    def number(self, token):
        text = token.value
        value = float(text) if any(c in text for c in ".eE") else int(text)
        return _Literal(value, NUMBER, token)

    def true(self, token=None):
        return _Literal(True, BOOLEAN, token)

    def false(self, token=None):
        return _Literal(False, BOOLEAN, token)

    def null(self, token=None):
        return _Literal(None, None, token)

    # checks
    def _field(self, token) -> FieldInfo:
        info = _fields.get(token.value)
        if info is None:
            close = difflib.get_close_matches(token.value, list(_fields), n=1)
            hint = (_(" Did you mean %(name)s?") % {"name": close[0]}) if close else ""
            raise RuleError(
                _("Unknown field “%(name)s” at %(where)s.%(hint)s Known fields: %(known)s.")
                % {
                    "name": token.value,
                    "where": _where(self.text, token.line, token.column),
                    "hint": hint,
                    "known": ", ".join(sorted(_fields)),
                },
                line=token.line,
                column=token.column,
                token=token.value,
                known_fields=sorted(_fields),
            )
        self.used.add(info.name)
        return info

    def _mismatch(self, info: FieldInfo, literal: _Literal, why: str = ""):
        token = literal.token
        line, column = (token.line, token.column) if token is not None else (None, None)
        kinds = {STRING: _("text"), NUMBER: _("a number"), BOOLEAN: _("true or false"), SET: _("a set")}
        raise RuleError(
            _("Type mismatch at %(where)s: %(field)s is %(kind)s, %(value)s is not.%(why)s")
            % {
                "where": _where(self.text, line, column) if line and column else "?",
                "field": info.name,
                "kind": kinds[info.type],
                "value": token.value if token is not None else literal.value,
                "why": why,
            },
            line=line,
            column=column,
            token=token.value if token is not None else None,
            field=info.name,
        )

    def _check_value(self, info: FieldInfo, literal: _Literal, *, allow_null: bool = True):
        if literal.type is None and allow_null:
            return literal.value
        if info.type == SET:
            self._mismatch(info, literal, " " + _('Use “%(field)s has "value"”.') % {"field": info.name})
        if literal.type != info.type:
            self._mismatch(info, literal)
        return literal.value

    # nodes
    def negation(self, inner):
        return ("not", inner)

    def or_expr(self, *parts):
        return ("or", *parts)

    def and_expr(self, *parts):
        return ("and", *parts)

    def compare(self, field_token, op, literal):
        info = self._field(field_token)
        operator = "==" if op.value == "=" else op.value
        if operator in ("<", "<=", ">", ">="):
            if info.type != NUMBER:
                raise RuleError(
                    _("Type mismatch at %(where)s: %(op)s compares numbers, and %(field)s is not a number field.")
                    % {"where": _where(self.text, op.line, op.column), "op": operator, "field": info.name},
                    line=op.line,
                    column=op.column,
                    token=op.value,
                    field=info.name,
                )
            value = self._check_value(info, literal, allow_null=False)
        else:
            value = self._check_value(info, literal)
        return ("cmp", info.name, operator, value)

    def compare_fields(self, left_token, op, right_token):
        left, right = self._field(left_token), self._field(right_token)
        operator = "==" if op.value == "=" else op.value
        ordering = operator in ("<", "<=", ">", ">=")
        if left.type != right.type or left.type == SET or (ordering and left.type != NUMBER):
            raise RuleError(
                _("Type mismatch at %(where)s: %(left)s and %(right)s cannot be compared with %(op)s.")
                % {
                    "where": _where(self.text, op.line, op.column),
                    "left": left.name,
                    "right": right.name,
                    "op": operator,
                },
                line=op.line,
                column=op.column,
                token=op.value,
                field=right.name,
            )
        return ("cmp_fields", left.name, operator, right.name)

    def _members(self, field_token, literals):
        info = self._field(field_token)
        return info, tuple(self._check_value(info, literal, allow_null=False) for literal in literals)

    def member(self, field_token, *literals):
        info, values = self._members(field_token, literals)
        return ("in", info.name, values)

    def not_member(self, field_token, *literals):
        info, values = self._members(field_token, literals)
        return ("not", ("in", info.name, values))

    def between(self, field_token, low, high):
        info = self._field(field_token)
        if info.type != NUMBER:
            raise RuleError(
                _("Type mismatch at %(where)s: between needs a number field, and %(field)s is not one.")
                % {"where": _where(self.text, field_token.line, field_token.column), "field": info.name},
                line=field_token.line,
                column=field_token.column,
                token=field_token.value,
                field=info.name,
            )
        return (
            "between",
            info.name,
            self._check_value(info, low, allow_null=False),
            self._check_value(info, high, allow_null=False),
        )

    def _has(self, field_token, literal):
        info = self._field(field_token)
        if info.type != SET:
            raise RuleError(
                _("Type mismatch at %(where)s: “has” needs a set field such as tags, and %(field)s is not one.")
                % {"where": _where(self.text, field_token.line, field_token.column), "field": info.name},
                line=field_token.line,
                column=field_token.column,
                token=field_token.value,
                field=info.name,
            )
        if literal.type != STRING:
            self._mismatch(info, literal)
        return ("has", info.name, literal.value)

    def has(self, field_token, literal):
        return self._has(field_token, literal)

    def has_reversed(self, literal, field_token):
        return self._has(field_token, literal)

    def truthy(self, field_token):
        info = self._field(field_token)
        if info.type != BOOLEAN:
            raise RuleError(
                _("Incomplete condition at %(where)s: %(field)s must be compared with something (e.g. == or in).")
                % {"where": _where(self.text, field_token.line, field_token.column), "field": info.name},
                line=field_token.line,
                column=field_token.column,
                token=field_token.value,
                field=info.name,
            )
        return ("cmp", info.name, "==", True)


def _expected(expected: Iterable[str]) -> str:
    names = sorted({_TERMINAL_NAMES.get(name, name.lower()) for name in expected})
    return ", ".join(names)


def parse(text: str) -> Rule:
    """Parse and check ``text``; raises ``RuleError`` saying where and what was expected."""
    if not text or not text.strip():
        raise RuleError(_("The rule is empty."), line=1, column=1)
    try:
        tree = _parser.parse(text)
    except UnexpectedCharacters as exc:
        char = text[exc.pos_in_stream or 0]
        raise RuleError(
            _("Unexpected character “%(char)s” at %(where)s.")
            % {"char": char, "where": _where(text, exc.line, exc.column)},
            line=exc.line,
            column=exc.column,
            token=char,
        ) from None
    except UnexpectedEOF as exc:
        line = text.count("\n") + 1
        column = len(text.rsplit("\n", 1)[-1]) + 1
        raise RuleError(
            _("The rule ends too early at %(where)s; expected %(expected)s.")
            % {"where": _where(text, line, column), "expected": _expected(exc.expected)},
            line=line,
            column=column,
            token="",
        ) from None
    except UnexpectedToken as exc:
        token = exc.token
        if token.type == "$END":
            line = text.count("\n") + 1
            column = len(text.rsplit("\n", 1)[-1]) + 1
            raise RuleError(
                _("The rule ends too early at %(where)s; expected %(expected)s.")
                % {"where": _where(text, line, column), "expected": _expected(exc.accepts or exc.expected)},
                line=line,
                column=column,
                token="",
            ) from None
        raise RuleError(
            _("Unexpected “%(token)s” at %(where)s; expected %(expected)s.")
            % {
                "token": token.value,
                "where": _where(text, token.line, token.column),
                "expected": _expected(exc.accepts or exc.expected),
            },
            line=token.line,
            column=token.column,
            token=token.value,
        ) from None
    except UnexpectedInput as exc:  # pragma: no cover - the three above are all lark raises for LALR
        raise RuleError(
            _("The rule could not be read at %(where)s.") % {"where": _where(text, exc.line, exc.column)}
        ) from None
    builder = _Build(text)
    try:
        built = builder.transform(tree)
    except VisitError as exc:
        if isinstance(exc.orig_exc, RuleError):
            raise exc.orig_exc from None
        raise
    if isinstance(built, Token):  # a lone field name never reaches a rule callback when it is the whole rule
        built = builder.truthy(built)
    return Rule(text=text, tree=built, fields=frozenset(builder.used))


# ---------------------------------------------------------------------------------------------------- SQL


def _alias(name: str) -> str:
    return f"_rule_{name}"


def _customer_model():
    return apps.get_model("customers", "Customer")


def field_expression(name: str, ctx: RuleContext):
    """The Django expression of field ``name`` (for annotations: the facts behind a rule's decision)."""
    info = _fields[name]
    if callable(info.expression):
        return info.expression(ctx)
    return F(info.expression)


def _set_q(model, info: FieldInfo, value) -> Q:
    members = model._default_manager.filter(**{str(info.expression): value}).values("pk")
    return Q(pk__in=members)


def _not_null(name: str) -> Q:
    return Q(**{f"{_alias(name)}__isnull": False})


def _compile(node: tuple, model) -> Q:
    kind = node[0]
    if kind == "or":
        q = Q()
        for index, part in enumerate(node[1:]):
            q = _compile(part, model) if index == 0 else q | _compile(part, model)
        return q
    if kind == "and":
        q = Q()
        for part in node[1:]:
            q &= _compile(part, model)
        return q
    if kind == "not":
        return ~_compile(node[1], model)
    name = node[1]
    info = _fields[name]
    column = _alias(name)
    if kind == "cmp_fields":
        _, _, operator, other = node
        lookup = {"==": "exact", "!=": "exact", "<": "lt", "<=": "lte", ">": "gt", ">=": "gte"}[operator]
        compared = Q(**{f"{column}__{lookup}": F(_alias(other))})
        if operator == "!=":
            compared = ~compared
        return compared & _not_null(name) & _not_null(other)
    if kind == "has":
        return _set_q(model, info, node[2])
    if kind == "in":
        return Q(**{f"{column}__in": list(node[2])}) & _not_null(name)
    if kind == "between":
        return Q(**{f"{column}__gte": node[2], f"{column}__lte": node[3]}) & _not_null(name)
    _, _, operator, value = node
    if value is None:
        return Q(**{f"{column}__isnull": operator == "=="})
    if operator == "!=":
        return ~Q(**{f"{column}__exact": value}) & _not_null(name)
    lookup = {"==": "exact", "<": "lt", "<=": "lte", ">": "gt", ">=": "gte"}[operator]
    return Q(**{f"{column}__{lookup}": value}) & _not_null(name)


def _context(now: datetime | None) -> RuleContext:
    return RuleContext(now=now or timezone.now())


def with_fields(queryset: QuerySet, names: Iterable[str], *, now: datetime | None = None) -> QuerySet:
    """``queryset`` with an alias for each non-set field in ``names`` (what a compiled rule refers to)."""
    ctx = _context(now)
    aliases = {_alias(name): field_expression(name, ctx) for name in sorted(set(names)) if _fields[name].type != SET}
    return queryset.alias(**aliases) if aliases else queryset


def condition(rule: Rule, *, model=None) -> Q:
    """The rule as a ``Q`` over a queryset prepared by ``with_fields(queryset, rule.fields)``."""
    return _compile(rule.tree, model or _customer_model())


def first_match(
    queryset: QuerySet,
    choices: Sequence[tuple[str, Rule]],
    *,
    name: str = "rule_match",
    now: datetime | None = None,
) -> QuerySet:
    """Annotate ``name`` with the value of the first ``(value, rule)`` whose rule matches (NULL if none).

    One CASE WHEN over all rules, so a whole table is decided by one query (lifecycle stages).
    """
    used: set[str] = set()
    for _value, rule in choices:
        used |= rule.fields
    queryset = with_fields(queryset, used, now=now)
    if not choices:
        return queryset.annotate(**{name: Value(None)})
    model = queryset.model
    return queryset.annotate(
        **{name: Case(*(When(condition(rule, model=model), then=Value(value)) for value, rule in choices))}
    )


def filter_customers(queryset: QuerySet, rule: Rule, *, now: datetime | None = None) -> QuerySet:
    """The customers of ``queryset`` that match ``rule``, decided in SQL.

    Returns a plain queryset of ``queryset``'s model (``pk__in`` a grouped subquery), so callers may chain,
    count or update it as usual.
    """
    inner = with_fields(queryset.order_by(), rule.fields, now=now).filter(condition(rule, model=queryset.model))
    return queryset.filter(pk__in=inner.values("pk"))


def matches(rule: Rule, customer_id: int, *, now: datetime | None = None) -> bool:
    customers = _customer_model()._default_manager.filter(pk=customer_id)
    return filter_customers(customers, rule, now=now).exists()


def exists_in(model, **lookups) -> Exists:
    """``Exists`` over ``model`` rows of the outer customer (for fields registered by other apps)."""
    return Exists(model._default_manager.filter(customer_id=OuterRef("pk"), **lookups))


__all__ = [
    "DaysBetween",
    "FieldInfo",
    "Rule",
    "RuleContext",
    "RuleError",
    "filter_customers",
    "first_match",
    "known_fields",
    "matches",
    "parse",
    "register_field",
    "with_fields",
]
