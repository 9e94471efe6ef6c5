from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from guanxi.core import access


def _link(key: str, label, url_name: str) -> tuple[str, object, str] | None:
    try:
        return key, label, reverse(url_name)
    except NoReverseMatch:  # an app whose pages are not installed
        return None


def _group(key: str, label, links: list) -> tuple[str, object, str, list] | None:
    links = [link for link in links if link is not None]
    if not links:
        return None
    if len(links) == 1:  # a group of one is just that link
        return (*links[0], [])
    return key, label, "", links


def navigation(request):
    """The main menu, filtered by what the user's role may open.

    ``nav_items`` is a list of ``(key, label, url, children)``: a plain link when ``children`` is empty, else a
    drop-down group (``url`` empty) whose children are ``(key, label, url)``. ``key`` is the URL namespace that
    marks the entry as the current section.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    role = access.role_of(user)
    staff = role in (access.ADMIN, access.MANAGER)
    sellers = role in (access.ADMIN, access.MANAGER, access.SALES)
    service_desk = role in (access.ADMIN, access.MANAGER, access.SALES, access.SUPPORT)
    entries = [
        ("dashboard", _("Dashboard"), reverse("web:dashboard"), []),
        ("customers", _("Customers"), reverse("customers:list"), []),
    ]
    if access.can_see_personal_data(user):
        entries.append(("engagement", _("Interactions"), reverse("engagement:recent"), []))
    if sellers:
        entries.append(("followups", _("Follow-ups"), reverse("followups:list"), []))
    groups = [
        _group(
            "sales",
            _("Sales"),
            [
                _link("deals", _("Deals"), "deals:board") if sellers else None,
                _link("deals", _("Leads"), "deals:leads") if sellers else None,
                _link("deals", _("Pipeline analytics"), "deals:analytics") if role != access.SUPPORT else None,
            ],
        ),
        _group(
            "service",
            _("Service"),
            [
                _link("tickets", _("Tickets"), "tickets:list") if service_desk else None,
                _link("sla", _("SLA"), "sla:overview") if service_desk else None,
                _link("surveys", _("Surveys"), "surveys:results"),
                _link("quality", _("Service quality"), "quality:overview") if role != access.SALES else None,
            ],
        ),
        _group(
            "retention",
            _("Retention"),
            [
                _link("loyalty", _("Membership"), "loyalty:overview"),
                _link("offers", _("Offers"), "offers:list") if role != access.SUPPORT else None,
                _link("offers", _("Campaigns and uplift"), "offers:campaigns")
                if role in (access.ADMIN, access.MANAGER, access.ANALYST)
                else None,
            ],
        ),
    ]
    entries += [group for group in groups if group is not None]
    entries.append(("segments", _("Analytics"), reverse("segments:dashboard"), []))
    if role in (access.ADMIN, access.MANAGER, access.ANALYST, access.SALES):
        entries.append(("lifecycle", _("Lifecycle"), reverse("lifecycle:overview"), []))
    if staff:
        entries.append(("duplicates", _("Duplicates"), reverse("customers:duplicates"), []))
        entries.append(("automation", _("Automation"), reverse("automation:rules"), []))
    if access.can_create_customers(user):
        entries.append(("imports", _("Import"), reverse("imports:jobs"), []))
    if user.is_admin:
        entries.append(("admin", _("Administration"), reverse("admin:index"), []))
    match = request.resolver_match
    section = (match.namespace or match.url_name) if match else ""
    group = next((key for key, _l, _u, children in entries if any(child[0] == section for child in children)), "")
    return {"nav_items": entries, "nav_section": section, "nav_group": group, "nav_path": request.path}
