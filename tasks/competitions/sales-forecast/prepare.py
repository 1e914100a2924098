"""Trusted data preparation of sales-forecast; never copied into the agent's workspace.

    python prepare.py OUT --secret-file FILE   # writes OUT/public/train.csv, OUT/public/dev.csv, OUT/hidden/test.csv

A simulation of daily sales of 12 stores over four years (trend, weekly and yearly seasonality,
promotions, holidays, autocorrelated noise), every draw from the data secret in FILE (256 bits, made
per benchmark by the scorer and kept outside every workspace: no small seed to search). Rows are
days; the features are known a week ahead (calendar, promotion and holiday flags, sales 7 to 35 days
back), the target is the day's sales. Split by time: the first years train, then dev, and the last
months are the hidden test.

No row's features may hold another scored row's target: a sales lag of a test day 7 days later would
be this day's hidden sales. So in the dev and test periods only one week in six of each store is
scored (weeks staggered over the stores); the days between them appear only as lags, never as rows.
Lags reach back at most 35 days, so a scored day's lags never land in another scored week of its store.
"""
import os

import numpy as np
import pandas as pd

import lab_secret

STORES = 12
DAYS = 4 * 365
LAGS = (7, 14, 21, 28, 35)
FRACTIONS = {"train": 0.6, "dev": 0.15, "test": 0.25}
# One scored week in SCORED_EVERY: past the longest lag (35 days = 5 weeks) to the next scored week.
SCORED_EVERY = 6
assert SCORED_EVERY * 7 > max(LAGS)


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


def scored_weeks(part, start):
    """Rows of one store-week in SCORED_EVERY, the week index counted from the period's start and staggered by store."""
    week = (part["day"] - start) // 7
    return part[(week + part["store"]) % SCORED_EVERY == 0]


def main():
    out, seed = lab_secret.arguments()
    rng = np.random.default_rng(seed)
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
        if name != "train":
            part = scored_weeks(part, start)
        folder = os.path.join(out, "hidden" if name == "test" else "public")
        os.makedirs(folder, exist_ok=True)
        part.to_csv(os.path.join(folder, f"{name}.csv"), index=False)
        start = end


if __name__ == "__main__":
    main()
