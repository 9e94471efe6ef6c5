"""Fixtures for the analytics tests: the CDNOW sample (see tests/data/README.md), read once per session."""

from pathlib import Path

import pandas as pd
import pytest

from guanxi.analytics import engine

CDNOW_PATH = Path(__file__).resolve().parents[1] / "data" / "CDNOW_sample.txt"
CDNOW_COLUMNS = ["master_id", "customer", "date", "cds", "amount"]
CALIBRATION_END = "1997-09-30"  # end of week 39 (FHL 2005)
HOLDOUT_END = "1998-06-30"  # end of week 78


@pytest.fixture(scope="session")
def cdnow_frame() -> pd.DataFrame:
    """The raw CDNOW sample parsed by pandas alone (an independent reader for cross-checks)."""
    frame = pd.read_csv(CDNOW_PATH, sep=r"\s+", header=None, names=CDNOW_COLUMNS, dtype={"customer": str})
    frame["purchased_at"] = pd.to_datetime(frame["date"].astype(str), format="%Y%m%d")
    return frame


@pytest.fixture(scope="session")
def cdnow_transactions():
    return engine.read_transactions(CDNOW_PATH, "customer", "date", "amount", "%Y%m%d", column_names=CDNOW_COLUMNS)


@pytest.fixture(scope="session")
def cdnow_summary(cdnow_transactions) -> pd.DataFrame:
    """Per-customer summary at the FHL calibration end: same-day purchases merged, times in weeks."""
    return engine.summary_frame(cdnow_transactions, as_of=CALIBRATION_END, unit="W", period="D")
