"""The three standard satisfaction scores, framework-free.

- NPS (Reichheld 2003, "The One Number You Need to Grow"): answers 0-10 to "how likely are you to recommend us";
  promoters 9-10, detractors 0-6; NPS = % promoters - % detractors, from -100 to 100.
- CSAT: answers 1-5; the score is the share of 4 and 5 in percent (and the mean is shown beside it).
- CES (Customer Effort Score, CEB/Gartner 2010, 7-point scale): the mean answer, 1 (very hard) to 7 (very easy).
A detractor, who gets a follow-up, answered NPS 0-6 or CSAT 1-2.
"""

from collections.abc import Iterable
from dataclasses import dataclass

PROMOTER_MIN = 9
DETRACTOR_MAX = 6
CSAT_SATISFIED_MIN = 4
CSAT_DETRACTOR_MAX = 2


def nps(scores: Iterable[int]) -> float | None:
    values = list(scores)
    if not values:
        return None
    promoters = sum(1 for v in values if v >= PROMOTER_MIN)
    detractors = sum(1 for v in values if v <= DETRACTOR_MAX)
    return 100.0 * (promoters - detractors) / len(values)


def nps_from_counts(promoters: int, detractors: int, total: int) -> float | None:
    return 100.0 * (promoters - detractors) / total if total else None


def csat(scores: Iterable[int]) -> float | None:
    values = list(scores)
    if not values:
        return None
    return 100.0 * sum(1 for v in values if v >= CSAT_SATISFIED_MIN) / len(values)


def mean(scores: Iterable[int]) -> float | None:
    values = list(scores)
    return sum(values) / len(values) if values else None


def is_detractor(*, nps: int | None, csat: int | None) -> bool:
    return (nps is not None and nps <= DETRACTOR_MAX) or (csat is not None and csat <= CSAT_DETRACTOR_MAX)


@dataclass(frozen=True)
class Summary:
    responses: int
    nps: float | None
    nps_count: int
    csat: float | None
    csat_mean: float | None
    csat_count: int
    ces: float | None
    ces_count: int
