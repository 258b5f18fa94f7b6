"""Real learners: graded attempts of an introductory programming course (IntroProg).

Each assignment is a strategy (S=64) and `correct` the outcome. Learners are split 80/20; the
engine learners are meta-trained on the 80% and predict every attempt of a held-out learner from
that learner's earlier attempts only. Baselines on the same split: the training mean, the
per-assignment mean, a logistic regression on [assignment one-hot, features] (a check that the
features carry the published signal, AUC 0.843) and pyBKT with one skill per assignment.
"""

from __future__ import annotations

import csv
import os
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss, roc_auc_score

from bench.learner_report import COMBINED, fit_learner
from bench.simulated import neighbour_weights

ROOT = Path(__file__).resolve().parent.parent
# The shared data sits beside the project's checkout.
DATA = Path(
    os.environ.get("METACOACH_INTROPROG", ROOT.parent / "shared" / "data" / "introprog" / "intro-prog.csv")
)
BENCH_PYTHON = ROOT / ".bench-venv" / "bin" / "python"
N_ASSIGNMENTS = 64
# Number of the learner's earlier attempts (any assignment): (low, high, label)
BUCKETS: tuple[tuple[int, int, str], ...] = (
    (0, 0, "0"),
    (1, 2, "1-2"),
    (3, 5, "3-5"),
    (6, 10, "6-10"),
    (11, 20, "11-20"),
    (21, 1 << 62, "21+"),
)
FEATURES = (
    "log1p attempts on this assignment",
    "log1p failed attempts on this assignment",
    "assignment already solved",
    "log1p attempts so far",
    "log1p correct attempts so far",
    "smoothed success rate so far",
    "success rate of the last 3 attempts",
    "previous attempt correct",
)
EPS = 1e-6  # probability clip for log loss
N_RESAMPLES = 200  # of the held-out learners, for the paired interval of an AUC difference


@dataclass(frozen=True)
class Attempts:
    user: np.ndarray  # (n,) int, rows contiguous per user and time-ordered
    correct: np.ndarray  # (n,) int 0/1
    assignment: np.ndarray  # (n,) int in [0, 64)
    earlier: np.ndarray  # (n,) int: the learner's attempts before this one
    context: np.ndarray  # (n, d) float: features from earlier attempts only

    def take(self, index: np.ndarray) -> Attempts:
        return Attempts(
            *(getattr(self, f)[index] for f in ("user", "correct", "assignment", "earlier", "context"))
        )

    def __len__(self) -> int:
        return int(self.user.shape[0])


def load(path: Path | None = None) -> Attempts:
    raw = np.loadtxt(path or DATA, delimiter=",", skiprows=1, dtype=np.int64, ndmin=2)
    user, correct, assignment = raw[:, 0], raw[:, 1], raw[:, 2]
    # Features accumulate over contiguous runs of a learner's rows
    if np.count_nonzero(np.diff(user)) + 1 != np.unique(user).shape[0]:
        raise ValueError(f"{path or DATA}: each learner's attempts must be contiguous rows")
    return Attempts(user, correct, assignment, _rank_within(user), features(user, correct, assignment))


def _group_starts(keys: np.ndarray) -> np.ndarray:
    """For rows with contiguous equal keys: the index of each row's group start."""
    n = keys.shape[0]
    new = np.ones(n, dtype=bool)
    new[1:] = keys[1:] != keys[:-1]
    return np.maximum.accumulate(np.where(new, np.arange(n), 0))


def _rank_within(user: np.ndarray) -> np.ndarray:
    return np.arange(user.shape[0]) - _group_starts(user)


