from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from guanxi.segments import selectors


@login_required
def analytics_dashboard(request):
    return render(request, "segments/dashboard.html", selectors.dashboard(request.user))
