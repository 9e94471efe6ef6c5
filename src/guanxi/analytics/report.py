"""A self-contained HTML report of a :class:`~guanxi.analytics.pipeline.PipelineResult` (``guanxi analyze --html``).

One file that opens offline: Plotly's JavaScript is inlined once (``include_plotlyjs=True``), no script is
loaded from anywhere. Sections: key figures, the segment table, the RFM grid (R by FM, counts), the CLV
distribution, the cohort heatmap (monthly acquisition cohort by months since the first purchase, share of the
cohort purchasing), P(alive) by frequency and recency (BG/NBD, FHL 2008 eq. 2, at the largest T), and the
model fit: calibration histogram of repeat purchases, actual against BG/NBD-expected (FHL 2005 fig. 2), and,
when the data go past ``as_of``, cumulative repeat purchases per week, actual against predicted (fig. 4).

The text is English; the app's pages translate their own copies.
"""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
import plotly.graph_objects as go

from guanxi.analytics import btyd
from guanxi.analytics.pipeline import PipelineResult
from guanxi.analytics.rfm import SEGMENT_GRID, SEGMENT_LABELS

PLOT_IDS = (
    "rfm-grid",
    "clv-distribution",
    "cohort-heatmap",
    "p-alive-matrix",
    "calibration-histogram",
    "holdout-cumulative",
)
_COHORT_MONTHS = 24
_CONFIG = {"displaylogo": False, "responsive": True}
_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:1100px;color:#1f2933;
padding:0 1rem}
h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:2.2rem;border-bottom:1px solid #d9e2ec;padding-bottom:.3rem}
table{border-collapse:collapse;margin:.5rem 0}th,td{padding:.3rem .7rem;border-bottom:1px solid #e4e7eb}
th{text-align:left;background:#f5f7fa}td.num{text-align:right;font-variant-numeric:tabular-nums}
.figures{display:flex;flex-wrap:wrap;gap:1rem}.figure{background:#f5f7fa;padding:.6rem 1rem;border-radius:6px}
.figure b{display:block;font-size:1.3rem}p.note{color:#52606d;font-size:.9rem}
"""


def cohort_matrix(transactions: ir.Table, *, months: int = _COHORT_MONTHS) -> pd.DataFrame:
    """Share of each monthly acquisition cohort purchasing in each month since its first purchase.

    Input: ``customer_id`` and ``purchased_at`` (date or timestamp), all rows (calibration and after). A
    customer's cohort is the calendar month of the first purchase; month 0 is that month (share 1). Rows:
    cohorts (first day of the month), columns 0 .. ``months`` - 1; NaN where the data end before that month.
    Also returns the cohort sizes in a ``customers`` column.
    """
    tx = transactions.select(
        customer_id=transactions.customer_id, month=transactions.purchased_at.cast("timestamp").truncate("M").date()
    )
    active = tx.distinct()
    first = active.group_by("customer_id").aggregate(cohort=active.month.min())
    joined = active.inner_join(first, "customer_id")
    offset = (joined.month.year() - joined.cohort.year()) * 12 + (joined.month.month() - joined.cohort.month())
    counts = joined.mutate(offset=offset).group_by(["cohort", "offset"]).aggregate(customers=ibis._.count()).to_pandas()
    if counts.empty:
        return pd.DataFrame()
    counts["cohort"] = pd.to_datetime(counts["cohort"])
    table = counts.pivot_table(index="cohort", columns="offset", values="customers", aggfunc="sum").sort_index()
    size = table[0]
    share = table.div(size, axis=0)
    months_in = counts["cohort"].dt.year * 12 + counts["cohort"].dt.month - 1 + counts["offset"]
    last_month = int(months_in.max())  # the last month with a purchase: later months are unknown, not zero
    for cohort in share.index:
        observed = last_month - (cohort.year * 12 + cohort.month - 1)
        share.loc[cohort, share.columns > observed] = np.nan
        share.loc[cohort, (share.columns <= observed) & share.loc[cohort].isna()] = 0.0
    share = share.reindex(columns=range(months))
    share["customers"] = size.astype("int64")
    return share


def _figure_html(figure: go.Figure, div_id: str, first: bool) -> str:
    figure.update_layout(margin={"l": 60, "r": 20, "t": 50, "b": 50}, template="plotly_white")
    return str(
        figure.to_html(full_html=False, include_plotlyjs=first, div_id=div_id, config=_CONFIG, default_height=420)
    )


def _rfm_grid(frame: pd.DataFrame) -> go.Figure:
    counts = frame.groupby(["r_score", "fm_score"]).size().unstack(fill_value=0)
    counts = counts.reindex(index=[1, 2, 3, 4, 5], columns=[1, 2, 3, 4, 5], fill_value=0)  # R 5 drawn on top
    names = [[SEGMENT_LABELS[SEGMENT_GRID[(r, fm)]] for fm in counts.columns] for r in counts.index]
    text = [[f"{names[i][j]}<br>{counts.iat[i, j]:,}" for j in range(5)] for i in range(5)]
    figure = go.Figure(
        go.Heatmap(
            z=counts.to_numpy(),
            x=[f"FM {v}" for v in counts.columns],
            y=[f"R {v}" for v in counts.index],
            text=text,
            texttemplate="%{text}",
            colorscale="Blues",
            hovertemplate="%{y}, %{x}: %{z:,} customers<extra></extra>",
        )
    )
    figure.update_layout(title="RFM grid: customers by recency score (R) and frequency-monetary score (FM)")
    return figure


def _clv_distribution(frame: pd.DataFrame, months: int) -> go.Figure:
    clv = frame["clv"].to_numpy()
    top = float(np.quantile(clv, 0.99)) if len(clv) else 0.0
    # Binned here, not by Plotly: a million raw values would make the report tens of megabytes.
    counts, edges = np.histogram(np.minimum(clv, top), bins=60, range=(min(0.0, float(clv.min(initial=0))), top or 1.0))
    figure = go.Figure(
        go.Bar(
            x=(edges[:-1] + edges[1:]) / 2,
            y=counts,
            width=np.diff(edges),
            marker_color="#3e7cb1",
            name="customers",
            hovertemplate="CLV %{x:,.2f}: %{y:,} customers<extra></extra>",
        )
    )
    figure.update_layout(
        title=f"CLV over {months} months (values above the 99th percentile, {top:,.2f}, in the last bar)",
        xaxis_title="CLV (currency of the amounts)",
        yaxis_title="customers",
        bargap=0.02,
    )
    return figure


def _cohort_heatmap(share: pd.DataFrame) -> go.Figure:
    values = share.drop(columns="customers")
    values = values.loc[:, values.notna().any(axis=0)]
    labels = [f"{c:%Y-%m} ({n:,})" for c, n in zip(share.index, share["customers"], strict=True)]
    figure = go.Figure(
        go.Heatmap(
            z=values.to_numpy(dtype=float),
            x=[str(c) for c in values.columns],
            y=labels,
            colorscale="YlGnBu",
            zmin=0,
            zmax=float(np.nanmax(values.to_numpy(dtype=float)[:, 1:])) if values.shape[1] > 1 else 1.0,
            hovertemplate="cohort %{y}, month %{x}: %{z:.1%} purchasing<extra></extra>",
            colorbar={"tickformat": ".0%"},
        )
    )
    figure.update_layout(
        title="Cohorts: share of each monthly acquisition cohort purchasing, by months since the first purchase",
        xaxis_title="months since the first purchase",
        yaxis_title="cohort (customers)",
        yaxis_autorange="reversed",
    )
    return figure


def _p_alive_matrix(result: PipelineResult) -> go.Figure:
    frame = result.customers
    T = float(frame["T"].max())
    top_x = int(max(1, min(np.quantile(frame["frequency"], 0.99), 60)))
    x = np.arange(top_x + 1, dtype=np.float64)
    recency = np.linspace(0.0, T, 40)
    grid = btyd.bgnbd_probability_alive(result.bgnbd.params, x[:, None], recency[None, :], T)
    grid = np.where((x[:, None] == 0) & (recency[None, :] > 0), np.nan, grid)  # x = 0 implies recency 0
    unit = {"D": "days", "W": "weeks"}[result.unit]
    figure = go.Figure(
        go.Heatmap(
            z=grid,
            x=recency,
            y=x,
            colorscale="RdYlGn",
            zmin=0,
            zmax=1,
            hovertemplate=f"frequency %{{y}}, recency %{{x:.1f}} {unit}: P(alive) %{{z:.2f}}<extra></extra>",
        )
    )
    figure.update_layout(
        title=f"P(alive) by frequency and recency (BG/NBD, customer age T = {T:.1f} {unit})",
        xaxis_title=f"recency t_x ({unit} from the first to the last purchase)",
        yaxis_title="frequency x (repeat purchases)",
    )
    return figure


def _calibration(result: PipelineResult) -> go.Figure:
    table = result.calibration
    figure = go.Figure(
        [
            go.Bar(x=table["repeat_purchases"], y=table["actual"], name="actual", marker_color="#3e7cb1"),
            go.Bar(x=table["repeat_purchases"], y=table["expected"], name="BG/NBD", marker_color="#f2a541"),
        ]
    )
    figure.update_layout(
        title="Model fit: customers by repeat purchases in the calibration period",
        xaxis_title="repeat purchases",
        yaxis_title="customers",
        barmode="group",
    )
    return figure


def _holdout(result: PipelineResult) -> go.Figure:
    assert result.holdout is not None
    weekly = result.holdout.weekly
    figure = go.Figure(
        [
            go.Scatter(x=weekly["week"], y=weekly["actual"], name="actual", mode="lines", line={"color": "#3e7cb1"}),
            go.Scatter(
                x=weekly["week"],
                y=weekly["predicted"],
                name="BG/NBD",
                mode="lines",
                line={"color": "#f2a541", "dash": "dash"},
            ),
        ]
    )
    figure.update_layout(
        title=f"Holdout: cumulative repeat purchases after {result.as_of} (customers of the calibration period)",
        xaxis_title="weeks after the calibration end",
        yaxis_title="cumulative repeat purchases",
    )
    return figure


def _segment_table(frame: pd.DataFrame) -> str:
    stats = frame.groupby("segment").agg(
        customers=("segment", "size"),
        revenue=("revenue", "mean"),
        clv=("clv", "mean"),
        clv_total=("clv", "sum"),
        alive=("p_alive", "mean"),
        purchases=("expected_purchases", "mean"),
    )
    rows = []
    for key, label in SEGMENT_LABELS.items():
        if key not in stats.index:
            continue
        s = stats.loc[key]
        rows.append(
            f"<tr><td>{html.escape(label)}</td><td class=num>{int(s['customers']):,}</td>"
            f"<td class=num>{s['customers'] / len(frame):.1%}</td><td class=num>{s['revenue']:,.2f}</td>"
            f"<td class=num>{s['purchases']:.2f}</td><td class=num>{s['alive']:.2f}</td>"
            f"<td class=num>{s['clv']:,.2f}</td><td class=num>{s['clv_total']:,.0f}</td></tr>"
        )
    head = (
        "<tr><th>segment</th><th>customers</th><th>share</th><th>mean revenue</th><th>expected purchases</th>"
        "<th>mean P(alive)</th><th>mean CLV</th><th>total CLV</th></tr>"
    )
    return f'<table id="segment-table">{head}{"".join(rows)}</table>'


def _parameter_table(result: PipelineResult) -> str:
    rows = []
    for name, fit in (("BG/NBD", result.bgnbd), ("Gamma-Gamma", result.gamma_gamma)):
        errors = btyd.params_dict(fit.standard_errors)
        for key, value in btyd.params_dict(fit.params).items():
            rows.append(
                f"<tr><td>{name}</td><td>{key}</td><td class=num>{value:.4f}</td>"
                f"<td class=num>{errors[key]:.4f}</td></tr>"
            )
        rows.append(
            f"<tr><td>{name}</td><td>log-likelihood</td><td class=num>{fit.log_likelihood:,.2f}</td><td></td></tr>"
        )
    return (
        '<table id="parameters"><tr><th>model</th><th>parameter</th><th>estimate</th><th>std. error</th></tr>'
        + "".join(rows)
        + "</table>"
    )


def build_report(result: PipelineResult, transactions: ir.Table | None = None, *, source: str = "") -> str:
    """The report as one HTML string. ``transactions`` (``customer_id``, ``purchased_at``) feeds the cohorts."""
    frame = result.customers
    data: dict[str, Any] = result.as_dict()
    unit = {"D": "days", "W": "weeks"}[result.unit]
    plots: list[tuple[str, str, go.Figure]] = [
        ("RFM grid", "rfm-grid", _rfm_grid(frame)),
        ("CLV distribution", "clv-distribution", _clv_distribution(frame, result.clv_months)),
    ]
    if transactions is not None:
        share = cohort_matrix(transactions)
        if not share.empty:
            plots.append(("Cohorts", "cohort-heatmap", _cohort_heatmap(share)))
    plots.append(("Probability alive", "p-alive-matrix", _p_alive_matrix(result)))
    plots.append(("Model fit", "calibration-histogram", _calibration(result)))
    if result.holdout is not None:
        plots.append(("Holdout", "holdout-cumulative", _holdout(result)))

    sections = []
    for i, (title, div_id, figure) in enumerate(plots):
        sections.append(f"<h2>{html.escape(title)}</h2>{_figure_html(figure, div_id, first=i == 0)}")
    holdout = ""
    if result.holdout is not None:
        h = result.holdout
        holdout = (
            f"<p>Holdout {h.start} to {h.end}: {h.actual:,} repeat purchases, BG/NBD predicted "
            f"{h.predicted:,.0f} ({h.predicted / max(h.actual, 1):.0%}).</p>"
        )
    totals = data["totals"]
    figures = [
        ("customers", f"{data['customers']:,}"),
        ("repeat buyers", f"{data['repeat_buyers']:,}"),
        ("revenue", f"{data['revenue']:,.2f}"),
        (f"expected purchases, next {result.horizon_days} days", f"{totals['expected_purchases']:,.0f}"),
        (f"CLV, {result.clv_months} months", f"{totals['clv']:,.0f}"),
        ("mean P(alive)", f"{totals['mean_p_alive']:.2f}"),
    ]
    cards = "".join(f'<div class="figure">{html.escape(k)}<b>{v}</b></div>' for k, v in figures)
    title = "Customer base analysis" + (f": {source}" if source else "")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>{_STYLE}</style></head>
<body>
<h1>{html.escape(title)}</h1>
<p>Calibration end {result.as_of} (inclusive); times in {unit}; same-day purchases count as one transaction.
CLV: {result.clv_months} months, monthly discount rate {result.discount_rate:.2%}, margin {result.margin:.0%}.
Generated {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC by Guanxi.</p>
<div class="figures">{cards}</div>
<h2>Segments</h2>
{_segment_table(frame)}
<p class="note">Segments from the R and FM quintile scores (R: time since the last purchase; F: purchases;
M: revenue). Value tiers by CLV: high {result.tier_counts["high"]:,}, medium {result.tier_counts["medium"]:,},
low {result.tier_counts["low"]:,}; ABC by revenue: A {result.abc_counts["A"]:,}, B {result.abc_counts["B"]:,},
C {result.abc_counts["C"]:,}.</p>
<h2>Models</h2>
{_parameter_table(result)}
<p class="note">BG/NBD (Fader, Hardie &amp; Lee 2005) and Gamma-Gamma (Fader, Hardie &amp; Lee 2005b) by maximum
likelihood; standard errors from the observed information.</p>
{holdout}
{"".join(sections)}
</body></html>
"""


def write_report(result: PipelineResult, transactions: ir.Table | None, path: str | Path, *, source: str = "") -> Path:
    """Write :func:`build_report` to ``path`` (UTF-8); return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(build_report(result, transactions, source=source), encoding="utf-8")
    return path
