"""Benchmark: the CDNOW master file (23,570 customers), Guanxi against lifetimes' published and measured values.

    .venv/bin/python bench/bench_cdnow_master.py [--file PATH] [--create-venv]

Reads /work/shared/data/cdnow/CDNOW_master.txt (whitespace-separated, header line: customer_id, date as
YYYYMMDD, number_of_cds, dollar_value), calibration end 1997-09-30, same-day purchases merged, times in weeks.
Prints Guanxi's BG/NBD and Gamma-Gamma parameters and times next to lifetimes' published BG/NBD values
(r 0.2516, alpha 4.789, a 0.7234, b 2.161) and, when lifetimes' venv exists (var/bench/venvs/lifetimes, made
by bench_analyze.py or --create-venv), lifetimes 0.11.3 measured on the same file in the same run.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _peers  # noqa: E402
from bench_analyze import GIB, PYTHON, run_worker, sig3  # noqa: E402

MASTER = Path("/work/shared/data/cdnow/CDNOW_master.txt")
AS_OF = "1997-09-30"
PUBLISHED = {"r": 0.2516, "alpha": 4.789, "a": 0.7234, "b": 2.161}  # lifetimes, CDNOW master, weeks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, default=MASTER)
    parser.add_argument("--create-venv", action="store_true", help="create lifetimes' venv if it is missing")
    args = parser.parse_args(argv)
    if not args.file.is_file():
        print(f"FAILED: {args.file} not found")
        return 1
    common = [str(args.file), "customer_id", "date", "dollar_value", AS_OF]
    print(f"data: {args.file}, calibration end {AS_OF}, times in weeks")
    ours = run_worker(PYTHON, "_run_guanxi.py", [*common, "W", "duckdb", "%Y%m%d"], "guanxi")
    if ours is None:
        return 1
    reports = [ours]
    python = _peers.python_of("lifetimes")
    if args.create_venv:
        made, reason = _peers.ensure_venv("lifetimes")
        if made is None:
            print(f"lifetimes: {reason}")
    lifetimes = None
    if python.exists() and (python.parent.parent / ".installed").exists():
        lifetimes = run_worker(
            str(python), "_run_lifetimes.py", [*common, "D", "%Y%m%d", "whitespace", "7"], "lifetimes"
        )
        if lifetimes is not None:
            reports.append(lifetimes)
    else:
        print("lifetimes: no venv under var/bench/venvs (run bench_analyze.py or pass --create-venv)")

    print()
    print(f"{'':<28} {'r':>8} {'alpha':>8} {'a':>8} {'b':>8} {'p':>8} {'q':>8} {'v':>8} {'total s':>8} {'peak GiB':>9}")
    print(f"{'lifetimes, published':<28} " + " ".join(f"{PUBLISHED[k]:>8.4f}" for k in PUBLISHED))
    for r in reports:
        b, g = r["bgnbd"], r["gamma_gamma"]
        values = [b["r"], b["alpha"], b["a"], b["b"], g["p"], g["q"], g["v"]]
        print(
            f"{r['tool']:<28} "
            + " ".join(f"{v:>8.4f}" for v in values)
            + f" {r['times']['total']:>8.2f} {r['peak_rss'] / GIB:>9.2f}"
        )
    print()
    print(
        f"guanxi: {ours['customers']:,} customers, stages "
        + ", ".join(f"{k} {v:.2f} s" for k, v in ours["times"].items())
    )
    failures = []
    equal = {k: sig3(ours["bgnbd"][k]) == sig3(PUBLISHED[k]) for k in PUBLISHED}
    print(f"equal to lifetimes' published values to 3 significant digits: {equal}")
    if not all(equal.values()):
        failures.append("BG/NBD differs from lifetimes' published values")
    if lifetimes is not None:
        measured = {k: sig3(ours["bgnbd"][k]) == sig3(lifetimes["bgnbd"][k]) for k in PUBLISHED}
        print(f"equal to lifetimes measured here to 3 significant digits: {measured}")
        print("lifetimes stages: " + ", ".join(f"{k} {v:.2f} s" for k, v in lifetimes["times"].items()))
        if not all(measured.values()):
            failures.append("BG/NBD differs from lifetimes' measured values")
    for failure in failures:
        print(f"FAILED: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
