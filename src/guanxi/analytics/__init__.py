"""Framework-free customer analytics: transaction summaries (Ibis), BTYD models, CLV, RFM and value tiers.

Nothing here imports Django (an import-linter contract enforces it): functions take Ibis tables, pandas
frames or numpy arrays and return the same kinds, so the scoring jobs, the CLI and the benchmarks share them.
See README.md in this package for the references and the figures the tests reproduce.
"""

from guanxi.analytics.errors import AnalyticsInputError

__all__ = ["AnalyticsInputError"]
