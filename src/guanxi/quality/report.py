"""The process analysis in JSON-ready form, shared by the pages and the API: labels translated, hours rounded."""

from typing import Any

import numpy as np
from django.utils.translation import gettext as _

from guanxi.quality import process
from guanxi.tickets.models import Ticket


def status_label(status: str) -> str:
    return str(dict(Ticket.Status.choices).get(status, status))


def dimension_label(dimension: str) -> str:
    names = {"category": _("category"), "team": _("team"), "priority": _("priority")}
    return " + ".join(str(names.get(d, d)) for d in dimension.split("+"))


def _num(value: Any, digits: int = 2) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if np.isnan(value) else round(value, digits)


def value_label(dimension: str, value: str, categories: dict[str, str]) -> str:
    priorities = dict(Ticket.Priority.choices)
    parts = []
    for dim, part in zip(dimension.split("+"), value.split(" / "), strict=False):
        if dim == "category":
            parts.append(categories.get(part, part))
        elif dim == "priority":
            parts.append(str(priorities.get(part, part)))
        else:
            parts.append(part)
    return " / ".join(parts)


def bottleneck_rows(result: process.ProcessAnalysis, categories: dict[str, str]) -> list[dict[str, Any]]:
    rows = []
    for b in result.bottlenecks:
        label = value_label(b.dimension, b.value, categories)
        ratio = _num(b.ratio, 1) if np.isfinite(b.ratio) else None
        text = _(
            "%(value)s tickets wait a median %(median).0f h in %(status)s, %(ratio)s× the rest "
            "(%(share).0f%% of all time)"
        ) % {
            "value": label,
            "median": b.median_hours,
            "status": status_label(b.status),
            "ratio": f"{b.ratio:.1f}" if ratio is not None else "∞",
            "share": b.share * 100,
        }
        rows.append(
            {
                "status": b.status,
                "status_label": status_label(b.status),
                "dimension": b.dimension,
                "dimension_label": dimension_label(b.dimension),
                "value": b.value,
                "value_label": label,
                "cases": b.cases,
                "total_hours": _num(b.total_hours, 1),
                "share": _num(b.share, 4),
                "median_hours": _num(b.median_hours),
                "rest_median_hours": _num(b.rest_median_hours),
                "status_median_hours": _num(b.status_median_hours),
                "ratio": ratio,
                "excess_hours": _num(b.excess_hours, 1),
                "explanation": text,
            }
        )
    return rows


def status_rows(result: process.ProcessAnalysis) -> list[dict[str, Any]]:
    """Per status: cases that visited it, median / mean / 90th percentile of a case's hours there, total hours."""
    rows = []
    for status in result.time_in_status.columns:
        hours = result.time_in_status[status]
        visited = hours[hours > 0]
        rows.append(
            {
                "status": status,
                "label": status_label(status),
                "cases": int(visited.size),
                "median_hours": _num(visited.median()) if visited.size else None,
                "mean_hours": _num(visited.mean()) if visited.size else None,
                "p90_hours": _num(visited.quantile(0.9)) if visited.size else None,
                "total_hours": _num(hours.sum(), 1),
            }
        )
    order = {s: i for i, s in enumerate(Ticket.Status.values)}
    return sorted(rows, key=lambda r: order.get(r["status"], 99))


