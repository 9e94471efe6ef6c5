from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanxi.accounts import selectors, services
from guanxi.accounts.forms import TokenForm
from guanxi.core.errors import GuanxiError


@login_required
def profile(request):
    form = TokenForm(request.POST or None)
    new_token = None
    if request.method == "POST" and form.is_valid():
        _record, new_token = services.create_api_token(user=request.user, name=form.cleaned_data["name"])
        messages.success(request, _("Token created. Copy it now: it will not be shown again."))
        form = TokenForm()
    return render(
        request,
        "accounts/profile.html",
        {"form": form, "tokens": selectors.user_tokens(request.user), "new_token": new_token},
    )


@login_required
@require_POST
def revoke_token(request, token_id: int):
    try:
        services.revoke_api_token(user=request.user, token_id=token_id)
        messages.success(request, _("Token revoked."))
    except GuanxiError as exc:
        messages.error(request, exc.message)
    return redirect("profile")
