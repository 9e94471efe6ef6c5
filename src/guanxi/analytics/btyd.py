"""Buy-'til-you-die models: BG/NBD, Pareto/NBD and Gamma-Gamma, fitted by maximum likelihood.

Input (from :func:`guanxi.analytics.engine.summary_expr`, usually compressed by ``compress_summary``): per
customer, or per distinct row with a ``weights`` count,

* ``x``   frequency, the number of repeat purchase periods in the calibration window;
* ``t_x`` recency, time from the first to the last purchase;
* ``T``   age, time from the first purchase to the calibration end ``as_of``;
* ``m``   (Gamma-Gamma only) mean amount of the x repeat purchases.

All times share one unit (days or weeks, chosen by the summary); the scale parameters ``alpha`` and ``beta``
are in that unit, so a model fitted in weeks predicts for horizons ``t`` in weeks. ``v`` is in the currency of
the amounts.

References
----------
* [FHL05] Fader, Hardie & Lee (2005), "Counting your customers the easy way: an alternative to the
  Pareto/NBD model", Marketing Science 24(2) 275-284: BG/NBD likelihood (eq. 6), E[X(t)] (eq. 9),
  E[Y(t) | x, t_x, T] (eq. 10); P(alive) from Fader, Hardie & Lee (2008), "Computing P(alive) using the
  BG/NBD model", note, eq. 2.
* [SMC87] Schmittlein, Morrison & Colombo (1987), Management Science 33(1); likelihood and conditional
  expectations as in Fader & Hardie (2005), "A note on deriving the Pareto/NBD model and related
  expressions", eqs. 19-22 (likelihood with A_0), 18 (P(alive)) and 25 (conditional expectation).
* [FHL05b] Fader, Hardie & Lee (2005), "RFM and CLV: using iso-value curves for customer base analysis",
  Journal of Marketing Research 42(4) 415-430, and Fader & Hardie (2013), "The Gamma-Gamma model of
  monetary value", note: likelihood eq. 4, conditional expected spend eq. 5.

Numerics: every likelihood is evaluated in log space (``gammaln``, ``logaddexp``; Gauss hypergeometric
functions only through transformations whose argument lies in [0, 1) and whose series converge), so large
frequencies or ages do not overflow. Parameters are optimised on the log scale, times rescaled so that
max(T) = 10 and amounts so that their median is 1 during the fit. BG/NBD and Gamma-Gamma have analytic
gradients and Hessians: on up to 50,000 rows L-BFGS-B fits all of them and Newton's method confirms its end
point; above that, L-BFGS-B fits a systematic sample and Newton's method finishes on all rows in two or three
evaluations (falling back to L-BFGS-B if the Hessian is not negative definite), which on a million customers
is a ninth of the work. Their standard errors
come from the analytic Hessian at the optimum; Pareto/NBD's (numerical gradient) from a finite-difference one.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from typing import Any, Generic, TypeVar

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import integrate, optimize
from scipy.special import betaln, digamma, gammaln, hyp2f1, polygamma

from guanxi.analytics.errors import AnalyticsInputError

FloatArray = NDArray[np.float64]
_LOG_BOUNDS = (np.log(1e-6), np.log(1e6))  # on the rescaled data; keeps degenerate fits finite


@dataclass(frozen=True)
class BGNBDParams:
    """BG/NBD parameters [FHL05]: purchase rate lambda ~ Gamma(r, alpha); dropout p ~ Beta(a, b).

    ``alpha`` is in the summary's time unit; r, a and b are dimensionless.
    """

    r: float
    alpha: float
    a: float
    b: float


@dataclass(frozen=True)
class ParetoNBDParams:
    """Pareto/NBD parameters [SMC87]: lambda ~ Gamma(r, alpha); dropout rate mu ~ Gamma(s, beta).

    ``alpha`` and ``beta`` are in the summary's time unit; r and s are dimensionless.
    """

    r: float
    alpha: float
    s: float
    beta: float


@dataclass(frozen=True)
class GammaGammaParams:
    """Gamma-Gamma spend parameters [FHL05b]: spend ~ Gamma(p, nu), nu ~ Gamma(q, v); v in currency."""

    p: float
    q: float
    v: float


P = TypeVar("P", BGNBDParams, ParetoNBDParams, GammaGammaParams)


@dataclass(frozen=True)
class Fit(Generic[P]):
    """A maximum-likelihood fit.

    ``standard_errors`` has the parameters' type (NaN where the Hessian is not positive definite, e.g. at a
    boundary). ``log_likelihood`` is the weighted sum over customers. ``at_bound`` flags a degenerate data
    set (one customer, identical customers) whose likelihood has no interior maximum: the parameters are then
    a finite point on the search boundary whose predictions are still usable, but not interpretable.
    """

    params: P
    standard_errors: P
    log_likelihood: float
    n_customers: float
    converged: bool
    at_bound: bool
    message: str

    def as_dict(self) -> dict[str, float]:
        return asdict(self.params)


# --- input checks --------------------------------------------------------------------------------------------


def _as_array(name: str, values: ArrayLike) -> FloatArray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        array = array.reshape(-1)
    if not np.all(np.isfinite(array)):
        raise AnalyticsInputError(f"{name} contains NaN or infinite values")
    return array


def _rfm_arrays(
    x: ArrayLike, t_x: ArrayLike, T: ArrayLike, weights: ArrayLike | None
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    xa, ta, Ta = _as_array("frequency", x), _as_array("recency", t_x), _as_array("T", T)
    if not (len(xa) == len(ta) == len(Ta)):
        raise AnalyticsInputError("frequency, recency and T must have the same length")
    w = np.ones_like(xa) if weights is None else _as_array("weights", weights)
    if len(w) != len(xa):
        raise AnalyticsInputError("weights must have one value per row")
    if len(xa) == 0:
        raise AnalyticsInputError("no customers to fit")
    if np.any(xa < 0) or np.any(xa != np.round(xa)):
        raise AnalyticsInputError("frequency must be a non-negative whole number")
    if np.any(ta < 0) or np.any(ta > Ta * (1 + 1e-12)):
        raise AnalyticsInputError("recency must satisfy 0 <= recency <= T")
    if np.any((xa > 0) & (ta <= 0)):
        raise AnalyticsInputError("a customer with repeat purchases must have recency > 0")
    if np.any(w < 0) or w.sum() <= 0:
        raise AnalyticsInputError("weights must be non-negative with a positive total")
    return xa, ta, Ta, w


def _distinct(values: FloatArray) -> tuple[FloatArray, NDArray[np.intp]]:
    """(distinct values, index of each value among them), by hashing: a sort (np.unique) costs 3-5x more on
    a million rows, and the likelihoods only look values up, so the order of the distinct values is free."""
    codes, uniques = pd.factorize(values, sort=False)
    return np.asarray(uniques, dtype=np.float64), codes


# --- generic optimisation ------------------------------------------------------------------------------------


def _numerical_gradient(f: Callable[[FloatArray], float], theta: FloatArray, rel: float = 1e-6) -> FloatArray:
    grad = np.empty_like(theta)
    for i in range(len(theta)):
        h = rel * max(abs(theta[i]), 1e-3)
        up, down = theta.copy(), theta.copy()
        up[i] += h
        down[i] -= h
        grad[i] = (f(up) - f(down)) / (2 * h)
    return grad


def _standard_errors(grad: Callable[[FloatArray], FloatArray], theta: FloatArray) -> FloatArray:
    """Square roots of the diagonal of the inverse observed information (minus the Hessian of the LL)."""
    k = len(theta)
    hessian = np.empty((k, k))
    for j in range(k):
        h = 1e-4 * max(abs(theta[j]), 1e-3)
        up, down = theta.copy(), theta.copy()
        up[j] += h
        down[j] -= h
        hessian[:, j] = (grad(up) - grad(down)) / (2 * h)
    information = -(hessian + hessian.T) / 2
    try:
        np.linalg.cholesky(information)
    except np.linalg.LinAlgError:
        return np.full(k, np.nan)
    return np.sqrt(np.diag(np.linalg.inv(information)))


def _maximise(
    loglik: Callable[[FloatArray], tuple[float, FloatArray | None]],
    n_params: int,
    total_weight: float,
    start: FloatArray | None = None,
    tolerances: tuple[float, float] = (1e-14, 1e-9),
) -> tuple[FloatArray, optimize.OptimizeResult, bool]:
    """Maximise a log-likelihood over log-parameters; ``loglik(theta)`` returns (LL, dLL/dtheta or None).

    ``tolerances`` are L-BFGS-B's ftol and gtol: tight by default, looser for a start point.
    """

    def objective(log_theta: FloatArray) -> tuple[float, FloatArray]:
        theta = np.exp(log_theta)
        value, grad = loglik(theta)
        if grad is None:
            grad = _numerical_gradient(lambda th: loglik(th)[0], theta)
        if not np.isfinite(value) or not np.all(np.isfinite(grad)):
            return np.inf, np.zeros(n_params)
        return -value / total_weight, -grad * theta / total_weight

    x0 = np.zeros(n_params) if start is None else np.log(start)
    result = optimize.minimize(
        objective,
        x0,
        jac=True,
        method="L-BFGS-B",
        bounds=[_LOG_BOUNDS] * n_params,
        options={"maxiter": 2000, "ftol": tolerances[0], "gtol": tolerances[1]},
    )
    at_bound = bool(
        np.any(np.isclose(result.x, _LOG_BOUNDS[0], atol=1e-3) | np.isclose(result.x, _LOG_BOUNDS[1], atol=1e-3))
    )
    return np.exp(result.x), result, at_bound


def _build_fit(
    cls: type[P],
    theta: FloatArray,
    loglik: Callable[[FloatArray], tuple[float, FloatArray | None]],
    result: optimize.OptimizeResult,
    at_bound: bool,
    n_customers: float,
) -> Fit[P]:
    def grad(th: FloatArray) -> FloatArray:
        _, g = loglik(th)
        return g if g is not None else _numerical_gradient(lambda t: loglik(t)[0], th, rel=1e-5)

    se = np.full(len(theta), np.nan) if at_bound else _standard_errors(grad, theta)
    return Fit(
        params=cls(*map(float, theta)),
        standard_errors=cls(*map(float, se)),
        log_likelihood=float(loglik(theta)[0]),
        n_customers=float(n_customers),
        converged=bool(result.success),
        at_bound=at_bound,
        message=str(result.message),
    )


def _newton(
    loglik: Callable[..., Any], theta: FloatArray, total: float, max_iter: int = 25
) -> tuple[FloatArray, float, FloatArray, int] | None:
    """Newton's method on log-parameters with a backtracking line search, from ``theta`` near the optimum.

    ``loglik(theta, hessian=True)`` gives (LL, gradient, Hessian). One evaluation per iteration; from the
    optimum of a sample, three to five iterations reach it on all rows, against about 27 evaluations for
    L-BFGS-B with finite-difference standard errors. Stops when the Newton decrement (twice the predicted
    gain) is below 1e-12 per unit of weight. Returns (theta, LL, Hessian, iterations) at the last point
    evaluated, or None where the Hessian is not negative definite or a step leaves the search box: the caller
    then falls back to L-BFGS-B.
    """
    phi = np.log(theta)
    value, grad, hess = loglik(theta, hessian=True)
    for iteration in range(max_iter):
        theta = np.exp(phi)
        g = grad * theta  # the chain rule for phi = ln theta
        information = -(hess * np.outer(theta, theta) + np.diag(g))
        try:
            np.linalg.cholesky(information)
        except np.linalg.LinAlgError:
            return None
        step = np.linalg.solve(information, g)
        decrement = float(g @ step)
        if not np.isfinite(decrement):
            return None
        if decrement <= 1e-12 * total:
            return theta, value, hess, iteration
        size = 1.0
        while True:
            trial = phi + size * step
            if np.any(trial < _LOG_BOUNDS[0]) or np.any(trial > _LOG_BOUNDS[1]):
                return None
            new_value, new_grad, new_hess = loglik(np.exp(trial), hessian=True)
            if np.isfinite(new_value) and new_value >= value + 1e-4 * size * decrement:
                break
            size /= 2
            if size < 1e-6:  # no progress: rounding at the optimum, or a bad start
                return (theta, value, hess, iteration) if decrement <= 1e-8 * total else None
        phi, value, grad, hess = trial, new_value, new_grad, new_hess
    return None


_SAMPLE_ROWS = 50_000  # above this many rows, L-BFGS-B fits a systematic sample and Newton's method finishes


def _fit_with_hessian(
    cls: type[P],
    make_loglik: Callable[[NDArray[np.bool_] | slice], Callable[..., Any]],
    n_rows: int,
    weights: FloatArray,
    unscale: FloatArray,
    ll_offset: float,
) -> Fit[P]:
    """Fit a likelihood with an analytic Hessian; parameters, LL and standard errors on the original scale.

    ``make_loglik(rows)`` builds the likelihood of the rescaled data restricted to ``rows``. ``unscale``
    multiplies the fitted parameters back (e.g. alpha by the time scale) and ``ll_offset`` is the constant
    that the rescaling took off the log-likelihood. Standard errors come from the analytic Hessian (the
    Jacobian of the rescaling is diagonal, so they scale like the parameters).
    """
    n_params, total = len(unscale), float(weights.sum())
    loglik = make_loglik(slice(None))
    start = None
    if n_rows > _SAMPLE_ROWS:
        sample = slice(None, None, -(-n_rows // _SAMPLE_ROWS))
        sample_total = float(weights[sample].sum())
        try:
            # Only a start for Newton's method, which converges quadratically from near the optimum.
            start, _, at_bound = _maximise(make_loglik(sample), n_params, sample_total, tolerances=(1e-9, 1e-6))
        except AnalyticsInputError:
            at_bound = True  # the sample cannot be fitted on its own: L-BFGS-B on all rows
        polished = None if at_bound or start is None else _newton(loglik, start, total)
        if polished is not None:
            theta, value, hessian, iterations = polished
            message = f"Newton's method, {iterations} iteration(s) from the fit of a {sample_total:.0f}-weight sample"
            return _fit_from_hessian(cls, theta, unscale, value + ll_offset, hessian, total, True, False, message)
    theta, result, at_bound = _maximise(loglik, n_params, total, start)
    converged, message = bool(result.success), str(result.message)
    # L-BFGS-B can end "ABNORMAL" at the optimum when rounding in the last digits of the sums (which depends on
    # memory alignment, so varies from run to run) defeats its line search. Newton's method from its point
    # settles it: at an optimum it stops at once, with the Hessian the standard errors need anyway.
    polished = None if at_bound else _newton(loglik, theta, total)
    if polished is None:
        value, _, hessian = loglik(theta, hessian=True)
    else:
        theta, value, hessian, iterations = polished
        converged, message = True, f"L-BFGS-B ({message}), then {iterations} Newton iteration(s)"
    return _fit_from_hessian(cls, theta, unscale, value + ll_offset, hessian, total, converged, at_bound, message)


def _fit_from_hessian(
    cls: type[P],
    theta: FloatArray,
    unscale: FloatArray,
    log_likelihood: float,
    hessian: FloatArray,
    total: float,
    converged: bool,
    at_bound: bool,
    message: str,
) -> Fit[P]:
    se = np.full(len(theta), np.nan)
    if not at_bound:
        information = -(hessian + hessian.T) / 2
        try:
            np.linalg.cholesky(information)
            se = np.sqrt(np.diag(np.linalg.inv(information))) * unscale
        except np.linalg.LinAlgError:
            pass
    return Fit(
        params=cls(*map(float, theta * unscale)),
        standard_errors=cls(*map(float, se)),
        log_likelihood=float(log_likelihood),
        n_customers=total,
        converged=converged,
        at_bound=at_bound,
        message=message,
    )


# --- BG/NBD --------------------------------------------------------------------------------------------------


def bgnbd_log_likelihood(params: BGNBDParams, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> FloatArray:
    """Per-customer BG/NBD log-likelihood, [FHL05] eq. 6, in log space.

    ln L = lnG(r+x) - lnG(r) + r ln(alpha) + lnG(a+b) - lnG(a+b+x) - lnG(b)
           + logsumexp( lnG(b+x) - (r+x) ln(alpha+T),  [x>0] (ln a + lnG(b+x-1) - (r+x) ln(alpha+t_x)) )
    (the Beta functions of eq. 6 expanded into log-gammas).
    """
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    xa, ta, Ta = (np.asarray(v, dtype=np.float64) for v in (x, t_x, T))
    xs = np.maximum(xa, 1.0)  # lnG(b+x-1) only matters where x > 0
    rx = r + xa
    u1 = gammaln(b + xa) - rx * np.log(alpha + Ta)
    with np.errstate(divide="ignore"):
        u2 = np.where(xa > 0, np.log(a) + gammaln(b + xs - 1) - rx * np.log(alpha + ta), -np.inf)
    head = gammaln(r + xa) - gammaln(r) + r * np.log(alpha) + gammaln(a + b) - gammaln(a + b + xa) - gammaln(b)
    return head + np.logaddexp(u1, u2)


def _bgnbd_loglik(x: FloatArray, t_x: FloatArray, T: FloatArray, w: FloatArray):  # type: ignore[no-untyped-def]
    """Weighted BG/NBD log-likelihood with its analytic gradient (and Hessian on request), with as little
    per-row work as possible.

    [FHL05] eq. 6 splits into terms of x alone (log-gammas, summed once per distinct x), terms of T alone
    (-(r+x) ln(alpha+T), summed once per distinct T with the weights and weighted x of its rows) and, for the
    rows with x > 0 only, softplus(z) with z = ln a - ln(b+x-1) + (r+x) (ln(alpha+T) - ln(alpha+t_x)), the log
    of 1 + the odds of having dropped out after t_x. The row terms look up ln(alpha+T) and ln(alpha+t_x) per
    distinct time, so an evaluation costs one exp and one log1p per repeat buyer: about a tenth of evaluating
    eq. 6 per row (four log-gammas and four digammas each), which dominated the fit on a million customers.
    Derivatives follow from the same split: with s = sigmoid(z) (the weight of the "dropped" term) a row adds
    s dz/dtheta to the gradient and s (1 - s) dz/dtheta dz/dtheta' + s d2z/dtheta dtheta' to the Hessian, where
    dz/d(r, alpha, a, b) = (ln(alpha+T) - ln(alpha+t_x), (r+x) (1/(alpha+T) - 1/(alpha+t_x)), 1/a, -1/(b+x-1)).

    ``loglik(theta)`` returns (LL, gradient); ``loglik(theta, hessian=True)`` (LL, gradient, Hessian).
    """
    total = float(w.sum())
    ux, ix = _distinct(x)
    wx = np.bincount(ix, weights=w, minlength=len(ux))
    uT, iT = _distinct(T)
    w_T = np.bincount(iT, weights=w, minlength=len(uT))
    wx_T = np.bincount(iT, weights=w * x, minlength=len(uT))
    rows = x > 0
    ut, it = _distinct(t_x[rows])
    xr, wr, iTr, ixr = x[rows], w[rows], iT[rows], ix[rows]
    uxs = np.maximum(ux, 1.0)  # ln(b+x-1) only matters where x > 0

    def loglik(theta: FloatArray, hessian: bool = False):  # type: ignore[no-untyped-def]
        r, alpha, a, b = theta
        log_aT, log_at = np.log(alpha + uT), np.log(alpha + ut)
        inv_aT, inv_at = 1.0 / (alpha + uT), 1.0 / (alpha + ut)
        k_x = 1.0 / (b + uxs - 1)
        rx = r + xr
        d = log_aT[iTr] - log_at[it]
        e = inv_aT[iTr] - inv_at[it]
        z = (np.log(a) + np.log(k_x))[ixr] + rx * d
        softplus = np.logaddexp(0.0, z)
        s = np.exp(z - softplus)  # sigmoid(z), without overflow for large z
        ws = wr * s
        dz_alpha = rx * e
        by_x = gammaln(r + ux) - gammaln(r) + gammaln(a + b) - gammaln(a + b + ux) - gammaln(b) + gammaln(b + ux)
        ll = wx @ by_x + total * r * np.log(alpha) - (r * w_T + wx_T) @ log_aT + wr @ softplus
        d_ab = digamma(a + b) - digamma(a + b + ux)
        ws_x = np.bincount(ixr, ws, len(ux))
        grad = np.array(
            [
                wx @ (digamma(r + ux) - digamma(r)) + total * np.log(alpha) - w_T @ log_aT + ws @ d,
                total * r / alpha - (r * w_T + wx_T) @ inv_aT + ws @ dz_alpha,
                wx @ d_ab + ws_x.sum() / a,
                wx @ (d_ab - digamma(b) + digamma(b + ux)) - ws_x @ k_x,
            ]
        )
        if not hessian:
            return float(ll), grad
        ws1 = ws * (1.0 - s)
        ws1_x = np.bincount(ixr, ws1, len(ux))
        ws1_d_x = np.bincount(ixr, ws1 * d, len(ux))
        ws1_alpha_x = np.bincount(ixr, ws1 * dz_alpha, len(ux))
        t_ab = polygamma(1, a + b) - polygamma(1, a + b + ux)
        h = np.empty((4, 4))
        h[0, 0] = wx @ (polygamma(1, r + ux) - polygamma(1, r)) + ws1 @ (d * d)
        h[0, 1] = total / alpha - w_T @ inv_aT + ws1 @ (d * dz_alpha) + ws @ e
        h[1, 1] = (
            -total * r / alpha**2
            + (r * w_T + wx_T) @ inv_aT**2
            + ws1 @ (dz_alpha * dz_alpha)
            + ws @ (rx * (inv_at[it] ** 2 - inv_aT[iTr] ** 2))
        )
        h[0, 2] = ws1_d_x.sum() / a
        h[1, 2] = ws1_alpha_x.sum() / a
        h[2, 2] = wx @ t_ab + (ws1_x.sum() - ws_x.sum()) / a**2
        h[0, 3] = -ws1_d_x @ k_x
        h[1, 3] = -ws1_alpha_x @ k_x
        h[2, 3] = wx @ t_ab - ws1_x @ k_x / a
        h[3, 3] = wx @ (t_ab - polygamma(1, b) + polygamma(1, b + ux)) + (ws1_x + ws_x) @ k_x**2
        return float(ll), grad, np.triu(h) + np.triu(h, 1).T

    return loglik


def fit_bgnbd(x: ArrayLike, t_x: ArrayLike, T: ArrayLike, weights: ArrayLike | None = None) -> Fit[BGNBDParams]:
    """Fit BG/NBD [FHL05] by maximum likelihood on (x, t_x, T) rows with optional ``weights`` (counts).

    Raises AnalyticsInputError when nobody made a repeat purchase: the likelihood is then maximised only in
    the limit r -> 0 (no purchasing at all) and no parameters can be estimated.
    """
    xa, ta, Ta, w = _rfm_arrays(x, t_x, T, weights)
    if not np.any((xa > 0) & (w > 0)):
        raise AnalyticsInputError("no customer made a repeat purchase: BG/NBD cannot be estimated")
    scale = _time_scale(Ta)
    ts, Ts = ta / scale, Ta / scale

    def make(rows: NDArray[np.bool_] | slice):  # type: ignore[no-untyped-def]
        return _bgnbd_loglik(xa[rows], ts[rows], Ts[rows], w[rows])

    # Times divided by s change the LL by x ln s per customer (alpha carries the unit).
    offset = -np.log(scale) * float(w @ xa)
    return _fit_with_hessian(BGNBDParams, make, len(xa), w, np.array([1.0, scale, 1.0, 1.0]), offset)


def _time_scale(T: FloatArray) -> float:
    top = float(T.max())
    return top / 10.0 if top > 0 else 1.0


def _bgnbd_log_odds_dead(p: BGNBDParams, x: FloatArray, t_x: FloatArray, T: FloatArray) -> FloatArray:
    """ln[a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x)] for x > 0, -inf for x = 0."""
    xs = np.maximum(x, 1.0)
    value = np.log(p.a) - np.log(p.b + xs - 1) + (p.r + x) * (np.log(p.alpha + T) - np.log(p.alpha + t_x))
    return np.where(x > 0, value, -np.inf)


def bgnbd_probability_alive(params: BGNBDParams, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> FloatArray:
    """P(alive at T | x, t_x, T) = 1 / (1 + [x>0] a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x)) [FHL08 eq. 2].

    Evaluated as exp(-log1pexp(.)) so that huge x or T give 0 or 1, never NaN.
    """
    xa, ta, Ta = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (x, t_x, T)))
    return np.exp(-np.logaddexp(0.0, _bgnbd_log_odds_dead(params, xa, ta, Ta)))


def bgnbd_expected_purchases(
    params: BGNBDParams, t: ArrayLike, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> FloatArray:
    """E[Y(t) | x, t_x, T]: expected repeat purchases in (T, T + t] for a customer with history (x, t_x, T).

    [FHL05] eq. 10,  (a+b+x-1)/(a-1) [1 - ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; z)] * P(alive)
    with z = t/(alpha+T+t). The 2F1 term is computed after Euler's transformation (DLMF 15.8.1) as
    ((alpha+T)/(alpha+T+t))^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z), whose parameters do not grow with x, so
    large x cannot overflow. Arrays broadcast (e.g. ``t`` of shape (k, 1) against customers of shape (n,)).
    With x = t_x = T = 0 this is the unconditional E[X(t)] of eq. 9. Undefined at exactly a = 1.
    """
    p = params
    ta, xa, txa, Ta = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (t, x, t_x, T)))
    z = ta / (p.alpha + Ta + ta)
    shrink = np.exp((p.a - 1) * (np.log(p.alpha + Ta) - np.log(p.alpha + Ta + ta)))
    with np.errstate(invalid="ignore", over="ignore"):
        bracket = 1.0 - shrink * hyp2f1(p.a + p.b - 1 - p.r, p.a - 1, p.a + p.b + xa - 1, z)
        alive_purchases = (p.a + p.b + xa - 1) / (p.a - 1) * bracket
    bad = ~np.isfinite(alive_purchases) | (alive_purchases < 0)
    if np.any(bad):
        alive_purchases = np.array(alive_purchases, dtype=np.float64, copy=True)
        for i in np.flatnonzero(bad):
            alive_purchases.flat[i] = _bgnbd_alive_purchases_quad(p, ta.flat[i], xa.flat[i], Ta.flat[i])
    return alive_purchases * bgnbd_probability_alive(p, xa, txa, Ta)


def _bgnbd_alive_purchases_quad(p: BGNBDParams, t: float, x: float, T: float) -> float:
    """E[Y(t) | alive, x, T] by quadrature, for parameters (degenerate fits) where scipy's 2F1 fails.

    Given alive, lambda ~ Gamma(r+x, alpha+T) and p ~ Beta(a, b+x); E[Y(t) | lambda, p] = (1 - e^(-lambda p t))/p,
    and the expectation over lambda is closed-form, leaving one integral over p.
    """

    log_norm = betaln(p.a, p.b + x)

    def on_log_p(u: float) -> float:
        # Integrand in u = ln p: Beta density times p (the Jacobian) times E[Y(t) | alive, p].
        q = np.exp(u)
        rate = t / (p.alpha + T)
        # Below 1e-12 use the q -> 0 limit, where the exact formula is 0/0.
        small = q * rate < 1e-12
        given_p = (p.r + x) * rate if small else -np.expm1(-(p.r + x) * np.log1p(q * rate)) / q
        return float(given_p * np.exp(p.a * u + (p.b + x - 1) * np.log1p(-min(q, 1 - 1e-16)) - log_norm))

    split = float(np.log(p.a / (p.a + p.b + x)))  # near the mode of ln p, where the mass sits
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", integrate.IntegrationWarning)
        low, _ = integrate.quad(on_log_p, -np.inf, split, limit=200)
        high, _ = integrate.quad(on_log_p, split, 0.0, limit=200)
    return float(low + high)


# --- Pareto/NBD ----------------------------------------------------------------------------------------------


def _pnbd_log_tail(r: float, alpha: float, s: float, beta: float, x: FloatArray, u: FloatArray) -> FloatArray:
    """ln I(u), I(u) = integral from u to infinity of (alpha+tau)^-(r+x) (beta+tau)^-(s+1) d tau.

    Closed form via 2F1(1, c; r+s+x+1; y) with y in [0, 1) (Pfaff's transformation, DLMF 15.8.1, chosen so
    that the series converges): for beta >= alpha, c = s+1 and y = (beta-alpha)/(beta+u); otherwise c = r+x
    and y = (alpha-beta)/(alpha+u). Where scipy's 2F1 fails (y near 1 with a huge c) the integral is
    computed by adaptive quadrature on a rescaled axis instead.
    """
    n = r + s + x
    if beta >= alpha:
        f = hyp2f1(1.0, s + 1, n + 1, (beta - alpha) / (beta + u))
        out = -np.log(n) - (r + x - 1) * np.log(alpha + u) - (s + 1) * np.log(beta + u) + np.log(f)
    else:
        f = hyp2f1(1.0, r + x, n + 1, (alpha - beta) / (alpha + u))
        out = -np.log(n) - (r + x) * np.log(alpha + u) - s * np.log(beta + u) + np.log(f)
    bad = ~np.isfinite(out)
    if np.any(bad):
        out = np.array(out, dtype=np.float64, copy=True)
        xb, ub = np.broadcast_arrays(x, u)
        for i in np.flatnonzero(np.broadcast_to(bad, out.shape)):
            out.flat[i] = _pnbd_log_tail_quad(r, alpha, s, beta, float(xb.flat[i]), float(ub.flat[i]))
    return out


def _pnbd_log_tail_quad(r: float, alpha: float, s: float, beta: float, x: float, u: float) -> float:
    # Rescale tau = u + L w with L the inverse log-slope of the integrand at u, so it decays on w ~ 1.
    k1, k2 = r + x, s + 1
    length = 1.0 / (k1 / (alpha + u) + k2 / (beta + u))

    def ratio(w: float) -> float:
        tau = u + length * w
        return float(np.exp(-k1 * np.log1p((tau - u) / (alpha + u)) - k2 * np.log1p((tau - u) / (beta + u))))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", integrate.IntegrationWarning)
        value, _ = integrate.quad(ratio, 0.0, np.inf, limit=200)
    return float(-k1 * np.log(alpha + u) - k2 * np.log(beta + u) + np.log(length) + np.log(value))


def _log_diff(big: FloatArray, small: FloatArray) -> FloatArray:
    """ln(e^big - e^small) for big >= small (-inf where equal)."""
    with np.errstate(divide="ignore"):
        return big + np.log(-np.expm1(np.minimum(small - big, 0.0)))


def _pnbd_log_terms(
    p: ParetoNBDParams, x: FloatArray, t_x: FloatArray, T: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(constant, ln 'alive at T' term, ln 'died in (t_x, T)' term) of the Pareto/NBD likelihood."""
    const = gammaln(p.r + x) - gammaln(p.r) + p.r * np.log(p.alpha) + p.s * np.log(p.beta)
    alive = -(p.r + x) * np.log(p.alpha + T) - p.s * np.log(p.beta + T)
    died = np.log(p.s) + _log_diff(
        _pnbd_log_tail(p.r, p.alpha, p.s, p.beta, x, t_x), _pnbd_log_tail(p.r, p.alpha, p.s, p.beta, x, T)
    )
    return const, alive, died


