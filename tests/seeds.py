"""Put back the rows the data migrations seed, after a transactional test's flush removed them.

A transactional test (threads with their own connections, the browser tests' live server) ends with a flush of
every table, which also removes what the data migrations wrote: stage definitions, cadence policies, the default
playbooks, ticket categories and queue, SLA calendar and policies, default surveys, membership tiers, the sales
pipeline, default offers. The next transactional test would start without them. ``restore_defaults`` runs those
migrations' forward functions again (each is a get_or_create, so running them on a full database changes nothing),
in dependency order, against the current models.
"""

import importlib

from django.apps import apps
from django.db.migrations import RunPython

SEEDING_MIGRATIONS = (
    "guanxi.automation.migrations.0002_default_playbooks",
    "guanxi.followups.migrations.0002_default_policies",
    "guanxi.lifecycle.migrations.0002_default_stages",
    "guanxi.tickets.migrations.0002_default_categories",
    "guanxi.sla.migrations.0002_default_calendar_and_policies",
    "guanxi.surveys.migrations.0002_default_surveys",
    "guanxi.loyalty.migrations.0002_default_tiers",
    "guanxi.deals.migrations.0002_defaults",
    "guanxi.offers.migrations.0002_default_offers",
)


def restore_defaults() -> None:
    for path in SEEDING_MIGRATIONS:
        for operation in importlib.import_module(path).Migration.operations:
            if isinstance(operation, RunPython):
                operation.code(apps, None)


def flushed() -> bool:
    """True when the seeded rows are gone (a flush removes them all at once)."""
    return not apps.get_model("lifecycle", "StageDefinition").objects.exists()
