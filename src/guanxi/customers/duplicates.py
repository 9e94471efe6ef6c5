"""Duplicate detection with Splink (DuckDB backend), and the review queue's decisions.

The model (``score_records`` works on plain records, so the benchmark runs it without a database):

- Names are folded: NFKC, lower case, traditional Chinese → simplified (OpenCC ``t2s``), spaces dropped; and
  written in pinyin (pypinyin, no tones), in order and as sorted syllables, so 張偉 = 张伟 = "zhang wei" =
  "Wei Zhang". Latin names compare by Jaro-Winkler on that form.
- Phones compare as E.164 digits (exact, or one typo/transposition away); e-mails exact, or the same user
  part / two edits away; company and address exact after folding, or by Jaro-Winkler.
- Blocking (which pairs are compared at all): same phone, same e-mail, same sorted-pinyin name, or same
  company with the same name initial.
- Parameters: u from random sampling and m by expectation maximisation when there are at least
  ``TRAIN_MIN_RECORDS`` customers; below that the fixed m/u probabilities written in ``_comparisons`` are used
  as they are (EM on a few hundred records is noise). The prior (probability that two random records match)
  assumes about ``EXPECTED_DUPLICATE_SHARE`` of records have a duplicate.

``find_duplicates()`` runs it over live customers and stores the pairs at or above ``THRESHOLD`` as
``DuplicateCandidate`` rows, once per pair (lower id first). A dismissed or merged pair is never reopened.
"""

import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import pandas as pd
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.accounts.models import User
from guanxi.core import access, events
from guanxi.customers import normalize
from guanxi.customers.errors import CandidateNotFound
from guanxi.customers.models import DuplicateCandidate

logger = logging.getLogger(__name__)

THRESHOLD = 0.9
TRAIN_MIN_RECORDS = 2000
EXPECTED_DUPLICATE_SHARE = 0.05
FIELDS = ("name", "phone", "email", "company", "address")


# --- preparing records ----------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


@lru_cache(maxsize=200_000)
def _fold(text: str) -> str:
    """NFKC, lower case, traditional → simplified Chinese, no spaces or punctuation dots/dashes."""
    text = normalize.clean_text(text).lower()
    if normalize.has_cjk(text):
        text = _t2s().convert(text)
    return "".join(ch for ch in text if ch.isalnum())


@lru_cache(maxsize=200_000)
def _pinyin(name: str) -> tuple[str, ...]:
    """The syllables (Chinese) or words (other scripts) of a folded-but-spaced name."""
    from pypinyin import Style, lazy_pinyin

    text = normalize.clean_text(name).lower()
    if normalize.has_cjk(text):
        text = _t2s().convert(text)
        return tuple(s for s in lazy_pinyin(text, style=Style.NORMAL, errors="ignore") if s.strip())
    return tuple("".join(ch for ch in word if ch.isalnum()) for word in text.replace(",", " ").split() if word)


def _phone_digits(phone: str) -> str:
    return "".join(ch for ch in phone if ch.isdigit())