def pareto_nbd_log_likelihood(params: ParetoNBDParams, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> FloatArray:
    """Per-customer Pareto/NBD log-likelihood (Fader & Hardie 2005 note, eq. 19), in log space.

    L = G(r+x) alpha^r beta^s / G(r) { (alpha+T)^-(r+x) (beta+T)^-s  +  s/(r+s+x) A_0 }, where
    s/(r+s+x) A_0 = s * integral_{t_x}^{T} (alpha+tau)^-(r+x) (beta+tau)^-(s+1) d tau (see _pnbd_log_tail).
    """
    xa, ta, Ta = (np.asarray(v, dtype=np.float64) for v in (x, t_x, T))
    const, alive, died = _pnbd_log_terms(params, xa, ta, Ta)
    return const + np.logaddexp(alive, died)


def fit_pareto_nbd(
    x: ArrayLike, t_x: ArrayLike, T: ArrayLike, weights: ArrayLike | None = None
) -> Fit[ParetoNBDParams]:
    """Fit Pareto/NBD [SMC87] by maximum likelihood (numerical gradient) on weighted (x, t_x, T) rows.

    Raises AnalyticsInputError when nobody made a repeat purchase (see :func:`fit_bgnbd`).
    """
    xa, ta, Ta, w = _rfm_arrays(x, t_x, T, weights)
    if not np.any((xa > 0) & (w > 0)):
        raise AnalyticsInputError("no customer made a repeat purchase: Pareto/NBD cannot be estimated")

    def make(tx: FloatArray, age: FloatArray) -> Callable[[FloatArray], tuple[float, None]]:
        def loglik(theta: FloatArray) -> tuple[float, None]:
            with np.errstate(invalid="ignore", over="ignore"):
                ll = pareto_nbd_log_likelihood(ParetoNBDParams(*theta), xa, tx, age)
            return float(w @ ll), None

        return loglik

    scale = _time_scale(Ta)
    theta, result, at_bound = _maximise(make(ta / scale, Ta / scale), 4, w.sum())
    theta = theta * np.array([1.0, scale, 1.0, scale])
    return _build_fit(ParetoNBDParams, theta, make(ta, Ta), result, at_bound, w.sum())


def pareto_nbd_probability_alive(params: ParetoNBDParams, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> FloatArray:
    """P(alive at T | x, t_x, T) = 1 / (1 + s/(r+s+x) (alpha+T)^(r+x) (beta+T)^s A_0) (FH 2005 note, eq. 18)."""
    xa, ta, Ta = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (x, t_x, T)))
    _, alive, died = _pnbd_log_terms(params, xa, ta, Ta)
    return np.exp(alive - np.logaddexp(alive, died))