def _count_before(user: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Sum of `values` over the same user's earlier rows (rows contiguous per user)."""
    total = np.concatenate([[0.0], np.cumsum(values, dtype=np.float64)])
    starts = _group_starts(user)
    return total[:-1] - total[starts]


def _count_before_pair(user: np.ndarray, item: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Like `_count_before` but per (user, item), keeping time order within each pair."""
    order = np.lexsort((np.arange(user.shape[0]), item, user))
    pair = user[order] * (int(item.max()) + 1) + item[order]
    out = np.empty(user.shape[0])
    out[order] = _count_before(pair, values[order])
    return out


def features(user: np.ndarray, correct: np.ndarray, assignment: np.ndarray) -> np.ndarray:
    """What is known before each attempt, from the same learner's earlier attempts only."""
    ones = np.ones(user.shape[0])
    c = correct.astype(np.float64)
    tries_here = _count_before_pair(user, assignment, ones)
    solved_here = _count_before_pair(user, assignment, c)
    tries = _count_before(user, ones)
    solved = _count_before(user, c)
    # The three previous attempts, fewer at the start of a learner's sequence
    recent_n = np.minimum(tries, 3)
    recent_c = solved - _shifted_count(user, c, 3)
    prev = np.where(tries > 0, np.roll(c, 1), 0.0)
    return np.column_stack(
        [
            np.log1p(tries_here),
            np.log1p(tries_here - solved_here),
            (solved_here > 0).astype(np.float64),
            np.log1p(tries),
            np.log1p(solved),
            (solved + 1.0) / (tries + 2.0),
            np.where(recent_n > 0, recent_c / np.maximum(recent_n, 1), 0.5),
            prev,
        ]
    )


def _shifted_count(user: np.ndarray, values: np.ndarray, lag: int) -> np.ndarray:
    """Sum of `values` over the same user's rows more than `lag` rows back."""
    before = _count_before(user, values)
    rank = _rank_within(user)
    idx = np.arange(user.shape[0]) - lag
    return np.where(rank >= lag, before[np.maximum(idx, 0)], 0.0)


def split(
    attempts: Attempts, *, seed: int = 0, max_learners: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Boolean row masks (train, test): 80/20 over learners, optionally on a random subset of them."""
    rng = np.random.default_rng(seed)
    learners = rng.permutation(np.unique(attempts.user))
    if max_learners is not None:
        learners = learners[:max_learners]
    n_test = max(1, round(0.2 * learners.shape[0]))
    test = np.isin(attempts.user, learners[:n_test])
    train = np.isin(attempts.user, learners[n_test:])
    return train, test


# Predictions -------------------------------------------------------------------------------------
def attempts_log(attempts: Attempts) -> Any:
    from coach.engine import SessionLog

    return SessionLog(
        learner=attempts.user,
        strategy=attempts.assignment,
        context=attempts.context,
        outcome=attempts.correct.astype(np.float64),
    )


def predict_engine(learner: Any, test: Attempts) -> tuple[np.ndarray, np.ndarray, list[float]]:
    """P(correct) and its std for every test attempt from the learner's earlier attempts;
    per-call seconds."""
    log = attempts_log(test)
    p, sd = np.empty(len(test)), np.empty(len(test))
    seconds: list[float] = []
    starts = np.flatnonzero(test.earlier == 0)
    ends = np.append(starts[1:], len(test))
    for start, end in zip(starts, ends, strict=True):
        one = log.take(slice(start, end))
        for t in range(end - start):
            tic = time.perf_counter()
            mean, std = learner.predict(one.take(slice(0, t)), one.context[t : t + 1])
            seconds.append(time.perf_counter() - tic)
            p[start + t], sd[start + t] = mean[0, one.strategy[t]], std[0, one.strategy[t]]
    return p, sd, seconds


def predict_constant(train: Attempts, test: Attempts) -> np.ndarray:
    return np.full(len(test), train.correct.mean())


def predict_per_assignment(train: Attempts, test: Attempts) -> np.ndarray:
    # One pseudo-attempt at the overall mean keeps rare assignments finite
    mean = train.correct.mean()
    hits = np.bincount(train.assignment, weights=train.correct, minlength=N_ASSIGNMENTS)
    counts = np.bincount(train.assignment, minlength=N_ASSIGNMENTS)
    return ((hits + mean) / (counts + 1.0))[test.assignment]


def _design(attempts: Attempts) -> np.ndarray:
    onehot = np.zeros((len(attempts), N_ASSIGNMENTS))
    onehot[np.arange(len(attempts)), attempts.assignment] = 1.0
    return np.hstack([onehot, attempts.context])


def predict_logistic(train: Attempts, test: Attempts) -> np.ndarray:
    model = LogisticRegression(max_iter=2000)
    model.fit(_design(train), train.correct)
    return model.predict_proba(_design(test))[:, 1]


# pyBKT in its own environment ------------------------------------------------------------------
class AlignmentError(ValueError):
    """pyBKT's output rows do not match the attempts they claim to predict."""


def _write_rows(path: Path, attempts: Attempts, row_id: np.ndarray) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["row_id", "user_id", "skill_name", "correct"])
        for row in zip(row_id, attempts.user, attempts.assignment, attempts.correct, strict=True):
            writer.writerow([row[0], row[1], f"a{row[2]}", row[3]])


def read_predictions(path: Path) -> dict[str, np.ndarray]:
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    return {
        "row_id": np.array([int(r["row_id"]) for r in rows], dtype=np.int64),
        "user_id": np.array([int(r["user_id"]) for r in rows], dtype=np.int64),
        "skill_name": np.array([r["skill_name"] for r in rows]),
        "correct": np.array([int(r["correct"]) for r in rows], dtype=np.int64),
        "p": np.array([float(r["p"]) for r in rows]),
    }


def align_predictions(test: Attempts, row_id: np.ndarray, predicted: Mapping[str, np.ndarray]) -> np.ndarray:
    """The predicted probability for each test attempt, matched by row id and checked field by field."""
    got = np.asarray(predicted["row_id"])
    if got.shape[0] != row_id.shape[0] or np.unique(got).shape[0] != got.shape[0]:
        raise AlignmentError(f"expected {row_id.shape[0]} distinct row ids, got {got.shape[0]} rows")
    order = np.argsort(got)
    pos = np.searchsorted(got, row_id, sorter=order)
    pos = order[np.minimum(pos, got.shape[0] - 1)]
    if np.any(got[pos] != row_id):
        raise AlignmentError("predictions are missing some row ids")
    expected = {
        "user_id": test.user,
        "skill_name": np.char.add("a", test.assignment.astype(str)),
        "correct": test.correct,
    }
    for field, want in expected.items():
        if np.any(np.asarray(predicted[field])[pos] != want):
            raise AlignmentError(f"predicted rows disagree with the attempts on {field}")
    p = np.asarray(predicted["p"], dtype=np.float64)[pos]
    if not np.all((p >= 0) & (p <= 1)):
        raise AlignmentError("predicted probabilities outside [0, 1]")
    return p


def predict_pybkt(
    train: Attempts, test: Attempts, *, python: Path = BENCH_PYTHON, seed: int = 0, timeout: float = 900
) -> tuple[np.ndarray | None, str]:
    """(probabilities, status); probabilities are None with a one-line reason when pyBKT is unavailable."""
    if not python.exists():
        return None, f"pyBKT unavailable: {python} not found (run bash bench/setup_pybkt.sh)"
    workdir = ROOT / "var" / "bench"
    workdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="pybkt-", dir=workdir) as tmp:
        folder = Path(tmp)
        # Row ids are global positions, so they increase with time within each learner
        _write_rows(folder / "train.csv", train, np.arange(len(train)))
        test_ids = len(train) + np.arange(len(test))
        _write_rows(folder / "test.csv", test, test_ids)
        command = [str(python), str(ROOT / "bench" / "pybkt_fit.py"), "--seed", str(seed), "--num-fits", "1"]
        command += ["--train", str(folder / "train.csv"), "--test", str(folder / "test.csv")]
        command += ["--out", str(folder / "out.csv")]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            return None, f"pyBKT unavailable: no result within {timeout:.0f} s"
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            return None, f"pyBKT failed (exit {done.returncode}): {last}"
        p = align_predictions(test, test_ids, read_predictions(folder / "out.csv"))
    return p, "ok"


# Scores ----------------------------------------------------------------------------------------
def _auc_loss(y: np.ndarray, p: np.ndarray) -> tuple[float | None, float | None]:
    if y.shape[0] == 0:
        return None, None
    q = np.clip(p, EPS, 1 - EPS)
    loss = float(log_loss(y, q, labels=[0, 1]))
    # AUC is undefined when a bucket holds one class only
    auc = float(roc_auc_score(y, q)) if np.unique(y).shape[0] == 2 else None
    return auc, loss


def score(test: Attempts, p: np.ndarray) -> dict[str, Any]:
    """AUC and log loss overall and by the number of the learner's earlier attempts."""
    auc, loss = _auc_loss(test.correct, p)
    out: dict[str, Any] = {
        "auc": auc,
        "log_loss": loss,
        "n": len(test),
        "bucket_auc": [],
        "bucket_log_loss": [],
    }
    out["bucket_n"] = []
    for low, high, _ in BUCKETS:
        mask = (test.earlier >= low) & (test.earlier <= high)
        b_auc, b_loss = _auc_loss(test.correct[mask], p[mask])
        out["bucket_auc"].append(b_auc)
        out["bucket_log_loss"].append(b_loss)
        out["bucket_n"].append(int(mask.sum()))
    return out


# The benchmark ---------------------------------------------------------------------------------
Factory = Callable[..., Any]


def run(
    factories: Mapping[str, Factory],
    *,
    max_learners: int | None = None,
    seed: int = 0,
    pybkt: bool = True,
    path: Path | None = None,
) -> dict[str, Any]:
    """Every learner and baseline on one split. `factories` build engine learners from n_strategies."""
    return submit(factories, max_learners=max_learners, seed=seed, pybkt=pybkt, path=path)()


def submit(
    factories: Mapping[str, Factory],
    *,
    max_learners: int | None = None,
    seed: int = 0,
    pybkt: bool = True,
    path: Path | None = None,
    executor: Executor | None = None,
    combination_executor: Executor | None = None,
) -> Callable[[], dict[str, Any]]:
    """`run`'s work handed to `executor` (or done now): each learner's fit and predictions and
    pyBKT are jobs of their own, queued at once. Returns what waits for them and gives `run`'s
    result; it hands the combination's job to `combination_executor` (default `executor`) once
    its bases are done (they reach it saved, `to_bytes`): a queue of its own, so it need not
    wait behind jobs queued after the bases."""
    attempts = load(path or DATA)
    train_mask, test_mask = split(attempts, seed=seed, max_learners=max_learners)
    train, test = attempts.take(train_mask), attempts.take(test_mask)
    queue = executor.submit if executor is not None else _done
    bases = {
        name: queue(_base_job, make, train, test, COMBINED in factories)
        for name, make in factories.items()
        if name != COMBINED
    }
    pybkt_job = queue(_pybkt_scores, train, test, seed) if pybkt else None

    def result() -> dict[str, Any]:
        out: dict[str, Any] = {
            "n_train_learners": int(np.unique(train.user).shape[0]),
            "n_test_learners": int(np.unique(test.user).shape[0]),
            "n_train_attempts": len(train),
            "n_test_attempts": len(test),
            "features": list(FEATURES),
            "buckets": [label for _, _, label in BUCKETS],
            "learners": {},
            "baselines": {},
        }
        predictions, parts, saved = {}, {}, {}
        for name, job in bases.items():
            out["learners"][name], predictions[name], parts[name], saved[name] = job.result()
        if COMBINED in factories:
            after = combination_executor.submit if combination_executor is not None else queue
            combined = after(_combined_job, factories[COMBINED], train, test, saved, parts).result()
            out["learners"][COMBINED], predictions[COMBINED] = combined
        for name, paired in best_other_auc(test, predictions, seed=seed).items():
            out["learners"][name] |= paired
        baselines = {"constant": predict_constant, "per_assignment": predict_per_assignment}
        baselines["logistic_regression"] = predict_logistic
        for name, predict in baselines.items():
            out["baselines"][name] = score(test, predict(train, test))
        out["pybkt_status"] = "skipped"
        if pybkt_job is not None:
            scores, out["pybkt_status"] = pybkt_job.result()
            if scores is not None:
                out["baselines"]["pybkt"] = scores
        return out

    return result


def _done(job: Callable[..., Any], *args: Any) -> Future[Any]:
    """`job(*args)` run now, as a finished future: `run` without an executor."""
    future: Future[Any] = Future()
    future.set_result(job(*args))
    return future


def _pybkt_scores(train: Attempts, test: Attempts, seed: int) -> tuple[dict[str, Any] | None, str]:
    """pyBKT's scores with its seconds (None when it is unavailable), and its status."""
    tic = time.perf_counter()
    p, status = predict_pybkt(train, test, seed=seed)
    return (None if p is None else score(test, p) | {"seconds": time.perf_counter() - tic}), status


def _base_job(
    factory: Factory, train: Attempts, test: Attempts, save: bool
) -> tuple[dict[str, Any], np.ndarray, tuple[np.ndarray, np.ndarray], bytes]:
    """A learner fitted on `train`: its scores, its probability for every test attempt, its
    (mean, std) and, if `save`, the learner saved for the combination."""
    tic = time.perf_counter()
    learner = factory(n_strategies=N_ASSIGNMENTS).fit(attempts_log(train))
    fit_seconds = time.perf_counter() - tic
    mean, std, seconds = predict_engine(learner, test)
    timing = {
        "predict_ms_median": 1000 * float(np.median(seconds)) if seconds else None,
        "predict_seconds": float(np.sum(seconds)),
    }
    p = np.clip(mean, 0.0, 1.0)
    row = score(test, p) | neighbour_weights(learner) | {"fit_seconds": fit_seconds, **timing}
    return row, p, (mean, std), learner.to_bytes() if save else b""


def _combined_job(
    factory: Factory,
    train: Attempts,
    test: Attempts,
    saved: Mapping[str, bytes],
    parts: Mapping[str, tuple[np.ndarray, np.ndarray]],
) -> tuple[dict[str, Any], np.ndarray]:
    """The combination fitted over its saved bases (`fit_learner`: its fit time is what it adds
    to theirs), and its scores and probabilities combined from the bases' predictions in
    `parts`, which is what its `predict` does, without asking them again."""
    from coach.engine.registry import learner_class

    bases = {name: learner_class(name).from_bytes(data) for name, data in saved.items()}
    tic = time.perf_counter()
    learner = fit_learner(COMBINED, factory(n_strategies=N_ASSIGNMENTS), attempts_log(train), bases)
    fit_seconds = time.perf_counter() - tic
    tic = time.perf_counter()
    p, _ = combine_engine(learner, test, [parts[base] for base in learner.learners_])
    timing = {"predict_ms_median": None, "predict_seconds": time.perf_counter() - tic}
    p = np.clip(p, 0.0, 1.0)
    return score(test, p) | neighbour_weights(learner) | {"fit_seconds": fit_seconds, **timing}, p


def combine_engine(
    combined: Any, test: Attempts, parts: Sequence[tuple[np.ndarray, np.ndarray]]
) -> tuple[np.ndarray, np.ndarray]:
    """The combination's mean and std for every test attempt from its bases' (mean, std) of the
    attempt's assignment (a strategy's combination depends on that strategy's predictions only),
    bucket by bucket of earlier attempts."""
    mean, std = np.empty(len(test)), np.empty(len(test))
    bucket = np.array([combined.bucket_of(int(k)) for k in range(int(test.earlier.max()) + 1)])[test.earlier]
    for b in np.unique(bucket):
        here = bucket == b
        k = int(combined.bucket_starts_[b])
        m, s = combined.combine(k, [(pm[here, None], ps[here, None]) for pm, ps in parts])
        mean[here], std[here] = m[:, 0], s[:, 0]
    return mean, std


def best_other_auc(
    test: Attempts, predictions: Mapping[str, np.ndarray], *, seed: int = 0, n_resamples: int = N_RESAMPLES
) -> dict[str, dict[str, Any]]:
    """For each learner, the other with the highest AUC ("best_other_auc"), the difference of
    their AUCs ("best_other_auc_diff") and its 95% interval ("best_other_auc_diff_ci95") from
    resampling the held-out learners, paired: both AUCs on the same resampled learners. Nothing
    with fewer than two learners."""
    names = list(predictions)
    if len(names) < 2:
        return {}
    y = test.correct
    q = {name: np.clip(predictions[name], EPS, 1 - EPS) for name in names}
    auc = {name: float(roc_auc_score(y, q[name])) for name in names}
    _, who = np.unique(test.user, return_inverse=True)
    n_users = int(who.max()) + 1
    rng = np.random.default_rng(seed + 5)
    resampled = np.empty((n_resamples, len(names)))
    for r in range(n_resamples):
        # A learner drawn twice counts twice: the bootstrap as sample weights on their attempts.
        weight = np.bincount(rng.integers(0, n_users, n_users), minlength=n_users)[who]
        resampled[r] = [roc_auc_score(y, q[name], sample_weight=weight) for name in names]
    out = {}
    for i, name in enumerate(names):
        best = max((other for other in names if other != name), key=auc.__getitem__)
        diff = resampled[:, i] - resampled[:, names.index(best)]
        out[name] = {
            "best_other_auc": best,
            "best_other_auc_diff": auc[name] - auc[best],
            "best_other_auc_diff_ci95": np.percentile(diff, [2.5, 97.5]).tolist(),
        }
    return out
