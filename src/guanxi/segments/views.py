from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from guanxi.segments import selectors


@login_required
def analytics_dashboard(request):
    return render(request, "segments/dashboard.html", selectors.dashboard(request.user))


@login_required
def forecast(request):
    """Expected purchases and revenue for the next 1-12 months by a grouping, over the visible customers."""
    try:
        months = min(max(int(request.GET.get("months", 6)), 1), 12)
    except ValueError:
        months = 6
    grouping = request.GET.get("grouping", "segment")
    if grouping not in selectors.GROUPINGS:
        grouping = "segment"
    context = selectors.forecast_page(request.user, months=months, grouping=grouping)
    context |= {"groupings": selectors.GROUPINGS.items(), "month_choices": range(1, 13)}
    template = "segments/_forecast.html" if request.htmx else "segments/forecast.html"
    return render(request, template, context)


def recommendations_panel(request, customer) -> dict | None:
    """Context of the customer page's "Recommended next" panel (None hides it)."""
    return selectors.customer_insights(request.user, customer)
