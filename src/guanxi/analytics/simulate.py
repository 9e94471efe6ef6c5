"""Seeded generators of customer bases with known BTYD parameters (tests and benchmarks).

Used to check that the fitters recover the parameters that generated the data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from guanxi.analytics.btyd import BGNBDParams


def simulate_bgnbd_summary(params: BGNBDParams, T: ArrayLike, *, seed: int) -> pd.DataFrame:
    """Draw (frequency, recency, T) for customers observed for ``T`` time units after their first purchase.

    The BG/NBD story [FHL05, section 2]: lambda ~ Gamma(r, rate alpha), p ~ Beta(a, b); while alive, repeat
    purchases follow a Poisson process with rate lambda; after each repeat purchase the customer drops out
    with probability p. So the repeat purchases in (0, T] are min(N, K) with N ~ Poisson(lambda T) and
    K ~ Geometric(p) (the purchase after which the customer dies), and the time of the k-th of N uniform
    purchase times is T * Beta(k, N - k + 1). Times are continuous (no day grouping).
    """
    rng = np.random.default_rng(seed)
    ages = np.asarray(T, dtype=np.float64)
    n = len(ages)
    lam = rng.gamma(params.r, 1.0 / params.alpha, size=n)
    p = rng.beta(params.a, params.b, size=n)
    purchases = rng.poisson(lam * ages)
    death_after = rng.geometric(p)
    x = np.minimum(purchases, death_after)
    recency = np.zeros(n)
    buyers = x > 0
    recency[buyers] = ages[buyers] * rng.beta(x[buyers], purchases[buyers] - x[buyers] + 1)
    return pd.DataFrame({"frequency": x.astype(np.int64), "recency": recency, "T": ages})
