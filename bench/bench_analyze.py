"""Benchmark: `guanxi analyze`'s pipeline on 1,000,000 synthetic customers (~9.9M transactions, CSV), with peers.

    .venv/bin/python bench/bench_analyze.py [--customers N] [--skip-peers] [--spark] [--format csv|parquet]

Generates (or reuses) the seeded BG/NBD file of bench/generate.py under var/bench/, then runs, each in its own
process and one after the other, so that each has the machine's 2 cores to itself:

* Guanxi (this checkout's venv): guanxi.analytics.pipeline.run_file on DuckDB: read + summary in one scan,
  BG/NBD and Gamma-Gamma fits, P(alive), expected purchases (365 days), 12-month CLV, RFM, tiers; in days;
* lifetimes 0.11.3 and pymc-marketing 0.19.2 (MAP), each in its own venv under var/bench/venvs (created on
  first use with python3 -m venv + pip); a peer that cannot be installed is reported and skipped;
* with --spark, the same pipeline with the summary on PySpark in local mode.

For each: wall time per stage (read, summary, fit, predict; "total" excludes interpreter start-up and imports,
shown apart), peak RSS (VmHWM of the process), fitted parameters. Checks: Guanxi's BG/NBD parameters equal
lifetimes' to 3 significant digits, and are within 5% of the generating values. The machine's load average is
printed: other processes sharing the 2 cores slow every tool alike.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _peers  # noqa: E402
import generate  # noqa: E402

PYTHON = sys.executable
GIB = 1024**3


def run_worker(python: str, script: str, args: list[str], label: str) -> dict | None:
    """Run a worker process; return its JSON report with ``wall`` (process wall time) added, or None."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        process = subprocess.Popen([python, str(HERE / script), *args], stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        lines = [line for line in out.read().splitlines() if line.startswith("{")]
        if process.returncode != 0 or not lines:
            tail = err.read().strip().splitlines()[-3:]
            print(f"  {label}: FAILED (exit {process.returncode}): {' | '.join(tail)}")
            return None
    report = json.loads(lines[-1])
    report["wall"] = wall
    report["peak_rss"] = max(report.get("peak_rss", 0), usage.ru_maxrss * 1024)
    return report


def sig3(value: float) -> str:
    return f"{value:.3g}"


def print_table(reports: list[dict], generating: dict[str, float]) -> None:
    header = (
        f"{'tool':<30} {'total s':>8} {'summary':>8} {'fit':>7} {'predict':>8} {'peak GiB':>9} {'process s':>10}"
        f"  {'r':>7} {'alpha':>8} {'a':>7} {'b':>7}"
    )
    print(header)
    print("-" * len(header))
    for r in reports:
        t = r["times"]
        summary = t.get("summary", 0.0) + t.get("read", 0.0) + t.get("open", 0.0)  # reading the file included
        predict = t.get("predict", 0.0) + t.get("rfm", 0.0) + t.get("tiers", 0.0)
        p = r["bgnbd"]
        print(
            f"{r['tool']:<30} {t['total']:>8.2f} {summary:>8.2f} {t['fit']:>7.2f} {predict:>8.2f}"
            f" {r['peak_rss'] / GIB:>9.2f} {r['wall']:>10.2f}  {p['r']:>7.4f} {p['alpha']:>8.4f} {p['a']:>7.4f}"
            f" {p['b']:>7.4f}"
        )
    g = generating
    print(
        f"{'generating values':<30} {'':>8} {'':>8} {'':>7} {'':>8} {'':>9} {'':>10}  {g['r']:>7.4f}"
        f" {g['alpha']:>8.4f} {g['a']:>7.4f} {g['b']:>7.4f}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--skip-peers", action="store_true", help="only Guanxi")
    parser.add_argument("--spark", action="store_true", help="also run the pipeline with the summary on PySpark")
    parser.add_argument("--format", choices=["csv", "parquet"], default="csv")
    parser.add_argument("--directory", type=Path, default=generate.DEFAULT_DIR)
    parser.add_argument("--json", type=Path, help="also write the reports to this file")
    args = parser.parse_args(argv)

    path = generate.generate(args.directory, args.customers, args.format)
    meta = json.loads((args.directory / f"bgnbd_{args.customers}.json").read_text())
    print(
        f"data: {path} ({meta['customers']:,} customers, {meta.get('rows', 0):,} transactions, as of {meta['as_of']})"
    )
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} before the runs")
    common = [str(path), "customer_id", "date", "amount", meta["as_of"], "D"]
    reports: list[dict] = []
    notes: list[str] = []

    print("running guanxi (duckdb) ...", flush=True)
    ours = run_worker(PYTHON, "_run_guanxi.py", common, "guanxi")
    if ours is None:
        return 1
    ours["tool"] = "guanxi (DuckDB)"
    reports.append(ours)
    if args.spark:
        print("running guanxi (spark, local[2]) ...", flush=True)
        spark = run_worker(PYTHON, "_run_guanxi.py", [*common, "spark"], "guanxi spark")
        if spark is not None:
            spark["tool"] = "guanxi (PySpark local)"
            reports.append(spark)
            same = all(sig3(spark["bgnbd"][k]) == sig3(ours["bgnbd"][k]) for k in ours["bgnbd"])
            notes.append(f"Spark and DuckDB parameters equal to 3 significant digits: {same}")

    lifetimes = pymc = None
    if not args.skip_peers and args.format == "csv":
        for peer, script in (("lifetimes", "_run_lifetimes.py"), ("pymc-marketing", "_run_pymc_marketing.py")):
            python, reason = _peers.ensure_venv(peer)
            if python is None:
                notes.append(f"{peer}: not run, {reason}")
                print(f"  {peer}: {reason}")
                continue
            if peer == "pymc-marketing":  # PyTensor compiles its C code on first use: warm its cache first
                small = generate.generate(args.directory, 2_000, "csv")
                run_worker(str(python), script, [str(small), *common[1:]], f"{peer} warm-up")
            print(f"running {peer} ...", flush=True)
            report = run_worker(str(python), script, common, peer)
            if report is None:
                notes.append(f"{peer}: failed, see the output above")
                continue
            reports.append(report)
            if peer == "lifetimes":
                lifetimes = report
            else:
                pymc = report
    print(f"load average after the runs: {os.getloadavg()[0]:.2f}")
    print()
    generating = meta["bgnbd_days"]
    print_table(reports, generating)
    print()
    print(
        "total = read + summary + fit + predict (Guanxi: opening the file, the one-scan summary, fits, predictions,"
        " RFM, tiers and diagnostics); process = the worker's wall time including interpreter start-up and imports;"
        " peak = VmHWM of the worker."
    )
    t = ours["times"]
    print("guanxi stages: " + ", ".join(f"{k} {v:.2f} s" for k, v in t.items() if k not in ("pipeline", "total")))
    failures = []
    within = {k: abs(ours["bgnbd"][k] / generating[k] - 1) for k in generating}
    ok = all(v <= 0.05 for v in within.values())
    print(
        "guanxi vs generating values: "
        + ", ".join(f"{k} {ours['bgnbd'][k]:.4g} vs {generating[k]} ({v:+.1%})" for k, v in within.items())
        + (" -- within 5%" if ok else " -- NOT within 5%")
    )
    if not ok:
        failures.append("parameters not within 5% of the generating values")
    if lifetimes is not None:
        equal = {k: sig3(ours["bgnbd"][k]) == sig3(lifetimes["bgnbd"][k]) for k in ours["bgnbd"]}
        gg_equal = {k: sig3(ours["gamma_gamma"][k]) == sig3(lifetimes["gamma_gamma"][k]) for k in ours["gamma_gamma"]}
        print(f"BG/NBD parameters equal to lifetimes' to 3 significant digits: {equal}")
        print(f"Gamma-Gamma parameters equal to lifetimes' to 3 significant digits: {gg_equal}")
        if not (all(equal.values()) and all(gg_equal.values())):
            failures.append("parameters differ from lifetimes' at 3 significant digits")
        print(f"speed-up over lifetimes (total): {lifetimes['times']['total'] / t['total']:.1f}x")
    if lifetimes is not None and pymc is not None and args.customers < 10_000_000:
        # The issue's 5 s stands for 9x lifetimes' 46 s and 5x pymc-marketing's 27 s on an idle machine of this
        # class; measured in the same run, the ratios do not depend on how busy the shared machine is.
        ratios = (lifetimes["times"]["total"] / t["total"], pymc["times"]["total"] / t["total"])
        print(
            f"goal relative to the peers in this run (9x lifetimes, 5x pymc-marketing): {ratios[0]:.1f}x and"
            f" {ratios[1]:.1f}x -> {'met' if ratios[0] >= 9 and ratios[1] >= 5 else 'NOT met'}"
        )
    if args.customers >= 10_000_000:
        goal, wording = t["total"] < 60, "under 60 s for 10M customers"
    else:
        goal, wording = t["total"] < 5 and ours["peak_rss"] < 1.5 * GIB, "under 5 s and 1.5 GiB for 1M customers"
    print(
        f"goal ({wording}): total {t['total']:.2f} s, peak {ours['peak_rss'] / GIB:.2f}"
        f" GiB -> {'met' if goal else 'NOT met'}"
    )
    for note in notes:
        print(note)
    if args.json is not None:
        args.json.write_text(json.dumps({"data": meta, "reports": reports, "notes": notes}, indent=2) + "\n")
    for failure in failures:
        print(f"FAILED: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