def pareto_nbd_expected_purchases(
    params: ParetoNBDParams, t: ArrayLike, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> FloatArray:
    """E[Y(t) | x, t_x, T] = (r+x)(beta+T) / ((alpha+T)(s-1)) [1 - ((beta+T)/(beta+T+t))^(s-1)] P(alive).

    Fader & Hardie 2005 note, eq. 25; the bracket divided by (s-1) is computed as -expm1((s-1) ln q)/(s-1),
    whose limit at s = 1 is -ln q (q = (beta+T)/(beta+T+t)). Arrays broadcast as in bgnbd_expected_purchases.
    """
    p = params
    ta, xa, txa, Ta = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (t, x, t_x, T)))
    log_q = np.log(p.beta + Ta) - np.log(p.beta + Ta + ta)
    sm1 = p.s - 1.0
    growth = -log_q if abs(sm1) < 1e-10 else -np.expm1(sm1 * log_q) / sm1
    return (p.r + xa) * (p.beta + Ta) / (p.alpha + Ta) * growth * pareto_nbd_probability_alive(p, xa, txa, Ta)


# --- model-agnostic predictions ------------------------------------------------------------------------------


def expected_purchases(
    params: BGNBDParams | ParetoNBDParams, t: ArrayLike, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> FloatArray:
    """Conditional expected repeat purchases in the next ``t`` time units, for either count model."""
    if isinstance(params, BGNBDParams):
        return bgnbd_expected_purchases(params, t, x, t_x, T)
    return pareto_nbd_expected_purchases(params, t, x, t_x, T)


def probability_alive(params: BGNBDParams | ParetoNBDParams, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> FloatArray:
    """Probability that the customer is still active at ``as_of``, for either count model."""
    if isinstance(params, BGNBDParams):
        return bgnbd_probability_alive(params, x, t_x, T)
    return pareto_nbd_probability_alive(params, x, t_x, T)


# --- Gamma-Gamma ---------------------------------------------------------------------------------------------


def _spend_arrays(x: ArrayLike, m: ArrayLike, weights: ArrayLike | None) -> tuple[FloatArray, FloatArray, FloatArray]:
    xa, ma = _as_array("frequency", x), _as_array("monetary_value", m)
    if len(xa) != len(ma):
        raise AnalyticsInputError("frequency and monetary_value must have the same length")
    w = np.ones_like(xa) if weights is None else _as_array("weights", weights)
    if len(w) != len(xa):
        raise AnalyticsInputError("weights must have one value per row")
    keep = xa > 0
    if not np.any(keep & (w > 0)):
        raise AnalyticsInputError("no customer made a repeat purchase: Gamma-Gamma cannot be estimated")
    non_positive = int(np.sum(keep & (ma <= 0)))
    if non_positive:
        raise AnalyticsInputError(
            f"{non_positive} repeat buyer(s) have a mean repeat spend <= 0; Gamma-Gamma needs positive amounts"
            " (exclude free orders or those customers)"
        )
    return xa[keep], ma[keep], w[keep]


def gamma_gamma_log_likelihood(params: GammaGammaParams, x: ArrayLike, m: ArrayLike) -> FloatArray:
    """Per-customer Gamma-Gamma log-likelihood of the mean repeat spend m over x > 0 purchases.

    Fader & Hardie (2013) note, eq. 4: ln f(m | p, q, v, x) = lnG(px+q) - lnG(px) - lnG(q) + q ln v
    + (px-1) ln m + px ln x - (px+q) ln(v + x m).
    """
    p, q, v = params.p, params.q, params.v
    xa, ma = np.asarray(x, dtype=np.float64), np.asarray(m, dtype=np.float64)
    px = p * xa
    return (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(v)
        + (px - 1) * np.log(ma)
        + px * np.log(xa)
        - (px + q) * np.log(v + xa * ma)
    )


def _gamma_gamma_loglik(x: FloatArray, m: FloatArray, w: FloatArray):  # type: ignore[no-untyped-def]
    """Weighted Gamma-Gamma log-likelihood (eq. 4 of the note) with its gradient (and Hessian on request).

    Only -(px+q) ln(v + x m) depends on a row's m and the parameters together; the log-gammas and polygammas
    depend on x alone and the (px-1) ln m term on sums fixed by the data, so an evaluation costs one log per
    row instead of two log-gammas, two digammas and four logs. Calls as :func:`_bgnbd_loglik`.
    """
    total = float(w.sum())
    ux, ix = _distinct(x)
    wx = np.bincount(ix, weights=w, minlength=len(ux))
    log_ux = np.log(ux)
    xm, w_x = x * m, w * x
    log_m = np.log(m)
    sum_wx_log_m, sum_w_log_m = float(w_x @ log_m), float(w @ log_m)

    def loglik(theta: FloatArray, hessian: bool = False):  # type: ignore[no-untyped-def]
        p, q, v = theta
        pux = p * ux
        log_vxm = np.log(v + xm)
        inv_vxm = 1.0 / (v + xm)
        d_common = digamma(pux + q)
        ll = (
            wx @ (gammaln(pux + q) - gammaln(pux) + pux * log_ux)
            + total * (q * np.log(v) - gammaln(q))
            + p * sum_wx_log_m
            - sum_w_log_m
            - p * (w_x @ log_vxm)
            - q * (w @ log_vxm)
        )
        w_x_inv, w_inv = w_x @ inv_vxm, w @ inv_vxm
        grad = np.array(
            [
                wx @ (ux * (d_common - digamma(pux) + log_ux)) + sum_wx_log_m - w_x @ log_vxm,
                wx @ (d_common - digamma(q)) + total * np.log(v) - w @ log_vxm,
                total * q / v - p * w_x_inv - q * w_inv,
            ]
        )
        if not hessian:
            return float(ll), grad
        t_common = polygamma(1, pux + q)
        inv2 = inv_vxm * inv_vxm
        h_pv, h_qv = -w_x_inv, total / v - w_inv
        h_pq = wx @ (ux * t_common)
        h = np.array(
            [
                [wx @ (ux * ux * (t_common - polygamma(1, pux))), h_pq, h_pv],
                [h_pq, wx @ t_common - total * polygamma(1, q), h_qv],
                [h_pv, h_qv, -total * q / v**2 + p * (w_x @ inv2) + q * (w @ inv2)],
            ]
        )
        return float(ll), grad, h

    return loglik


def fit_gamma_gamma(x: ArrayLike, m: ArrayLike, weights: ArrayLike | None = None) -> Fit[GammaGammaParams]:
    """Fit the Gamma-Gamma spend model [FHL05b] on the repeat buyers (rows with x = 0 are dropped).

    ``m`` is the summary's ``monetary_value`` (mean amount of the repeat purchases). The model assumes spend
    is independent of frequency; check the correlation before trusting it. Raises AnalyticsInputError when no
    customer has a repeat purchase or a repeat buyer's mean spend is not positive.
    """
    xa, ma, w = _spend_arrays(x, m, weights)
    scale = float(np.median(ma))
    ms = ma / scale

    def make(rows: NDArray[np.bool_] | slice):  # type: ignore[no-untyped-def]
        return _gamma_gamma_loglik(xa[rows], ms[rows], w[rows])

    # Amounts divided by c change the LL by -ln c per customer (the density of m is in currency units).
    offset = -np.log(scale) * float(w.sum())
    return _fit_with_hessian(GammaGammaParams, make, len(xa), w, np.array([1.0, 1.0, scale]), offset)


def gamma_gamma_expected_spend(params: GammaGammaParams, x: ArrayLike, m: ArrayLike) -> FloatArray:
    """E[M | p, q, v, x, m] = p (v + x m) / (p x + q - 1), Fader & Hardie (2013) note, eq. 5.

    A weighted mean of the population mean p v / (q - 1) and the customer's own mean m; for x = 0 it is the
    population mean. Infinite where p x + q <= 1 (the population mean does not exist when q <= 1).
    """
    p, q, v = params.p, params.q, params.v
    xa, ma = np.broadcast_arrays(np.asarray(x, dtype=np.float64), np.asarray(m, dtype=np.float64))
    denominator = p * xa + q - 1
    with np.errstate(divide="ignore"):
        return np.where(denominator > 0, p * (v + xa * ma) / np.where(denominator > 0, denominator, 1), np.inf)


def params_dict(params: BGNBDParams | ParetoNBDParams | GammaGammaParams) -> dict[str, float]:
    """Parameters as a plain dict (for JSON reports), in declaration order."""
    return {f.name: float(getattr(params, f.name)) for f in fields(params)}