def summary(result: process.ProcessAnalysis, categories: dict[str, str]) -> dict[str, Any]:
    ww = result.waiting_working
    reopens = result.reopens
    nodes = result.process_map.nodes
    edges = result.process_map.edges
    throughput = result.throughput
    ageing = result.queue_ageing
    return {
        "as_of": result.as_of.to_pydatetime(),
        "cases": result.cases,
        "waiting_hours": _num(ww["waiting_hours"].sum(), 1) if len(ww) else 0.0,
        "working_hours": _num(ww["working_hours"].sum(), 1) if len(ww) else 0.0,
        "median_share_waiting": _num(ww["share_waiting"].median(), 4) if len(ww) else None,
        "reopened_cases": int((reopens > 0).sum()),
        "reopen_loops": int(reopens.sum()),
        "statuses": status_rows(result),
        "nodes": [
            {
                "status": n.status,
                "label": status_label(n.status),
                "visits": int(n.visits),
                "cases": int(n.cases),
                "total_hours": _num(n.total_hours, 1),
                "median_hours": _num(n.median_hours),
            }
            for n in nodes.itertuples()
        ],
        "edges": [
            {"source": e.source, "target": e.target, "count": int(e.count), "median_hours": _num(e.median_hours)}
            for e in edges.itertuples()
        ],
        "throughput": [
            {"day": day.date(), "arrivals": int(row.arrivals), "resolved": int(row.resolved)}
            for day, row in throughput.iterrows()
        ],
        "ageing": [
            {"bucket": str(a.bucket), "status": a.status, "cases": int(a.cases)}
            for a in ageing.itertuples()
            if a.cases > 0
        ],
        "bottlenecks": bottleneck_rows(result, categories),
    }


def _figure(data: list[dict], **layout: Any) -> dict:
    return {"data": data, "layout": layout}


def figures(data: dict[str, Any]) -> dict[str, dict]:
    """Plotly figures (as dicts) for the overview page."""
    labels = {n["status"]: n["label"] for n in data["nodes"]}
    names = list(labels)
    sankey = _figure(
        [
            {
                "type": "sankey",
                "arrangement": "snap",
                "node": {"label": [labels[s] for s in names], "pad": 15},
                "link": {
                    "source": [names.index(e["source"]) for e in data["edges"]],
                    "target": [names.index(e["target"]) for e in data["edges"]],
                    "value": [e["count"] for e in data["edges"]],
                    "label": [
                        _("%(count)s moves, median %(hours)s h") % {"count": e["count"], "hours": e["median_hours"]}
                        for e in data["edges"]
                    ],
                },
            }
        ],
        height=420,
    )
    statuses = data["statuses"]
    in_status = _figure(
        [
            {
                "type": "bar",
                "name": _("Median"),
                "x": [s["label"] for s in statuses],
                "y": [s["median_hours"] for s in statuses],
            },
            {
                "type": "bar",
                "name": _("90th percentile"),
                "x": [s["label"] for s in statuses],
                "y": [s["p90_hours"] for s in statuses],
            },
        ],
        barmode="group",
        yaxis={"title": _("hours per ticket")},
    )
    waiting = _figure(
        [
            {
                "type": "pie",
                "labels": [_("Waiting (new, pending)"), _("Working (open)")],
                "values": [data["waiting_hours"], data["working_hours"]],
                "hole": 0.4,
            }
        ]
    )
    days = [str(t["day"]) for t in data["throughput"]]
    throughput = _figure(
        [
            {
                "type": "scatter",
                "mode": "lines",
                "name": _("Arrived"),
                "x": days,
                "y": [t["arrivals"] for t in data["throughput"]],
            },
            {
                "type": "scatter",
                "mode": "lines",
                "name": _("Resolved"),
                "x": days,
                "y": [t["resolved"] for t in data["throughput"]],
            },
        ]
    )
    buckets = list(dict.fromkeys(a["bucket"] for a in data["ageing"]))
    ageing = _figure(
        [
            {
                "type": "bar",
                "name": status_label(status),
                "x": buckets,
                "y": [
                    sum(a["cases"] for a in data["ageing"] if a["bucket"] == b and a["status"] == status)
                    for b in buckets
                ],
            }
            for status in dict.fromkeys(a["status"] for a in data["ageing"])
        ],
        barmode="stack",
        yaxis={"title": _("open tickets")},
    )
    return {"sankey": sankey, "in_status": in_status, "waiting": waiting, "throughput": throughput, "ageing": ageing}
