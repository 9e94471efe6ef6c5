from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SearchConfig(AppConfig):
    """The search index DDL on PostgreSQL (a CJK bigram GIN index beside customers' trigram index). No models."""

    name = "guanxi.search"
    label = "search"
    verbose_name = _("Search")
