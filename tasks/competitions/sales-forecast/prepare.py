"""Trusted data preparation of sales-forecast; never copied into the agent's workspace.

    python prepare.py OUT    # writes OUT/public/train.csv, OUT/public/dev.csv, OUT/hidden/test.csv

Deterministic: a seeded simulation of daily sales of 6 stores over four years (trend, weekly and
yearly seasonality, promotions, holidays, autocorrelated noise). Rows are days; the features are
known a week ahead (calendar, promotion and holiday flags, sales 7 to 35 days back), the target is the
day's sales. Split by time: the first years train, then dev, and the last months are the hidden test.
"""
import os
import sys

import numpy as np
import pandas as pd

SEED = 51966
STORES = 6
DAYS = 4 * 365
LAGS = (7, 14, 21, 28, 35)
FRACTIONS = {"train": 0.6, "dev": 0.15, "test": 0.25}


def store_series(rng, days):
    t = np.arange(days)
    level = rng.uniform(80, 400)
    trend = rng.uniform(-0.1, 0.4) / 365
    weekly = 1 + rng.normal(0, 0.15, 7)
    weekly[rng.integers(0, 7)] += 0.35
    phase = rng.uniform(0, 2 * np.pi)
    yearly = 1 + rng.uniform(0.1, 0.3) * np.sin(2 * np.pi * t / 365.25 + phase)
    promo = (rng.random(days) < 0.12).astype(int)
    holiday = np.zeros(days, dtype=int)
    holiday[rng.choice(days, size=days // 40, replace=False)] = 1
    noise = np.zeros(days)
    for i in range(1, days):
        noise[i] = 0.7 * noise[i - 1] + rng.normal(0, 0.06)
    lift = rng.uniform(0.2, 0.5)
    sales = level * (1 + trend * t) * weekly[t % 7] * yearly * (1 + lift * promo) * (1 - 0.6 * holiday) * np.exp(noise)
    return t, np.round(sales, 2), promo, holiday


def main(out):
    rng = np.random.default_rng(SEED)
    frames = []
    for store in range(STORES):
        t, sales, promo, holiday = store_series(rng, DAYS)
        frame = pd.DataFrame({"day": t, "store": store, "day_of_week": t % 7, "day_of_year": t % 365, "promo": promo, "holiday": holiday})
        for lag in LAGS:
            frame[f"sales_lag_{lag}"] = np.concatenate([np.full(lag, np.nan), sales[:-lag]])
            frame[f"promo_lag_{lag}"] = np.concatenate([np.zeros(lag, dtype=int), promo[:-lag]])
        frame["target"] = sales
        frames.append(frame.iloc[max(LAGS):])
    data = pd.concat(frames).sort_values(["day", "store"]).reset_index(drop=True)
    data.insert(0, "id", rng.choice(10**6, size=len(data), replace=False))
    first_day = data["day"].min()
    span = DAYS - first_day
    start = first_day
    for name, fraction in FRACTIONS.items():
        end = DAYS if name == "test" else start + int(round(span * fraction))
        part = data[(data["day"] >= start) & (data["day"] < end)]
        folder = os.path.join(out, "hidden" if name == "test" else "public")
        os.makedirs(folder, exist_ok=True)
        part.to_csv(os.path.join(folder, f"{name}.csv"), index=False)
        start = end


if __name__ == "__main__":
    main(sys.argv[1])
