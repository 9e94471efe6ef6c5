from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import render

from guanxi.web import search as global_search
from guanxi.web import selectors


@login_required
def dashboard(request):
    return render(request, "web/dashboard.html", selectors.dashboard(request.user))


@login_required
def search(request):
    """The header search: the results fragment for HTMX (live, as you type), the same list as a page otherwise."""
    results = global_search.search_customers(request.user, request.GET.get("q", "")[:100])
    template = "web/_search_results.html" if request.htmx else "web/search.html"
    return render(request, template, {"results": results})


def not_found(request, exception=None):
    """404 for any URL nobody routes: JSON in the API's error format under /api/, the page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"error": {"code": "not_found", "message": "No such endpoint.", "details": {}}}, status=404)
    return render(request, "404.html", status=404)
