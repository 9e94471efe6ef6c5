"""Showing a service's domain error on the Django form that sent the data."""

from typing import Any

from guanxi.core.errors import GuanxiError


def add_field_errors(form: Any, exc: GuanxiError) -> bool:
    """Put each detail of ``exc`` that names a field of ``form`` under that field; True if any did.

    The caller decides where the error's own message goes (on top of the form always, or only when no field
    took a detail).
    """
    placed = False
    for name, problems in exc.details.items():
        if name in form.fields and isinstance(problems, list):
            form.add_error(name, problems)
            placed = True
    return placed
