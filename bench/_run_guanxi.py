"""Worker: Guanxi's pipeline on a transactions file, timed per stage (run by bench_analyze.py / bench_cdnow_master.py).

python bench/_run_guanxi.py FILE CUSTOMER DATE AMOUNT AS_OF UNIT [ENGINE] [DATE_FORMAT]
"""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
started = time.perf_counter()

from _measure import Stages  # noqa: E402

from guanxi.analytics import btyd, engine, pipeline  # noqa: E402


def main() -> None:
    path, customer, date, amount, as_of, unit = sys.argv[1:7]
    engine_name = sys.argv[7] if len(sys.argv) > 7 else "duckdb"
    date_format = sys.argv[8] if len(sys.argv) > 8 and sys.argv[8] else None
    stages = Stages("guanxi")
    stages.times["import"] = time.perf_counter() - started
    spark = engine.spark_session(driver_memory="4g") if engine_name == "spark" else None
    result, _ = stages.run(
        "pipeline",
        pipeline.run_file,
        path,
        customer,
        date,
        amount,
        date_format,
        engine_name=engine_name,
        spark=spark,
        as_of=as_of or None,
        unit=unit,
        horizon_days=365,
    )
    for name, seconds in result.timings.items():
        stages.times[name] = seconds
    stages.report(
        customers=len(result.customers),
        compressed_rows=result.compressed_rows,
        bgnbd=btyd.params_dict(result.bgnbd.params),
        bgnbd_ll=result.bgnbd.log_likelihood,
        gamma_gamma=btyd.params_dict(result.gamma_gamma.params),
        clv_total=float(result.customers["clv"].sum()),
        segments=result.segment_counts,
    )
    if spark is not None:
        spark.stop()


if __name__ == "__main__":
    main()
