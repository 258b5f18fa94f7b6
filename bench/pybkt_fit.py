"""Fit and apply pyBKT (one skill per assignment); runs inside .bench-venv, not the product venv.

    python bench/pybkt_fit.py --train train.csv --test test.csv --out predictions.csv

Input CSVs have the columns row_id,user_id,skill_name,correct with rows time-ordered within each
learner; row_id must increase with time within a learner. The output has row_id,user_id,skill_name,
correct,p where p is the predicted probability of a correct answer. BKT predicts a row from the
learner's earlier rows on the same skill only; a check below verifies that the row's own answer is
not used.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
from typing import Any

COLUMNS = ["row_id", "user_id", "skill_name", "correct"]


def read_rows(path: str) -> Any:
    import pandas as pd

    frame = pd.read_csv(
        path, dtype={"row_id": "int64", "user_id": "int64", "skill_name": str, "correct": "int64"}
    )
    if list(frame.columns) != COLUMNS:
        raise SystemExit(f"{path}: expected columns {COLUMNS}, got {list(frame.columns)}")
    # pyBKT orders rows by order_id, then (stably) by user
    frame["order_id"] = frame["row_id"]
    return frame


def predict(model: Any, frame: Any) -> Any:
    """Predictions indexed by row_id; pyBKT re-orders and mutates what it is given, so pass a copy."""
    out = model.predict(data=frame.copy())
    out = out.set_index("row_id", verify_integrity=True)
    return out.loc[frame["row_id"].to_numpy()]


def check_aligned(frame: Any, predicted: Any) -> None:
    for column in ("user_id", "skill_name", "correct"):
        mine = frame[column].astype(str).to_numpy()
        theirs = predicted[column].astype(str).to_numpy()
        if (mine != theirs).any():
            raise SystemExit(f"pyBKT predictions are not aligned with the input rows (column {column})")


def check_no_peeking(model: Any, frame: Any, predicted: Any) -> None:
    """Flip the last answer of every learner-skill sequence: its prediction must not move."""
    last = ~frame.duplicated(subset=["user_id", "skill_name"], keep="last").to_numpy()
    flipped = frame.copy()
    flipped.loc[last, "correct"] = 1 - flipped.loc[last, "correct"]
    again = predict(model, flipped)
    before = predicted["correct_predictions"].to_numpy()[last]
    after = again["correct_predictions"].to_numpy()[last]
    if abs(before - after).max() > 1e-9:
        raise SystemExit("pyBKT's prediction for a row depends on that row's own answer")


def fit_predict_skill(job: tuple[Any, Any, int, int]) -> Any:
    """Fit one skill on its training rows and predict its test rows (BKT skills are independent)."""
    from pyBKT.models import Model

    train, test, seed, num_fits = job
    # Serial E-step: this already runs in a pool worker
    model = Model(seed=seed, num_fits=num_fits, parallel=False)
    model.fit(data=train.copy())
    predicted = predict(model, test)
    check_aligned(test, predicted)
    check_no_peeking(model, test, predicted)
    out = test[COLUMNS].copy()
    out["p"] = predicted["correct_predictions"].to_numpy()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", required=True)
    parser.add_argument("--test", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--num-fits", type=int, default=2)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)

    import pandas as pd

    train, test = read_rows(args.train), read_rows(args.test)
    started = time.perf_counter()
    fitted = set(train["skill_name"])
    jobs = [
        (train[train["skill_name"] == skill], test[test["skill_name"] == skill], args.seed, args.num_fits)
        for skill in sorted(set(test["skill_name"]) & fitted)
    ]
    with multiprocessing.Pool(args.workers) as pool:
        parts = pool.map(fit_predict_skill, jobs, chunksize=1)
    # Skills never seen in training get pyBKT's default, 0.5
    unseen = test[~test["skill_name"].isin(fitted)][COLUMNS].assign(p=0.5)
    out = pd.concat([*parts, unseen]).set_index("row_id", verify_integrity=True).loc[test["row_id"]]
    out = out.reset_index()
    check_aligned(test, out)
    out[[*COLUMNS, "p"]].to_csv(args.out, index=False, float_format="%.9g")
    print(
        f"pyBKT: {len(jobs)} skills fitted on {len(train)} rows, {len(test)} rows predicted "
        f"in {time.perf_counter() - started:.1f} s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
