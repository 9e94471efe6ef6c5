from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from guanxi.web import selectors


@login_required
def dashboard(request):
    return render(request, "web/dashboard.html", selectors.dashboard(request.user))
