from django.http import HttpRequest

from guanxi.core.context import Origin, origin


def client_ip(request: HttpRequest) -> str | None:
    # Behind a proxy, configure it to overwrite REMOTE_ADDR (e.g. gunicorn --forwarded-allow-ips); a
    # client-supplied X-Forwarded-For is never trusted here because the audit trail must not be forgeable.
    return request.META.get("REMOTE_ADDR") or None


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        via = "api" if request.path.startswith("/api/") else "web"
        with origin(Origin(ip_address=client_ip(request), via=via)):
            return self.get_response(request)