def prepare(records: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per customer with the columns the model compares.

    Each record has ``id`` and any of ``name``, ``phones`` (list), ``emails`` (list), ``company``, ``address``.
    The first phone and e-mail take part (a customer's other contacts are unique identities anyway).
    """
    rows = []
    for record in records:
        name = record.get("name") or ""
        syllables = _pinyin(name) if name else ()
        phones = record.get("phones") or []
        emails = record.get("emails") or []
        email = (emails[0] or "").strip().lower() if emails else ""
        company = _fold(record.get("company") or "")
        rows.append(
            {
                "unique_id": int(record["id"]),
                "name_fold": _fold(name) or None,
                "name_pinyin": "".join(syllables) or None,
                "name_key": " ".join(sorted(syllables)) or None,
                "name_initial": (syllables[0][:1] if syllables else None),
                "phone": _phone_digits(phones[0]) if phones else None,
                "email": email or None,
                "email_user": email.split("@", 1)[0] if email else None,
                "company": company or None,
                "address": _fold(record.get("address") or "") or None,
            }
        )
    columns = [
        "unique_id",
        "name_fold",
        "name_pinyin",
        "name_key",
        "name_initial",
        "phone",
        "email",
        "email_user",
        "company",
        "address",
    ]
    frame = pd.DataFrame(rows, columns=columns)
    # Text columns stay text even when every value is missing (DuckDB would read an all-null object column as
    # INTEGER, and the string comparisons would fail on a base with, say, no e-mail at all).
    return frame.astype({column: "string" for column in columns[1:]})


# --- the Splink model -----------------------------------------------------------------------------------------------


def _null(column: str) -> dict:
    return {
        "sql_condition": f'"{column}_l" IS NULL OR "{column}_r" IS NULL',
        "label_for_charts": "null",
        "is_null_level": True,
    }


def _level(sql: str, label: str, m: float, u: float) -> dict:
    return {"sql_condition": sql, "label_for_charts": label, "m_probability": m, "u_probability": u}


def _else(m: float, u: float) -> dict:
    return _level("ELSE", "else", m, u)


def _comparisons() -> list[dict]:
    """Comparison levels, best first, with the fixed m/u used when there is too little data to train."""
    return [
        {
            "output_column_name": "name",
            "comparison_levels": [
                _null("name_fold"),
                _level('"name_fold_l" = "name_fold_r"', "same name (folded)", 0.70, 0.0005),
                _level('"name_pinyin_l" = "name_pinyin_r"', "same pinyin", 0.10, 0.001),
                _level('"name_key_l" = "name_key_r"', "same words, other order", 0.06, 0.0005),
                _level(
                    'jaro_winkler_similarity("name_pinyin_l", "name_pinyin_r") >= 0.92', "pinyin JW >= 0.92", 0.08, 0.01
                ),
                _level(
                    'jaro_winkler_similarity("name_pinyin_l", "name_pinyin_r") >= 0.80', "pinyin JW >= 0.80", 0.04, 0.08
                ),
                _else(0.02, 0.9085),
            ],
        },
        {
            "output_column_name": "phone",
            "comparison_levels": [
                _null("phone"),
                _level('"phone_l" = "phone_r"', "same phone", 0.80, 0.00001),
                _level('damerau_levenshtein("phone_l", "phone_r") <= 1', "one typo", 0.10, 0.0005),
                _else(0.10, 0.99949),
            ],
        },
        {
            "output_column_name": "email",
            "comparison_levels": [
                _null("email"),
                _level('"email_l" = "email_r"', "same e-mail", 0.80, 0.00001),
                _level(
                    '"email_user_l" = "email_user_r" OR damerau_levenshtein("email_l", "email_r") <= 2',
                    "same user or two edits",
                    0.12,
                    0.001,
                ),
                _else(0.08, 0.99899),
            ],
        },
        {
            "output_column_name": "company",
            "comparison_levels": [
                _null("company"),
                _level('"company_l" = "company_r"', "same company", 0.75, 0.01),
                _level('jaro_winkler_similarity("company_l", "company_r") >= 0.9', "company JW >= 0.9", 0.15, 0.02),
                _else(0.10, 0.97),
            ],
        },
        {
            "output_column_name": "address",
            "comparison_levels": [
                _null("address"),
                _level('"address_l" = "address_r"', "same address", 0.70, 0.001),
                _level('jaro_winkler_similarity("address_l", "address_r") >= 0.85', "address JW >= 0.85", 0.2, 0.05),
                _else(0.10, 0.949),
            ],
        },
    ]


def _blocking_rules() -> list:
    from splink import block_on

    return [
        block_on("phone"),
        block_on("email"),
        block_on("name_key"),
        block_on("company", "name_initial"),
    ]


@dataclass(frozen=True)
class Scored:
    pairs: pd.DataFrame  # id_l < id_r, probability, matched (list of field names)
    records: int
    trained: bool
    seconds: float


def score_records(frame: pd.DataFrame, *, threshold: float = THRESHOLD, train: bool | None = None) -> Scored:
    """Score the candidate pairs of ``prepare``'s frame with Splink on DuckDB; keep those >= ``threshold``."""
    from splink import DuckDBAPI, Linker, SettingsCreator

    started = time.perf_counter()
    n = len(frame)
    empty = pd.DataFrame({"id_l": [], "id_r": [], "probability": [], "matched": []})
    if n < 2:
        return Scored(empty, n, False, time.perf_counter() - started)
    train = n >= TRAIN_MIN_RECORDS if train is None else train
    prior = min(0.5, max(1e-9, EXPECTED_DUPLICATE_SHARE / max(n - 1, 1)))
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=_comparisons(),
        blocking_rules_to_generate_predictions=_blocking_rules(),
        probability_two_random_records_match=prior,
        retain_matching_columns=True,
        retain_intermediate_calculation_columns=True,  # the gamma_ columns say which fields matched
    )
    db_api = DuckDBAPI()
    table = db_api.register(frame)
    linker = Linker(table, settings, log_level=logging.ERROR)
    if train:
        from splink import block_on
        from splink.internals.exceptions import EMTrainingException

        linker.training.estimate_u_using_random_sampling(max_pairs=3e5, seed=7, num_chunks=1)
        for rule in (block_on("phone"), block_on("name_key")):
            try:
                linker.training.estimate_parameters_using_expectation_maximisation(rule, record_sample_proportion=1.0)
            except EMTrainingException:
                # No pair shares the rule's key (in a database whose identities are unique, no two live customers
                # share a phone): the fields it would train keep their documented starting m-probabilities.
                logger.info("Duplicate detection: no pairs for training rule %s; kept the starting values", rule)
    predictions = linker.inference.predict(threshold_match_probability=threshold).as_pandas_dataframe()
    if predictions.empty:
        return Scored(empty, n, train, time.perf_counter() - started)
    gammas = [f"gamma_{f}" for f in FIELDS]
    left, right = predictions["unique_id_l"].astype("int64"), predictions["unique_id_r"].astype("int64")
    pairs = pd.DataFrame(
        {
            "id_l": left.where(left < right, right),
            "id_r": right.where(left < right, left),
            "probability": predictions["match_probability"].astype(float),
            "matched": [
                [f for f, g in zip(FIELDS, row, strict=True) if g is not None and g > 0]
                for row in predictions[gammas].itertuples(index=False)
            ]
            if all(g in predictions for g in gammas)
            else [[] for _ in range(len(predictions))],
        }
    )
    pairs = pairs.sort_values("probability", ascending=False).drop_duplicates(["id_l", "id_r"])
    return Scored(pairs.reset_index(drop=True), n, train, time.perf_counter() - started)


# --- over the database ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DedupeResult:
    customers: int
    candidates: int
    created: int
    trained: bool
    seconds: float


def _records() -> Iterable[dict]:
    rows = (
        access.visible_customers(None, system=True)
        .values_list("pk", "display_name", "phones", "emails", "company", "address")
        .iterator(chunk_size=5000)
    )
    for pk, name, phones, emails, company, address in rows:
        yield {"id": pk, "name": name, "phones": phones, "emails": emails, "company": company, "address": address}


def find_duplicates(*, threshold: float = THRESHOLD, train: bool | None = None) -> DedupeResult:
    """Run the model over every live customer (a system job: no user, no access filter) and store the pairs.

    New pairs open; open pairs get the new probability; dismissed and merged pairs stay as they are; open
    probabilistic pairs that no longer reach the threshold are dropped.
    """
    started = time.perf_counter()
    scored = score_records(prepare(_records()), threshold=threshold, train=train)
    created = _store(scored.pairs)
    result = DedupeResult(
        customers=scored.records,
        candidates=len(scored.pairs),
        created=created,
        trained=scored.trained,
        seconds=time.perf_counter() - started,
    )
    logger.info("Duplicate detection: %s", result)
    return result


@transaction.atomic
def _store(pairs: pd.DataFrame) -> int:
    found = {
        (int(a), int(b)): (float(p), list(m))
        for a, b, p, m in pairs[["id_l", "id_r", "probability", "matched"]].itertuples(index=False)
    }
    existing = {
        (c.customer_a_id, c.customer_b_id): c
        for c in DuplicateCandidate.objects.filter(
            Q(source=DuplicateCandidate.Source.SPLINK) | Q(status=DuplicateCandidate.Status.OPEN)
        )
    }
    new, changed, stale = [], [], []
    for key, candidate in existing.items():
        if key in found:
            if candidate.status == DuplicateCandidate.Status.OPEN:
                candidate.probability, candidate.matched_fields = found[key]
                changed.append(candidate)
        elif (
            candidate.status == DuplicateCandidate.Status.OPEN and candidate.source == DuplicateCandidate.Source.SPLINK
        ):
            stale.append(candidate.pk)
    decided = set(
        DuplicateCandidate.objects.exclude(status=DuplicateCandidate.Status.OPEN).values_list(
            "customer_a_id", "customer_b_id"
        )
    )
    for key, (probability, matched) in found.items():
        if key not in existing and key not in decided:
            new.append(
                DuplicateCandidate(
                    customer_a_id=key[0], customer_b_id=key[1], probability=probability, matched_fields=matched
                )
            )
    DuplicateCandidate.objects.bulk_create(new, batch_size=2000, ignore_conflicts=True)
    DuplicateCandidate.objects.bulk_update(changed, ["probability", "matched_fields"], batch_size=2000)
    DuplicateCandidate.objects.filter(pk__in=stale).delete()
    return len(new)


# --- the review queue -----------------------------------------------------------------------------------------------


def visible_candidates(user, *, status: str = DuplicateCandidate.Status.OPEN) -> QuerySet:
    """Pairs where the user may change both customers (and both are live), most probable first."""
    editable = access.editable_customers(user)
    return (
        DuplicateCandidate.objects.filter(status=status)
        .filter(Exists(editable.filter(pk=OuterRef("customer_a_id"))))
        .filter(Exists(editable.filter(pk=OuterRef("customer_b_id"))))
        .select_related("customer_a__owner", "customer_b__owner")
        .order_by("-probability", "id")
    )


def get_candidate(user, candidate_id: int) -> DuplicateCandidate:
    candidate = visible_candidates(user).filter(pk=candidate_id).first()
    if candidate is None:
        raise CandidateNotFound(_("No duplicate candidate with id %(id)s.") % {"id": candidate_id})
    return candidate


@transaction.atomic
def dismiss_candidate(*, actor: User, candidate_id: int) -> DuplicateCandidate:
    """Mark a pair as not the same customer; later runs never reopen it. Emits ``customer.duplicate_dismissed``
    on the lower-id customer, with an audit entry."""
    # No joins under FOR UPDATE: PostgreSQL refuses to lock the nullable side of the owner outer join.
    candidate = visible_candidates(actor).select_related(None).select_for_update().filter(pk=candidate_id).first()
    if candidate is None:
        raise CandidateNotFound(_("No duplicate candidate with id %(id)s.") % {"id": candidate_id})
    candidate.status = DuplicateCandidate.Status.DISMISSED
    candidate.decided_by = actor
    candidate.decided_at = timezone.now()
    candidate.save(update_fields=["status", "decided_by", "decided_at", "updated_at"])
    events.record(
        "customer.duplicate_dismissed",
        subject=candidate.customer_a,
        actor=actor,
        payload={"candidate_id": candidate.pk, "other_id": candidate.customer_b_id},
        audit_action="other",
        changes={"not_a_duplicate_of": [None, candidate.customer_b_id]},
    )
    return candidate
