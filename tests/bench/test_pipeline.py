"""The bench pipeline on tiny data: it runs, writes what it promises and catches misaligned output.

Benchmark figures are not asserted here; `make bench` reports them against their targets.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bench import closed_loop, introprog, report
from bench import run as bench_run

HAS_BENCH_VENV = introprog.BENCH_PYTHON.exists()
needs_bench_venv = pytest.mark.skipif(
    not HAS_BENCH_VENV, reason="pyBKT environment .bench-venv missing: run bash bench/setup_pybkt.sh"
)


class StandIn:
    """Per-strategy mean shrunk towards the learner's own mean: enough to exercise the harness."""

    def __init__(self, n_strategies: int) -> None:
        self.n_strategies = n_strategies

    def fit(self, log: Any) -> StandIn:
        counts = np.bincount(log.strategy, minlength=self.n_strategies)
        sums = np.bincount(log.strategy, weights=log.outcome, minlength=self.n_strategies)
        self.mean_ = (sums + 0.5) / (counts + 1.0)
        return self

    def predict(self, history: Any, context: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        own = (history.outcome.sum() + 1.0) / (len(history.outcome) + 2.0)
        mean = np.tile(0.5 * self.mean_ + 0.5 * own, (context.shape[0], 1))
        return mean, np.full_like(mean, 0.3)


def fake_course(path: Path, *, n_learners: int = 40, seed: int = 0) -> Path:
    """A CSV in the IntroProg layout: learners work through assignments, retrying until correct."""
    rng = np.random.default_rng(seed)
    lines = ["user_id,correct,assignment_id"]
    for user in range(n_learners):
        skill = rng.uniform(0.2, 0.8)
        for assignment in range(int(rng.integers(1, 8))):
            for _ in range(6):
                correct = int(rng.random() < skill)
                lines.append(f"{1000 + user},{correct},{assignment}")
                if correct:
                    break
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def course(tmp_path: Path) -> Path:
    return fake_course(tmp_path / "course.csv")


def test_features_use_earlier_attempts_only(course: Path) -> None:
    attempts = introprog.load(course)
    assert attempts.context.shape == (len(attempts), len(introprog.FEATURES))
    first = attempts.earlier == 0
    assert np.all(attempts.context[first, 0] == 0)  # nothing tried yet
    changed = attempts.correct.copy()
    cut = len(attempts) // 2
    changed[cut:] = 1 - changed[cut:]
    again = introprog.features(attempts.user, changed, attempts.assignment)
    np.testing.assert_array_equal(again[: cut + 1], attempts.context[: cut + 1])
    assert not np.array_equal(again[cut + 1 :], attempts.context[cut + 1 :])


def test_split_keeps_learners_apart(course: Path) -> None:
    attempts = introprog.load(course)
    train, test = introprog.split(attempts, seed=3)
    assert not np.any(train & test)
    assert set(attempts.user[train]).isdisjoint(attempts.user[test])
    assert np.all(train | test)


def _fake_output(test: introprog.Attempts, row_id: np.ndarray, order: np.ndarray) -> dict[str, np.ndarray]:
    return {
        "row_id": row_id[order],
        "user_id": test.user[order],
        "skill_name": np.char.add("a", test.assignment.astype(str))[order],
        "correct": test.correct[order],
        "p": np.linspace(0.1, 0.9, len(test))[order],
    }


def test_alignment_follows_row_ids_not_row_order(course: Path) -> None:
    test = introprog.load(course)
    row_id = 500 + np.arange(len(test))
    shuffled = np.random.default_rng(1).permutation(len(test))
    p = introprog.align_predictions(test, row_id, _fake_output(test, row_id, shuffled))
    np.testing.assert_allclose(p, np.linspace(0.1, 0.9, len(test)))


@pytest.mark.parametrize("defect", ["shifted", "missing", "duplicate", "wrong_correct"])
def test_alignment_detects_unaligned_output(course: Path, defect: str) -> None:
    test = introprog.load(course)
    row_id = np.arange(len(test))
    out = _fake_output(test, row_id, np.arange(len(test)))
    if defect == "shifted":  # predictions re-ordered but labelled with the original row ids
        for key in ("user_id", "skill_name", "correct"):
            out[key] = np.roll(out[key], 1)
    elif defect == "missing":
        out = {k: v[1:] for k, v in out.items()}
    elif defect == "duplicate":
        out["row_id"] = np.where(row_id == 1, 0, row_id)
    else:
        out["correct"] = 1 - out["correct"]
    with pytest.raises(introprog.AlignmentError):
        introprog.align_predictions(test, row_id, out)


def test_pybkt_unavailable_is_reported_not_faked(course: Path, tmp_path: Path) -> None:
    attempts = introprog.load(course)
    p, status = introprog.predict_pybkt(attempts, attempts, python=tmp_path / "no-python")
    assert p is None
    assert status.startswith("pyBKT unavailable") and "\n" not in status


@needs_bench_venv
def test_pybkt_predicts_every_test_attempt(course: Path) -> None:
    attempts = introprog.load(course)
    train, test = introprog.split(attempts, seed=0)
    p, status = introprog.predict_pybkt(attempts.take(train), attempts.take(test), timeout=300)
    assert status == "ok"
    assert p is not None and p.shape == (int(test.sum()),)
    assert np.all((p >= 0) & (p <= 1))


def test_introprog_scores_every_learner_and_baseline(course: Path) -> None:
    result = introprog.run({"standin": StandIn}, path=course, pybkt=False)
    assert set(result["baselines"]) == {"constant", "per_assignment", "logistic_regression"}
    assert result["pybkt_status"] == "skipped"
    row = result["learners"]["standin"]
    for key in ("auc", "log_loss", "bucket_auc", "bucket_log_loss", "bucket_n", "predict_ms_median"):
        assert key in row
    assert len(row["bucket_auc"]) == len(introprog.BUCKETS)
    assert sum(row["bucket_n"]) == result["n_test_attempts"]


def test_quick_bench_writes_json_and_html(
    course: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("coach.engine.model", reason="engine learners not available")
    out = tmp_path / "bench"
    # Two worker processes, as on the 2-core machines the bench is sized for.
    args = ["--quick", "--no-pybkt", "--jobs", "2", "--introprog", str(course), "--out", str(out)]
    assert bench_run.main(args) == 0
    printed = capsys.readouterr().out
    assert "not meaningful" in printed and "== Targets ==" in printed
    assert "sensitivity: regret_ratio" in printed and "smaller quirks:" in printed
    assert printed.count("memory: weight of the neighbours against the level below: k=0:") == 2

    results = json.loads((out / "results.json").read_text())
    assert results["quick"] is True and results["jobs"] == 2
    assert results["introprog"]["n_train_attempts"] + results["introprog"]["n_test_attempts"] == len(
        introprog.load(course)
    )
    assert {"simulated", "speed", "introprog", "product", "checks", "seconds"} <= set(results)
    assert "Product path: the recommendation card" in printed
    for phase in ("cold", "engine"):
        for k in results["product"]["ks"]:
            row = results["product"][phase][str(k)]
            assert row["n"] > 0 and 0.0 <= row["coverage"] <= 1.0 and row["width_max"] <= 100.0
    for name in bench_run.LEARNERS:
        row = results["simulated"]["learners"][name]
        assert {"regret_ratio", "rmse", "coverage90", "bound_distance_ci95", "best_other"} <= set(row)
        assert {"fit_seconds", "predict_ms_median"} <= set(results["speed"]["learners"][name])
        assert {"auc", "log_loss", "bucket_auc", "best_other_auc_diff_ci95"} <= set(
            results["introprog"]["learners"][name]
        )
        assert f"  {name}: distance to the best possible" in printed
        assert any(
            c["name"].startswith(f"{name} within 0.02 of the best possible") for c in results["checks"]
        )
    assert all(c["mark"] in {"met", "MISSED", "n/a"} for c in results["checks"])
    assert "== Closed loop:" in printed and results["closed_loop"]["setup"]["n_sessions"] == 10

    page = (out / "report.html").read_text()
    assert "Plotly.newPlot" in page and "regret ratio" in page and "AUC by" in page
    assert "distance to the best possible regret ratio" in page
    assert "on each simulated population" in page
    assert "error" not in results["policy_eval"] and "Off-policy evaluation: coverage" in page
    assert "Closed loop: cumulative regret over the term" in page
    assert re.search(r"<script[^>]*\bsrc=", page) is None  # plotly.js inline: opens offline


def test_quick_closed_loop_prints_every_policy_and_its_targets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "closed_loop.json"
    assert closed_loop.main(["--quick", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "not meaningful" in printed
    for label in closed_loop.POLICIES.values():
        if label != closed_loop.POLICIES["memory_greedy"]:  # its row is asked for with --memory
            assert label in printed
    assert closed_loop.NO_COMBINATION in printed
    assert printed.count("(target ") == 3  # beats (a), beats (b), against (c); no time target
    results = json.loads(out.read_text())
    n = closed_loop.QUICK["n_sessions"]
    for row in results["policies"].values():
        if row["available"]:
            assert len(row["cumulative_regret"]) == len(row["cumulative_regret_ci95"]) == n
            assert all(
                low <= v <= high
                for v, (low, high) in zip(
                    row["cumulative_regret"], row["cumulative_regret_ci95"], strict=True
                )
            )
    assert set(results["comparisons"]) == {
        "product - habits",
        "product - published",
        "product - model_greedy",
    }


def test_report_marks_missing_parts_as_not_measured() -> None:
    results: dict[str, Any] = {"quick": False, "seconds": {}, "simulated": {"error": "ImportError: x"}}
    text = report.format_table(results)
    assert "not run (ImportError: x)" in text
    assert all(c.met is None for c in report.checks(results))


@pytest.mark.parametrize(
    ("quick", "total", "mark"), [(False, 540.0, "met"), (False, 660.0, "MISSED"), (True, 660.0, None)]
)
def test_bench_wall_time_is_a_target_of_full_runs_only(quick: bool, total: float, mark: str | None) -> None:
    results: dict[str, Any] = {"quick": quick, "seconds": {"total": total}}
    timed = [c for c in report.checks(results) if c.name == "bench wall time (s)"]
    assert [c.mark for c in timed] == ([mark] if mark else [])


@pytest.mark.parametrize("name", ["memory", "optimization"])
def test_bench_learners_are_seeded_so_runs_repeat(name: str) -> None:
    """The memory and optimization learners draw training learners (to calibrate on, as
    meta-training tasks); the bench's seed fixes them."""
    factories = bench_run._factories(None, 7)
    assert factories[name](n_strategies=3).random_state == 7
    assert bench_run._simulated_factories(7)[name]().random_state == 7


@pytest.mark.parametrize(
    "module",
    ["bench.run", "bench.pages", "bench.load", "bench.scale", "bench.fit_sample", "bench.bound_curve"],
)
def test_each_bench_entry_point_starts(module: str) -> None:
    """Run as `python -m`, each imports its modules in its own order (a cycle once broke one)."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-m", module, "--help"], cwd=root, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]


def test_combination_from_its_bases_predictions_is_its_own_predict(course: Path) -> None:
    from coach.engine import CombinedMetaLearner

    attempts = introprog.load(course)
    train, test = (attempts.take(mask) for mask in introprog.split(attempts, seed=0))
    fast = {"optimization": {"n_meta_steps": 30, "batch_size": 16}, "memory": {"n_calibration": 20}}
    combined = CombinedMetaLearner(introprog.N_ASSIGNMENTS, learner_params=fast, random_state=0)
    combined.fit(introprog.attempts_log(train))
    parts = [introprog.predict_engine(base, test)[:2] for base in combined.learners_.values()]
    mean, std = introprog.combine_engine(combined, test, parts)
    direct, direct_std, _ = introprog.predict_engine(combined, test)
    np.testing.assert_allclose(mean, direct, atol=1e-12)
    np.testing.assert_allclose(std, direct_std, atol=1e-12)
    assert len(np.unique(test.earlier)) > 3  # several buckets of earlier attempts


def test_introprog_in_worker_processes_gives_the_figures_of_a_run_in_one(course: Path) -> None:
    """Each learner a job of its own, the combination's fitted over its bases saved and loaded
    again in another process: the same figures as `run` in one process."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from functools import partial

    from coach.engine import make_learner

    fast = {"optimization": {"n_meta_steps": 30, "batch_size": 16}, "memory": {"n_calibration": 20}}
    factories = {
        name: partial(make_learner, name, random_state=0, **fast.get(name, {}))
        for name in ("model", "memory", "optimization")
    }
    factories["combined"] = partial(make_learner, "combined", random_state=0, learner_params=fast)
    alone = introprog.run(factories, path=course, pybkt=False)
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(2, mp_context=spawn) as pool:
        pooled = introprog.submit(factories, path=course, pybkt=False, executor=pool)()
    assert list(pooled["learners"]) == list(factories)
    for name in factories:
        for key in ("auc", "log_loss", "bucket_auc", "best_other_auc_diff"):
            assert pooled["learners"][name][key] == alone["learners"][name][key], (name, key)


@pytest.mark.slow
def test_the_product_path_repeats(tmp_path: Path) -> None:
    """Its clock is fixed: the product seeds a recommendation's draws with its record's last
    change, so under the wall clock two runs explored differently."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    outs = [tmp_path / f"product{i}.json" for i in range(2)]
    for out in outs:
        command = [sys.executable, "-m", "bench.product", "--quick", "--out", str(out)]
        done = subprocess.run(command, cwd=root, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr[-2000:]
    assert outs[0].read_text() == outs[1].read_text()
