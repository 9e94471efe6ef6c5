"""The public help desk: the ticket form at /help/ (no login) and the requester's status page at
/help/t/<token>/ (public replies only, never internal notes; the requester may reply).

Only the SHA-256 of the status token is stored. An unknown token is a 404 page and writes nothing. Language:
``?lang=`` first, then the browser's (LocaleMiddleware). Pages that carry the token are never cached and send
no Referer.
"""

from django import forms
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods

from guanxi.core.errors import GuanxiError
from guanxi.core.forms import add_field_errors
from guanxi.tickets import selectors, services
from guanxi.tickets.models import TicketCategory

LANGUAGES = ("en", "zh-hans")


class PublicTicketForm(forms.Form):
    name = forms.CharField(label=_("Your name"), max_length=120)
    email = forms.EmailField(label=_("E-mail"), max_length=254)
    phone = forms.CharField(label=_("Phone (optional)"), max_length=40, required=False)
    subject = forms.CharField(label=_("Subject"), max_length=200)
    description = forms.CharField(label=_("How can we help?"), max_length=20_000, widget=forms.Textarea)
    category = forms.ChoiceField(label=_("Category"))
    attachment = forms.FileField(label=_("Attachment (optional)"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [
            (c.key, c.display_name) for c in TicketCategory.objects.filter(active=True).order_by("order", "key")
        ]


class PublicReplyForm(forms.Form):
    body = forms.CharField(label=_("Your reply"), max_length=20_000, widget=forms.Textarea)


def _language(request) -> str:
    chosen = request.GET.get("lang") or request.POST.get("lang") or ""
    if chosen in LANGUAGES:
        translation.activate(chosen)
        return chosen
    return "zh-hans" if (translation.get_language() or "").lower().startswith("zh") else "en"


def _private(response: HttpResponse) -> HttpResponse:
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Cache-Control"] = "no-store"
    return response


@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
def ticket_form(request):
    lang = _language(request)
    form = PublicTicketForm(request.POST or None, request.FILES or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        files = [data["attachment"]] if data.get("attachment") else []
        try:
            _ticket, token = services.create_public_ticket(data=data, files=files)
        except GuanxiError as exc:
            if not add_field_errors(form, exc):
                error = exc.message
        else:
            return redirect(reverse("tickets_public:status", args=[token]) + f"?lang={lang}&created=1")
    status = 422 if request.method == "POST" else 200
    context = {"form": form, "error": error, "lang": lang, "path": request.path}
    return _private(render(request, "tickets/public/form.html", context, status=status))


@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
def status_page(request, token: str):
    lang = _language(request)
    ticket = selectors.ticket_by_token(token)
    if ticket is None:
        context = {"lang": lang, "path": request.path}
        return _private(render(request, "tickets/public/invalid.html", context, status=404))
    form = PublicReplyForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            services.customer_reply(ticket_id=ticket.pk, body=form.cleaned_data["body"])
        except GuanxiError as exc:
            if not add_field_errors(form, exc):
                error = exc.message
        else:
            return redirect(request.path + f"?lang={lang}")
    context = {
        "ticket": ticket,
        "messages": selectors.messages(ticket, public_only=True),
        "form": form,
        "error": error,
        "created": request.GET.get("created") == "1",
        "lang": lang,
        "path": request.path,
    }
    status = 422 if request.method == "POST" else 200
    return _private(render(request, "tickets/public/status.html", context, status=status))
