"""Worker, run by the pymc-marketing venv's python: pymc-marketing 0.19.2 with MAP fits, timed per stage.

    python bench/_run_pymc_marketing.py FILE CUSTOMER DATE AMOUNT AS_OF FREQ

pandas reads the CSV, clv.utils.rfm_summary, BetaGeoModel and GammaGammaModel fitted by MAP (default
priors), then P(alive), expected purchases in 365 days and a 12-month CLV at 1% a month.
"""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
started = time.perf_counter()

import pandas as pd  # noqa: E402
from _measure import Stages  # noqa: E402
from pymc_marketing.clv import BetaGeoModel, GammaGammaModel  # noqa: E402
from pymc_marketing.clv.utils import customer_lifetime_value, rfm_summary  # noqa: E402


def main() -> None:
    path, customer, date, amount, as_of, freq = sys.argv[1:7]
    stages = Stages("pymc-marketing 0.19.2 (MAP)")
    stages.times["import"] = time.perf_counter() - started

    def read() -> pd.DataFrame:
        frame = pd.read_csv(path, dtype={customer: str, date: str})
        frame[date] = pd.to_datetime(frame[date])
        return frame

    frame = stages.run("read", read)
    summary = stages.run(
        "summary",
        rfm_summary,
        frame,
        customer,
        date,
        monetary_value_col=amount,
        observation_period_end=as_of,
        time_unit=freq,
    )
    del frame
    bg = BetaGeoModel(data=summary[["customer_id", "frequency", "recency", "T"]])
    stages.run("fit_bgnbd", bg.fit, method="map", progressbar=False)
    repeat = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]  # as Guanxi: paid repeats
    gg = GammaGammaModel(data=repeat[["customer_id", "frequency", "monetary_value"]])
    stages.run("fit_gamma_gamma", gg.fit, method="map", progressbar=False)

    def predict() -> float:
        summary["p_alive"] = bg.expected_probability_alive(data=summary).mean(("chain", "draw")).values
        horizon = 365 if freq == "D" else 365 / 7
        summary["purchases"] = bg.expected_purchases(data=summary, future_t=horizon).mean(("chain", "draw")).values
        spend = gg.expected_customer_spend(data=summary).mean(("chain", "draw")).values
        data = summary.assign(future_spend=spend)
        clv = customer_lifetime_value(bg, data, future_t=12, discount_rate=0.01, time_unit=freq)
        return float(clv.mean(("chain", "draw")).sum())

    clv_total = stages.run("predict", predict)
    stages.times["fit"] = stages.times["fit_bgnbd"] + stages.times["fit_gamma_gamma"]
    stages.times["total"] = sum(stages.times[k] for k in ("read", "summary", "fit", "predict"))

    def posterior(model, names):  # type: ignore[no-untyped-def]
        return {n: float(model.fit_result[n].mean()) for n in names}

    stages.report(
        customers=len(summary),
        bgnbd=posterior(bg, ("r", "alpha", "a", "b")),
        gamma_gamma=posterior(gg, ("p", "q", "v")),
        clv_total=clv_total,
    )


if __name__ == "__main__":
    main()
