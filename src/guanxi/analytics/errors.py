"""Errors raised by ``guanxi.analytics``.

The analytics package cannot import ``guanxi.core`` (it stays framework-free), so callers translate these
into domain errors: the CLI prints the message, a scoring job records it, the API renders it as a 422.
"""

from collections.abc import Sequence


class AnalyticsInputError(ValueError):
    """Input the analytics cannot use (empty file, missing column, bad amount or date, degenerate data).

    ``problems`` lists every independent problem found, so a user can fix a file in one pass; ``message``
    (and ``str()``) joins them into one readable paragraph.
    """

    code = "analytics_input_invalid"

    def __init__(self, message: str, *, problems: Sequence[str] = ()) -> None:
        self.problems: tuple[str, ...] = tuple(problems) or (message,)
        self.message = message
        super().__init__(message)
