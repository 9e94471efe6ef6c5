"""`guanxi analyze` as a user runs it: the installed console script in a subprocess, no Django, no database."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

GUANXI = str(Path(sys.executable).with_name("guanxi"))
CDNOW = Path(__file__).resolve().parent / "data" / "CDNOW_sample.txt"
CDNOW_ARGS = [
    str(CDNOW),
    "--column-names",
    "master_id,customer,date,cds,amount",
    "--customer-col",
    "customer",
    "--date-col",
    "date",
    "--amount-col",
    "amount",
    "--date-format",
    "%Y%m%d",
    "--as-of",
    "1997-09-30",
    "--unit",
    "week",
]
# Fader, Hardie & Lee (2005) and (2005b): CDNOW sample, calibration weeks 1-39.
PUBLISHED = {
    "bgnbd": {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426},
    "gamma_gamma": {"p": 6.25, "q": 3.74, "v": 15.44},
}


def analyze(*args: str) -> subprocess.Popen:
    # No DJANGO_SETTINGS_MODULE and no database: analyze must not need them.
    env = {"PATH": "/usr/bin:/bin", "HOME": str(Path.home()), "DATABASE_URL": "postgres://nobody@127.0.0.1:1/none"}
    return subprocess.Popen(
        [GUANXI, "analyze", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )


def finish(process: subprocess.Popen) -> tuple[int, str, str]:
    stdout, stderr = process.communicate(timeout=300)
    return process.returncode, stdout, stderr


def check_one_line_error(process: subprocess.Popen, pattern: str) -> None:
    code, stdout, stderr = finish(process)
    assert code == 1, stderr
    assert stdout == ""
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert re.search(pattern, lines[0]), lines[0]


ARGS = ["--customer-col", "customer", "--date-col", "day", "--amount-col", "total"]


def test_empty_and_missing_files_exit_1_with_one_line_on_stderr(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    check_one_line_error(analyze(str(empty), *ARGS), r"^error: .*empty\.csv: the file is empty$")
    check_one_line_error(analyze(str(tmp_path / "nope.csv"), *ARGS), r"^error: .*nope\.csv: no such file$")


@pytest.mark.slow
def test_bad_columns_and_amounts_exit_1_with_one_line_on_stderr(tmp_path):
    columns = tmp_path / "columns.csv"
    columns.write_text("customer,day,total\nx,2024-01-01,3\nx,2024-01-05,4\n")
    negative = tmp_path / "negative.csv"
    negative.write_text("customer,day,total\nx,2024-01-01,3\ny,2024-01-02,-4.5\nz,2024-01-02,abc\n")
    # Started together, so that the suite waits for one interpreter start-up, not two.
    missing_column = analyze(str(columns), *ARGS[:4], "--amount-col", "amount")
    bad_amounts = analyze(str(negative), *ARGS, "--json")
    check_one_line_error(
        missing_column, r"^error: .*missing amount column 'amount' \(columns present: 'customer', 'day', 'total'\)$"
    )
    check_one_line_error(
        bad_amounts,
        r"^error: .*missing or non-numeric amount.*'abc'.*; 1 row\(s\) have a negative amount.*'-4\.5'",
    )


@pytest.mark.slow
def test_cdnow_json_and_html_report(tmp_path):
    report = tmp_path / "report.html"
    code, stdout, stderr = finish(analyze(*CDNOW_ARGS, "--json", "--html", str(report)))
    assert code == 0, stderr
    data = json.loads(stdout)  # exactly one JSON object on stdout
    assert data["customers"] == 2357
    for model, published in PUBLISHED.items():
        for name, value in published.items():
            assert data[model][name] == pytest.approx(value, rel=0.01), (model, name)
        assert set(data[model]["standard_errors"]) == set(published)
        assert all(0 < se < 10 for se in data[model]["standard_errors"].values())
    assert data["bgnbd"]["log_likelihood"] == pytest.approx(-9582.4, abs=0.1)
    assert data["gamma_gamma"]["log_likelihood"] == pytest.approx(-4055.9, abs=0.1)
    assert sum(data["segments"].values()) == 2357
    assert sum(data["tiers"]["abc"].values()) == sum(data["tiers"]["value"].values()) == 2357
    assert data["holdout"]["actual_repeat_purchases"] == 1882

    page = report.read_text(encoding="utf-8")
    scripts = re.findall(r"<script\b[^>]*>", page)
    assert scripts and not any("src=" in tag for tag in scripts)  # everything inline: opens offline
    assert not re.search(r"<(script|link)\b[^>]*(src|href)=[\"']?(https?:)?//", page)
    assert "cdn.plot.ly" not in "".join(scripts)
    for div in ("segment-table", "rfm-grid", "clv-distribution", "cohort-heatmap", "p-alive-matrix"):
        assert f'id="{div}"' in page, div
    for div in ("calibration-histogram", "holdout-cumulative"):
        assert f'id="{div}"' in page, div
    assert "Plotly.newPlot" in page and "Champions" in page


@pytest.mark.slow
def test_readable_summary_without_json(tmp_path):
    code, stdout, stderr = finish(analyze(*CDNOW_ARGS[:-2], "--unit", "day", "--horizon-days", "90"))
    assert code == 0, stderr
    assert "2,357 customers" in stdout and "946 repeat buyers" in stdout
    assert "BG/NBD" in stdout and "Gamma-Gamma" in stdout and "Champions" in stdout
    assert "Holdout 1997-10-01 to 1998-06-30: 1,882 repeat purchases" in stdout
    assert "30.89" in stdout  # alpha in days: 7 x 4.414
