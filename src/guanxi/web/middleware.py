from django.shortcuts import render

from guanxi.core.errors import GuanxiError


class DomainErrorMiddleware:
    """Pages: a domain error that a view did not handle in place becomes an error page with its status and
    message, never a 500. (The API renders the same errors as JSON in guanxi.api.)"""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, GuanxiError) and not request.path.startswith("/api/"):
            return render(request, "web/error.html", {"error": exception}, status=exception.status)
        return None
