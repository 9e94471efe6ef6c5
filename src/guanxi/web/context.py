from django.urls import reverse
from django.utils.translation import gettext_lazy as _


def navigation(request):
    """The main menu, filtered by what the user's role may open."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    items = [
        ("dashboard", _("Dashboard"), reverse("web:dashboard")),
        ("customers", _("Customers"), reverse("customers:list")),
        ("segments", _("Analytics"), reverse("segments:dashboard")),
    ]
    from guanxi.core import access

    if access.role_of(user) in (access.ADMIN, access.MANAGER, access.SALES):
        items.insert(2, ("followups", _("Follow-ups"), reverse("followups:list")))
    if access.can_see_personal_data(user):
        items.insert(2, ("engagement", _("Interactions"), reverse("engagement:recent")))
    if access.role_of(user) in (access.ADMIN, access.MANAGER, access.ANALYST, access.SALES):
        items.append(("lifecycle", _("Lifecycle"), reverse("lifecycle:overview")))
    if access.role_of(user) in (access.ADMIN, access.MANAGER):
        items.append(("duplicates", _("Duplicates"), reverse("customers:duplicates")))
        items.append(("automation", _("Automation"), reverse("automation:rules")))
    if access.can_create_customers(user):
        items.append(("imports", _("Import"), reverse("imports:jobs")))
    if user.is_admin:
        items.append(("admin", _("Administration"), reverse("admin:index")))
    section = request.resolver_match.namespace if request.resolver_match else ""
    return {
        "nav_items": items,
        "nav_section": section or request.resolver_match.url_name if request.resolver_match else "",
    }
