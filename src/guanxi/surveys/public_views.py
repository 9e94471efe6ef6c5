"""The public survey form reached by a secret link: no login, its own minimal layout, bilingual.

Language: ``?lang=`` (the switch on the page) first, then the customer's recorded language, then the browser's
Accept-Language (LocaleMiddleware). An invalid link is a 404 page, an expired one 410, an answered one 409; none
of them writes anything. The token is in the URL, so pages are never cached and send no Referer.
"""

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods

from guanxi.surveys import services
from guanxi.surveys.errors import AlreadyAnswered, AnswersInvalid, InvitationExpired, InvitationNotFound

LANGUAGES = ("en", "zh-hans")


def _language(request, invitation=None) -> str:
    chosen = request.GET.get("lang") or request.POST.get("lang") or ""
    if chosen in LANGUAGES:
        return chosen
    if invitation is not None and invitation.language in LANGUAGES:
        return invitation.language
    return "zh-hans" if (translation.get_language() or "").lower().startswith("zh") else "en"


def _private(response: HttpResponse) -> HttpResponse:
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _problem(request, template: str, status: int, message: str) -> HttpResponse:
    language = _language(request)
    translation.activate(language)
    return _private(
        render(request, template, {"message": message, "lang": language, "path": request.path}, status=status)
    )


def _questions_with(questions, values, errors):
    rows = []
    for question in questions:
        name = f"q{question.pk}"
        given = values.getlist(name) if hasattr(values, "getlist") else []
        low, high = question.bounds or (0, -1)
        rows.append(
            {
                "q": question,
                "name": name,
                "given": given,
                "first": given[0] if given else "",
                "numbers": [str(n) for n in range(low, high + 1)],
                "choices": question.display_choices(),
                "errors": errors.get(name, []),
            }
        )
    return rows


@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
def form(request, token: str):
    try:
        invitation = services.invitation_for_token(token)
    except InvitationNotFound as exc:
        return _problem(request, "surveys/public/invalid.html", 404, exc.message)
    except InvitationExpired as exc:
        return _problem(request, "surveys/public/expired.html", 410, exc.message)
    except AlreadyAnswered as exc:
        return _problem(request, "surveys/public/answered.html", 409, exc.message)
    language = _language(request, invitation)
    translation.activate(language)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        answers = {key: request.POST.getlist(key) for key in request.POST if key.startswith("q")}
        try:
            services.submit_response(token=token, answers=answers, language=language)
        except AnswersInvalid as exc:
            errors = exc.details
        except AlreadyAnswered as exc:
            return _problem(request, "surveys/public/answered.html", 409, exc.message)
        except InvitationExpired as exc:
            return _problem(request, "surveys/public/expired.html", 410, exc.message)
        except InvitationNotFound as exc:
            return _problem(request, "surveys/public/invalid.html", 404, exc.message)
        else:
            return redirect(f"{reverse('surveys_public:thanks')}?lang={language}")
    survey = invitation.survey
    context = {
        "survey": survey,
        "rows": _questions_with(list(survey.questions.all()), request.POST, errors),
        "errors": errors,
        "lang": language,
        "path": request.path,
        "customer_name": invitation.customer.display_name,
    }
    return _private(render(request, "surveys/public/form.html", context, status=422 if errors else 200))


@never_cache
def thanks(request):
    language = _language(request)
    translation.activate(language)
    return _private(render(request, "surveys/public/thanks.html", {"lang": language, "path": request.path}))
