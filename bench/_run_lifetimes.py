"""Worker, run by the lifetimes venv's python: lifetimes 0.11.3 on the same file, timed per stage.

    python bench/_run_lifetimes.py FILE CUSTOMER DATE AMOUNT AS_OF FREQ [DATE_FORMAT] [SEP] [MULTIPLIER]

MULTIPLIER 7 with FREQ D gives Fader & Hardie's convention: same-day purchases merged, times in weeks.

The usual lifetimes workflow: pandas reads the CSV, summary_data_from_transaction_data (same-day purchases
merged, monetary value = mean of repeat purchases), BetaGeoFitter and GammaGammaFitter (no penalty) on all
customers, then P(alive), expected purchases in 365 days and a 12-month CLV at 1% a month.
"""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
started = time.perf_counter()

import pandas as pd  # noqa: E402
from _measure import Stages  # noqa: E402
from lifetimes import BetaGeoFitter, GammaGammaFitter  # noqa: E402
from lifetimes.utils import summary_data_from_transaction_data  # noqa: E402


def main() -> None:
    path, customer, date, amount, as_of, freq = sys.argv[1:7]
    date_format = sys.argv[7] if len(sys.argv) > 7 and sys.argv[7] else None
    sep = sys.argv[8] if len(sys.argv) > 8 and sys.argv[8] else ","
    multiplier = int(sys.argv[9]) if len(sys.argv) > 9 else 1
    days_per_unit = multiplier if freq == "D" else 7
    stages = Stages("lifetimes 0.11.3")
    stages.times["import"] = time.perf_counter() - started

    def read() -> pd.DataFrame:
        if sep == "whitespace":
            frame = pd.read_csv(path, sep=r"\s+", dtype={customer: str, date: str})
        else:
            frame = pd.read_csv(path, dtype={customer: str, date: str})
        frame[date] = pd.to_datetime(frame[date], format=date_format)
        return frame

    frame = stages.run("read", read)
    summary = stages.run(
        "summary",
        summary_data_from_transaction_data,
        frame,
        customer,
        date,
        monetary_value_col=amount,
        observation_period_end=as_of,
        freq=freq,
        freq_multiplier=multiplier,
    )
    del frame
    bgf = BetaGeoFitter(penalizer_coef=0.0)
    stages.run("fit_bgnbd", bgf.fit, summary["frequency"], summary["recency"], summary["T"])
    repeat = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]  # as Guanxi: paid repeats
    ggf = GammaGammaFitter(penalizer_coef=0.0)
    stages.run("fit_gamma_gamma", ggf.fit, repeat["frequency"], repeat["monetary_value"])

    def predict() -> float:
        f, r, t, m = summary["frequency"], summary["recency"], summary["T"], summary["monetary_value"]
        summary["p_alive"] = bgf.conditional_probability_alive(f, r, t)
        horizon = 365 / days_per_unit
        summary["purchases"] = bgf.conditional_expected_number_of_purchases_up_to_time(horizon, f, r, t)
        summary["spend"] = ggf.conditional_expected_average_profit(f, m)
        clv_freq = "W" if days_per_unit == 7 else "D"
        clv = ggf.customer_lifetime_value(bgf, f, r, t, m, time=12, discount_rate=0.01, freq=clv_freq)
        return float(clv.sum())

    clv_total = stages.run("predict", predict)
    stages.times["fit"] = stages.times["fit_bgnbd"] + stages.times["fit_gamma_gamma"]
    stages.times["total"] = sum(stages.times[k] for k in ("read", "summary", "fit", "predict"))
    p = bgf.params_
    g = ggf.params_
    stages.report(
        customers=len(summary),
        bgnbd={"r": p["r"], "alpha": p["alpha"], "a": p["a"], "b": p["b"]},
        gamma_gamma={"p": g["p"], "q": g["q"], "v": g["v"]},
        clv_total=clv_total,
    )


if __name__ == "__main__":
    main()
