"""Seasonal naive forecast, the same weekday one week earlier (the baseline)."""


class SeasonalNaive:
    def fit(self, X, y):
        return self

    def predict(self, X):
        return X["sales_lag_7"].to_numpy()


def build():
    return SeasonalNaive()
