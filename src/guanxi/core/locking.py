"""Optimistic locking: every editable record carries a ``version``; a stale write is a ``StaleVersion``."""

from django.db import models
from django.utils.translation import gettext as _

from guanxi.core.errors import StaleVersion


class VersionedModel(models.Model):
    version = models.PositiveIntegerField(default=1)

    class Meta:
        abstract = True


def check_version(instance: VersionedModel, expected: int | None) -> None:
    """Refuse the write unless the caller saw the version that is stored now.

    The caller must have fetched ``instance`` with ``select_for_update()`` in its transaction, so no other
    writer can slip in between this check and the save (on SQLite, IMMEDIATE transactions serialise writers).
    """
    if expected is None:
        raise StaleVersion(_("The version of the record you edited is required."), expected=None)
    if instance.version != expected:
        raise StaleVersion(
            _(
                "Someone else changed this record (now version %(current)s, you edited version %(expected)s). "
                "Reload it and apply your change again."
            )
            % {"current": instance.version, "expected": expected},
            current=instance.version,
            expected=expected,
        )


def bump_version(instance: VersionedModel) -> None:
    instance.version += 1
