"""Write a seeded synthetic transaction log drawn from BG/NBD and Gamma-Gamma processes with known parameters.

    .venv/bin/python bench/generate.py [DIR] [--customers N] [--format csv|parquet] [--seed S]

writes ``DIR/bgnbd_<N>.<csv|parquet>`` (default DIR ``var/bench/``, which git ignores) with the columns
``customer_id,date,amount`` and ``DIR/bgnbd_<N>.json`` with the generating parameters and the calibration end.
The same N and seed always give the same file; an existing file with the same parameters is reused.

The process, in days: customers are acquired uniformly over 2023 (first purchase on day f in [0, 365)), and
observed until ``as_of`` = 2024-12-31, so T = 730 - f days. (x, t_x) come from
``guanxi.analytics.simulate.simulate_bgnbd_summary`` (BG/NBD, Fader, Hardie & Lee 2005); t_x is rounded to
whole days. Given the x-th repeat purchase at t_x, the x - 1 earlier ones are uniform order statistics on
(0, t_x) (that is how they were drawn); they are placed on distinct whole days, so a customer buys at most
once a day and a day-level summary recovers exactly the simulated (x, t_x, T). Amounts follow Gamma-Gamma
(Fader, Hardie & Lee 2005b): nu ~ Gamma(q, rate v) per customer, each amount ~ Gamma(p, rate nu), in cents.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from guanxi.analytics.btyd import BGNBDParams
from guanxi.analytics.simulate import simulate_bgnbd_summary

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DIR = ROOT / "var" / "bench"
BGNBD = BGNBDParams(r=0.95, alpha=30.0, a=0.6, b=5.0)  # alpha in days; ~9.8 purchase days per customer
GAMMA_GAMMA = {"p": 6.0, "q": 4.0, "v": 15.0}
START = dt.date(2023, 1, 1)
AS_OF = dt.date(2024, 12, 31)  # START + 730 days
ACQUISITION_DAYS = 365
CHUNK = 1_000_000


def _chunk(first_id: int, n: int, seed: int) -> pa.Table:
    rng = np.random.default_rng([seed, first_id])
    horizon = (AS_OF - START).days
    first_day = rng.integers(0, ACQUISITION_DAYS, size=n)
    T = (horizon - first_day).astype(np.float64)
    summary = simulate_bgnbd_summary(BGNBD, T, seed=int(rng.integers(2**31)))
    x = np.minimum(summary["frequency"].to_numpy(), T.astype(np.int64))
    t_x = np.where(x > 0, np.clip(np.round(summary["recency"].to_numpy()), x, T), 0).astype(np.int64)

    # Rows per customer: the first purchase, x - 1 intermediate days, the last repeat purchase (x > 0).
    counts = x + 1
    customer = np.repeat(np.arange(n), counts)
    start_of = np.cumsum(counts) - counts
    position = np.arange(len(customer)) - start_of[customer]  # 0 .. x within a customer
    x_row, tx_row = x[customer], t_x[customer]
    # x - 1 distinct days in [1, t_x - 1]: draws v in [0, t_x - x] sorted within each customer, plus their rank.
    offset = np.zeros(len(customer), dtype=np.int64)
    last = (position == x_row) & (x_row > 0)
    offset[last] = tx_row[last]
    middle = np.flatnonzero((position > 0) & (position < x_row))
    draws = np.floor(rng.random(len(middle)) * (tx_row[middle] - x_row[middle] + 1)).astype(np.int64)
    block = customer[middle].astype(np.int64) * (horizon + 1)  # middle rows are grouped by customer already
    offset[middle] = np.sort(block + draws) - block + position[middle]

    nu = rng.gamma(GAMMA_GAMMA["q"], 1.0 / GAMMA_GAMMA["v"], size=n)
    amount = np.maximum(np.round(rng.gamma(GAMMA_GAMMA["p"], 1.0 / nu[customer]), 2), 0.01)
    day = (first_day[customer] + offset).astype("int32") + (START - dt.date(1970, 1, 1)).days
    digits = pc.utf8_lpad(pa.array(first_id + customer).cast(pa.string()), 8, "0")
    ids = pc.binary_join_element_wise("C", digits, "")
    return pa.table(
        {"customer_id": ids, "date": pa.array(day, pa.int32()).cast(pa.date32()), "amount": pa.array(amount)}
    )


def generate(directory: Path, customers: int, file_format: str = "csv", seed: int = 20250101) -> Path:
    """Write (or reuse) the file for ``customers`` customers; return its path."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"bgnbd_{customers}.{file_format}"
    meta_path = directory / f"bgnbd_{customers}.json"
    meta = {
        "customers": customers,
        "seed": seed,
        "bgnbd_days": {"r": BGNBD.r, "alpha": BGNBD.alpha, "a": BGNBD.a, "b": BGNBD.b},
        "gamma_gamma": GAMMA_GAMMA,
        "as_of": AS_OF.isoformat(),
        "columns": ["customer_id", "date", "amount"],
    }
    if path.exists() and meta_path.exists():
        old = json.loads(meta_path.read_text())
        if {k: old.get(k) for k in meta} == meta:
            return path
    tmp = path.with_suffix(path.suffix + ".partial")
    rows = 0
    writer: pacsv.CSVWriter | pq.ParquetWriter | None = None
    try:
        for first in range(0, customers, CHUNK):
            table = _chunk(first, min(CHUNK, customers - first), seed)
            rows += table.num_rows
            if writer is None:
                writer = (
                    pacsv.CSVWriter(str(tmp), table.schema, write_options=pacsv.WriteOptions(quoting_style="none"))
                    if file_format == "csv"
                    else pq.ParquetWriter(str(tmp), table.schema, compression="zstd")
                )
            writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()
    tmp.replace(path)
    meta["rows"] = rows
    meta_path.write_text(json.dumps(meta, indent=2) + "\n")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", nargs="?", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--format", choices=["csv", "parquet"], default="csv")
    parser.add_argument("--seed", type=int, default=20250101)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    path = generate(args.directory, args.customers, args.format, args.seed)
    meta = json.loads(path.with_suffix(".json").read_text()) if path.with_suffix(".json").exists() else {}
    print(f"{path}: {args.customers:,} customers, {meta.get('rows', 0):,} rows ({time.perf_counter() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
