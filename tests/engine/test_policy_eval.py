"""Off-policy evaluation: the estimators on examples worked by hand, their intervals and errors."""

from __future__ import annotations

import statistics
from typing import Any

import numpy as np
import pytest

from coach.engine.policy_eval import Estimate, PolicyLog, effective_sample_size, off_policy_value

Z95 = statistics.NormalDist().inv_cdf(0.975)

# Four sessions, two strategies. Importance weights pi(a_i) / mu_i: 1/0.5, 0.5/0.25, 0.2/0.8, 1/0.5.
ACTION = np.array([0, 1, 0, 1])
REWARD = np.array([1.0, 0.0, 0.5, 1.0])
PROPENSITY = np.array([0.5, 0.25, 0.8, 0.5])
TARGET = np.array([[1.0, 0.0], [0.5, 0.5], [0.2, 0.8], [0.0, 1.0]])
REWARD_HAT = np.array([[0.6, 0.4], [0.5, 0.7], [0.3, 0.9], [0.2, 0.8]])
AVOIDS_LOGGED = np.array([[0.0, 1.0], [1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])


def small_log(**changes: Any) -> PolicyLog:
    fields = {"action": ACTION, "reward": REWARD, "propensity": PROPENSITY, **changes}
    return PolicyLog(**fields)


def value(method: str, **kwargs: Any) -> float:
    model = {"reward_hat": REWARD_HAT} if method in ("dm", "dr", "switch-dr") else {}
    return off_policy_value(small_log(), target=TARGET, method=method, **model, **kwargs).value


# Worked by hand -------------------------------------------------------------------------------
def test_ips_is_the_mean_of_weighted_outcomes() -> None:
    # w r = 2, 0, 0.125, 2
    assert value("ips") == pytest.approx(4.125 / 4)


def test_snips_divides_by_the_sum_of_the_weights() -> None:
    # sum w = 2 + 2 + 0.25 + 2
    assert value("snips") == pytest.approx(4.125 / 6.25)


def test_direct_method_averages_the_model_under_the_target() -> None:
    # sum_a pi r_hat = 0.6, 0.6, 0.78, 0.8
    assert value("dm") == pytest.approx(2.78 / 4)


def test_doubly_robust_adds_the_weighted_residual_of_the_logged_strategy() -> None:
    # residuals r - r_hat(a) = 0.4, -0.7, 0.2, 0.2; weighted 0.8, -1.4, 0.05, 0.4
    assert value("dr") == pytest.approx((2.78 - 0.15) / 4)


def test_switch_dr_keeps_the_correction_only_where_the_weight_is_at_most_tau() -> None:
    # Only the third session (weight 0.25) keeps its correction, 0.05.
    assert value("switch-dr", tau=1.0) == pytest.approx((2.78 + 0.05) / 4)
    assert value("switch-dr", tau=2.0) == pytest.approx(value("dr"))


def test_clip_caps_the_weights() -> None:
    # Weights 1.5, 1.5, 0.25, 1.5.
    assert value("ips", clip=1.5) == pytest.approx(3.125 / 4)
    assert value("dr", clip=1.5) == pytest.approx((2.78 + 0.6 - 1.05 + 0.05 + 0.3) / 4)
    assert value("ips", clip=2.0) == pytest.approx(value("ips"))


def test_effective_sample_size_of_the_weights() -> None:
    estimate = off_policy_value(small_log(), target=TARGET)
    assert estimate.ess == pytest.approx(6.25**2 / (3 * 4 + 0.0625))
    clipped = off_policy_value(small_log(), target=TARGET, clip=1.5)
    assert clipped.ess == pytest.approx(4.75**2 / (3 * 2.25 + 0.0625))
    assert effective_sample_size([3.0, 3.0, 3.0]) == pytest.approx(3.0)
    assert effective_sample_size([0.0, 5.0, 0.0]) == pytest.approx(1.0)
    assert effective_sample_size([0.0, 0.0]) == 0.0


def test_normal_interval_of_ips_is_the_sample_means() -> None:
    estimate = off_policy_value(small_log(), target=TARGET)
    half = Z95 * statistics.stdev([2.0, 0.0, 0.125, 2.0]) / 2.0
    assert (estimate.low, estimate.high) == pytest.approx((4.125 / 4 - half, 4.125 / 4 + half))
    assert estimate.n == 4 and estimate.n_groups is None and estimate.method == "ips"


def test_normal_interval_of_snips_is_the_delta_methods() -> None:
    v = 4.125 / 6.25
    psi = [w * (r - v) / 1.5625 for w, r in zip([2.0, 2.0, 0.25, 2.0], REWARD, strict=True)]
    half = Z95 * statistics.stdev(psi) / 2.0
    estimate = off_policy_value(small_log(), target=TARGET, method="snips")
    assert (estimate.low, estimate.high) == pytest.approx((v - half, v + half))


def test_level_sets_the_width_of_the_interval() -> None:
    wide = off_policy_value(small_log(), target=TARGET, level=0.95)
    narrow = off_policy_value(small_log(), target=TARGET, level=0.5)
    ratio = (narrow.high - narrow.low) / (wide.high - wide.low)
    assert ratio == pytest.approx(statistics.NormalDist().inv_cdf(0.75) / Z95)


# On-policy ------------------------------------------------------------------------------------
def on_policy_log(n: int = 300, seed: int = 0, *, groups: bool = False) -> tuple[PolicyLog, np.ndarray]:
    rng = np.random.default_rng(seed)
    behaviour = rng.dirichlet(np.ones(4), n)
    action = np.array([rng.choice(4, p=row) for row in behaviour])
    reward = rng.uniform(0.0, 1.0, n)
    group = np.arange(n) // 3 if groups else None
    log = PolicyLog(action=action, reward=reward, propensity=behaviour[np.arange(n), action], group=group)
    return log, behaviour


@pytest.mark.parametrize("method", ["ips", "snips"])
def test_the_logged_policy_itself_is_valued_at_the_plain_mean(method: str) -> None:
    log, behaviour = on_policy_log()
    estimate = off_policy_value(log, target=behaviour, method=method)
    assert estimate.value == pytest.approx(log.reward.mean())
    assert estimate.ess == pytest.approx(len(log))
    half = Z95 * log.reward.std(ddof=1) / np.sqrt(len(log))
    assert (estimate.low, estimate.high) == pytest.approx(
        (log.reward.mean() - half, log.reward.mean() + half)
    )


def test_doubly_robust_with_a_perfect_model_of_each_session_has_no_correction() -> None:
    log, behaviour = on_policy_log()
    reward_hat = np.tile(log.reward[:, None], (1, 4))  # every strategy predicted at the outcome seen
    estimate = off_policy_value(log, target=behaviour, method="dr", reward_hat=reward_hat)
    assert estimate.value == pytest.approx(log.reward.mean())


def test_ips_and_dr_are_unbiased_on_a_synthetic_bandit() -> None:
    """Mean estimate over 400 seeded logs against the known value: within 4 standard errors."""
    q = np.array([0.3, 0.5, 0.7])
    mu, pi = np.array([0.6, 0.3, 0.1]), np.array([0.1, 0.2, 0.7])
    truth = float(pi @ q)
    n = 200
    estimates: dict[str, list[float]] = {"ips": [], "dr": []}
    for seed in range(400):
        rng = np.random.default_rng(seed)
        action = rng.choice(3, size=n, p=mu)
        log = PolicyLog(action=action, reward=rng.binomial(1, q[action]).astype(float), propensity=mu[action])
        target = np.tile(pi, (n, 1))
        estimates["ips"].append(off_policy_value(log, target=target).value)
        biased_model = np.tile(q + 0.1, (n, 1))
        estimates["dr"].append(
            off_policy_value(log, target=target, method="dr", reward_hat=biased_model).value
        )
    for values in estimates.values():
        se = np.std(values, ddof=1) / np.sqrt(len(values))
        assert abs(np.mean(values) - truth) < 4 * se


# Bootstrap over learners ----------------------------------------------------------------------
def test_bootstrap_is_reproducible_with_random_state() -> None:
    log, behaviour = on_policy_log(groups=True)
    target = np.roll(behaviour, 1, axis=1)
    first = off_policy_value(log, target=target, random_state=3)
    again = off_policy_value(log, target=target, random_state=3)
    other = off_policy_value(log, target=target, random_state=4)
    assert first == again
    assert (first.low, first.high) != (other.low, other.high)
    assert first.n_groups == 100
    generator = off_policy_value(log, target=target, random_state=np.random.default_rng(3))
    assert generator == first


def test_bootstrap_resamples_learners_with_all_their_sessions() -> None:
    """Sessions of one learner that agree are one observation, not ten: the interval widens."""
    rng = np.random.default_rng(0)
    n_learners, per = 40, 10
    own = np.repeat(rng.uniform(0.0, 1.0, n_learners), per)
    log_rows = PolicyLog(action=np.zeros(own.size, dtype=int), reward=own, propensity=np.full(own.size, 0.5))
    grouped = PolicyLog(
        action=log_rows.action,
        reward=own,
        propensity=log_rows.propensity,
        group=np.repeat(np.arange(n_learners), per),
    )
    target = np.tile([0.5, 0.5], (own.size, 1))
    by_rows = off_policy_value(log_rows, target=target)
    by_learner = off_policy_value(grouped, target=target, random_state=0)
    assert by_learner.value == pytest.approx(by_rows.value)
    ratio = (by_learner.high - by_learner.low) / (by_rows.high - by_rows.low)
    assert 2.5 < ratio < 4.0  # about sqrt(10)


def test_bootstrap_over_independent_sessions_agrees_with_the_normal_interval() -> None:
    log, behaviour = on_policy_log(n=600, seed=2)
    target = np.roll(behaviour, 1, axis=1)
    alone = PolicyLog(action=log.action, reward=log.reward, propensity=log.propensity, group=np.arange(600))
    for method in ("ips", "snips"):
        normal = off_policy_value(log, target=target, method=method)
        boot = off_policy_value(alone, target=target, method=method, random_state=0)
        assert boot.value == pytest.approx(normal.value)
        assert (boot.high - boot.low) == pytest.approx(normal.high - normal.low, rel=0.15)


def test_groups_may_be_any_labels() -> None:
    log = small_log(group=np.array(["ana", "bo", "ana", "bo"]))
    estimate = off_policy_value(log, target=TARGET, random_state=0, n_bootstrap=200)
    assert estimate.n_groups == 2 and estimate.low <= estimate.value <= estimate.high


# Errors ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"propensity": np.array([0.5, 0.0, 0.8, 0.5])},
            r"propensity must lie in \(0, 1\], got 0.0 at row 1",
        ),
        ({"propensity": np.array([0.5, 1.2, 0.8, 0.5])}, r"propensity must lie in \(0, 1\], got 1.2"),
        ({"propensity": np.array([0.5, -0.1, 0.8, 0.5])}, r"propensity must lie in \(0, 1\]"),
        ({"propensity": np.array([0.5, np.nan, 0.8, 0.5])}, "propensity contains NaN or infinite"),
        ({"reward": np.array([1.0, np.inf, 0.5, 1.0])}, "reward contains NaN or infinite"),
        ({"reward": np.array([1.0, 0.5, 1.0])}, "reward has 3 rows but action has 4"),
        ({"propensity": PROPENSITY[:, None]}, r"propensity must be 1-D \(n,\)"),
        ({"action": np.array([0.0, 1.5, 0.0, 1.0])}, "action must hold integers"),
        ({"action": np.array([0, -1, 0, 1])}, "action has -1"),
        ({"action": np.array([], dtype=int)}, "the log is empty"),
        ({"group": np.array([1, 2, 3])}, "group has 3 rows but action has 4"),
        ({"group": np.array([1.0, np.nan, 1.0, 2.0])}, "group contains NaN"),
    ],
)
def test_a_bad_log_is_refused_with_what_is_wrong(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        small_log(**changes)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"target": TARGET[:3]}, r"target must have shape \(n, S\) with n=4"),
        ({"target": TARGET[:, 0]}, r"target must have shape \(n, S\)"),
        ({"target": TARGET * 0.9}, "every row of target must sum to 1, row 0 sums to 0.9"),
        ({"target": np.array([[1.5, -0.5], *TARGET[1:]])}, "target holds negative probabilities"),
        ({"target": np.where(TARGET == 1.0, np.nan, TARGET)}, "target contains NaN"),
        ({"target": TARGET[:, :1] + TARGET[:, 1:]}, "action has 1, outside the target's 1 strategies"),
        ({"method": "dr"}, "dr needs reward_hat"),
        ({"method": "dm"}, "dm needs reward_hat"),
        ({"method": "switch-dr", "tau": 2.0}, "switch-dr needs reward_hat"),
        ({"method": "ips", "reward_hat": REWARD_HAT}, "ips uses no reward model"),
        (
            {"method": "dr", "reward_hat": REWARD_HAT[:, :1]},
            r"reward_hat must have the target's shape \(4, 2\)",
        ),
        ({"method": "dr", "reward_hat": np.full((4, 2), np.inf)}, "reward_hat contains NaN or infinite"),
        ({"method": "switch-dr", "reward_hat": REWARD_HAT}, "switch-dr needs tau"),
        ({"tau": 2.0}, "tau is a parameter of switch-dr only"),
        ({"method": "wdr"}, "The 'method' parameter"),
        ({"clip": 0.0}, "The 'clip' parameter"),
        ({"n_bootstrap": 0}, "The 'n_bootstrap' parameter"),
        ({"level": 1.0}, "The 'level' parameter"),
        ({"target": AVOIDS_LOGGED, "method": "snips"}, "probability 0 to every logged strategy"),
    ],
)
def test_bad_arguments_are_refused_with_what_is_wrong(kwargs: dict[str, Any], message: str) -> None:
    arguments = {"target": TARGET, **kwargs}
    with pytest.raises(ValueError, match=message):
        off_policy_value(small_log(), **arguments)


def test_an_interval_needs_two_sessions_or_two_learners() -> None:
    one = PolicyLog(action=[0], reward=[1.0], propensity=[0.5])
    with pytest.raises(ValueError, match="at least two sessions"):
        off_policy_value(one, target=[[0.5, 0.5]])
    same = small_log(group=np.zeros(4))
    with pytest.raises(ValueError, match="at least two groups"):
        off_policy_value(same, target=TARGET)


def test_estimate_fields() -> None:
    estimate = off_policy_value(small_log(), target=TARGET)
    assert isinstance(estimate, Estimate)
    assert all(isinstance(getattr(estimate, f), float) for f in ("value", "low", "high", "ess"))
