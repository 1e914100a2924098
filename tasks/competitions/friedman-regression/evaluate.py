"""Trusted evaluator of friedman-regression: root mean squared error of the predictions (lower is better).

    python evaluate.py --predictions predictions.csv --labels labels.csv [--decoy decoy.csv]

Prints one JSON line, {"metric", "score", "rows"} (plus "decoyScore" against the decoy labels), or
{"error"} with exit code 2 when the predictions are unusable. The scorer runs its own copy of this
file in a folder holding no agent code; run.py imports metric() from the workspace copy for dev.
"""
import argparse
import json
import sys

import numpy as np
import pandas as pd

METRIC = "rmse"


def metric(y_true, y_pred):
    return float(np.sqrt(np.mean((np.asarray(y_true, dtype=float) - np.asarray(y_pred, dtype=float)) ** 2)))


def aligned(predictions, labels_file):
    """The labels and the predictions in the labels' order; refuses missing, duplicated or non-numeric ones."""
    labels = pd.read_csv(labels_file)
    pred = pd.read_csv(predictions)
    if list(pred.columns) != ["id", "prediction"]:
        raise ValueError(f"predictions.csv must have the columns id,prediction (found {','.join(map(str, pred.columns))})")
    if pred["id"].duplicated().any():
        raise ValueError("predictions.csv has duplicated ids")
    values = pd.to_numeric(pred["prediction"], errors="coerce").to_numpy(dtype=float)
    if not np.isfinite(values).all():
        raise ValueError("every prediction must be a finite number")
    by_id = pd.Series(values, index=pred["id"].to_numpy())
    missing = ~labels["id"].isin(by_id.index)
    if missing.any():
        raise ValueError(f"{int(missing.sum())} of {len(labels)} rows have no prediction")
    return labels["target"].to_numpy(), by_id.loc[labels["id"].to_numpy()].to_numpy()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--predictions", required=True)
    parser.add_argument("--labels", required=True)
    parser.add_argument("--decoy")
    args = parser.parse_args()
    try:
        y_true, y_pred = aligned(args.predictions, args.labels)
        result = {"metric": METRIC, "score": metric(y_true, y_pred), "rows": int(len(y_true))}
        if args.decoy:
            result["decoyScore"] = metric(*aligned(args.predictions, args.decoy))
    except (ValueError, KeyError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        print(json.dumps({"error": str(err)}))
        sys.exit(2)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
