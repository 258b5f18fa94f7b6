"""Numerical core of the optimization-based meta-learner: a few preconditioned, proximal
gradient steps on the sessions of many learners at once, and their exact reverse pass.

Per learner b, theta[b] is (S, D1): for each strategy an intercept (column 0) and slopes on the
standardised situation (columns 1:). A session j of learner b with strategy s has the linear
predictor x_j . theta[b, s] and the quasi-binomial loss -y log p - (1 - y) log(1 - p).

One inner step, from theta_0 = init:

    g_t = sum_j w_j (p_j - y_j) x_j                      (into block s_j)
    u_t = P * (A g_t + theta_t - init)
    theta_{t+1} = theta_t - eta_t u_t

A is the learned step matrix: dense S x S on the intercepts (a step on one strategy moves its
relatives), a diagonal on the slopes (Meta-SGD's per-parameter step sizes). Its inverse is the
proximal pull toward `init`, so the steps descend the MAP objective of a Gaussian prior with
covariance A. P preconditions the step by h = sum_j w_j x_j^2 / 4, an upper bound of the
curvature, so it is stable for 1 session and for 100: on the intercepts P = (I + A diag(h))^{-1}
(inverted only over the strategies a learner has touched, see `Coupling`), with which a step of
length 1 minimises the objective's quadratic bound in the intercepts exactly, however strongly A
couples the strategies; on the slopes, whose A is diagonal, it is the diagonal D = 1 / (1 +
diag(A) * h). A diagonal damping on coupled intercepts too (P's diagonal alone) held the learned
step lengths near 0.4, and four steps then stopped well short of the mode once a learner had ten
sessions or more. w_j = exp(-decay * age_j), age_j the number of the learner's sessions after j.
The reverse pass differentiates the outer loss through every step, P and w included.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from coach.engine.stats import BLOCKS_FROM, used_blocks

_DENSE = 4096  # a one-hot scatter matrix this small (one learner's history) is faster dense


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


@dataclass(frozen=True)
class Rows:
    """Sessions of a batch of B learners: whose (b), which strategy, features, outcome."""

    b: np.ndarray  # (n,) learner within the batch
    s: np.ndarray  # (n,) strategy
    x: np.ndarray  # (n, D1) 1 then the standardised situation
    y: np.ndarray  # (n,) outcome in [0, 1]
    key: np.ndarray  # (n,) b * S + s, the row's (learner, strategy) block
    n_blocks: int  # B * S
    one_hot: np.ndarray | None  # (B * S, n) for a small batch, else None

    @classmethod
    def make(
        cls, b: np.ndarray, s: np.ndarray, x: np.ndarray, y: np.ndarray, n_learners: int, n_strategies: int
    ) -> Rows:
        n = b.shape[0]
        key = b * n_strategies + s
        n_blocks = n_learners * n_strategies
        one_hot = None
        if n_blocks * n <= _DENSE:
            one_hot = np.zeros((n_blocks, n))
            one_hot[key, np.arange(n)] = 1.0
        return cls(b, s, x, y, key, n_blocks, one_hot)

    def eta(self, theta: np.ndarray) -> np.ndarray:
        return np.einsum("nd,nd->n", self.x, theta[self.b, self.s])

    def scatter(self, values: np.ndarray) -> np.ndarray:
        """Rows of `values` (n, c) summed by block: (B * S, c)."""
        if self.one_hot is not None:
            return self.one_hot @ values
        return np.stack(
            [np.bincount(self.key, weights=column, minlength=self.n_blocks) for column in values.T], axis=1
        )

    def blocks(self, r: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        """sum_j r_j x_j into the (b, s) block of each row: (B, S, D1)."""
        return self.scatter(r[:, None] * self.x).reshape(shape)


@dataclass(frozen=True)
class Meta:
    """The meta-learned quantities, in their natural parametrisation."""

    init: np.ndarray  # (S, D1)
    a_int: np.ndarray  # (S, S) step matrix on the intercepts, symmetric positive definite
    a_slope: np.ndarray  # (S, D1 - 1) step sizes on the slopes
    eta: np.ndarray  # (T,) step lengths
    decay: float  # per session of age
    # False: the intercepts' step is damped by P's diagonal alone, as learners saved before the
    # coupled step were meta-trained; they predict as they did (meta-training is coupled).
    coupled: bool = True

    def diag(self) -> np.ndarray:
        """diag(A) as an (S, D1) array."""
        return np.concatenate([np.diag(self.a_int)[:, None], self.a_slope], axis=1)

    def apply(self, g: np.ndarray) -> np.ndarray:
        """A g for a (B, S, D1) array."""
        out = np.empty_like(g)
        out[:, :, 0] = g[:, :, 0] @ self.a_int
        out[:, :, 1:] = g[:, :, 1:] * self.a_slope
        return out


class Coupling:
    """P = (I + A diag(h_b))^{-1} on each learner's intercepts, in block form. h is 0 on the
    strategies a learner has not touched (U), so M = I + A diag(h) is the identity in their
    columns and, with T the touched ones,

        P q = q - A (h * z),  z_T = M_TT^{-1} q_T        (z_T is also (P q)_T)
        P^T d = d on U,       M_TT^{-T} (d_T - h_T * (A_UT^T d_U)) on T

    Only an m x m block is inverted per learner, m the strategies they touched (padded with
    untouched ones to the next power of two, so learners of a size share one batched inverse).
    After a few sessions m is far below S: on IntroProg (S = 64) the inverses cost a twentieth
    of the dense ones. Below `BLOCKS_FROM` strategies one dense S x S inverse is cheaper than
    sorting learners into blocks."""

    def __init__(self, a_int: np.ndarray, h: np.ndarray) -> None:
        s = h.shape[1]
        self.groups: list[tuple[np.ndarray, ...]] = []
        self.dense: np.ndarray | None = None
        if s < BLOCKS_FROM:
            self.dense = np.linalg.inv(np.eye(s) + a_int[None] * h[:, None, :])
            return
        for rows, idx in used_blocks(h > 0.0, h.shape[0]):
            a_cols = a_int.T[idx]  # (B_m, m, S): A_:,T transposed, for each learner
            h_t = np.take_along_axis(h[rows], idx, axis=1)
            block = np.take_along_axis(a_cols, idx[:, None, :], axis=2).transpose(0, 2, 1)  # A_TT
            inv = np.linalg.inv(np.eye(idx.shape[1]) + block * h_t[:, None, :])
            self.groups.append((rows, idx, a_cols, h_t, inv))

    def apply(self, q: np.ndarray) -> np.ndarray:
        """P q for q (B, S)."""
        if self.dense is not None:
            return np.matmul(self.dense, q[:, :, None])[:, :, 0]
        out = q.copy()
        for rows, idx, a_cols, h_t, inv in self.groups:
            z = np.matmul(inv, np.take_along_axis(q[rows], idx, axis=1)[:, :, None])[:, :, 0]
            out[rows] -= np.matmul((h_t * z)[:, None, :], a_cols)[:, 0]
        return out

    def apply_t(self, d: np.ndarray) -> np.ndarray:
        """P^T d for d (B, S)."""
        if self.dense is not None:
            return np.matmul(d[:, None, :], self.dense)[:, 0]
        out = d.copy()
        for rows, idx, a_cols, h_t, inv in self.groups:
            here = d[rows]
            rest = here.copy()
            np.put_along_axis(rest, idx, 0.0, axis=1)  # d_U
            rhs = np.take_along_axis(here, idx, axis=1) - h_t * np.matmul(a_cols, rest[:, :, None])[:, :, 0]
            np.put_along_axis(rest, idx, np.matmul(rhs[:, None, :], inv)[:, 0], axis=1)
            out[rows] = rest
        return out


class Damping:
    """P's diagonal alone on the intercepts: the step of learners saved before the coupled one."""

    def __init__(self, damp: np.ndarray) -> None:
        self.damp = damp

    def apply(self, q: np.ndarray) -> np.ndarray:
        return self.damp * q

    def apply_t(self, d: np.ndarray) -> np.ndarray:
        return self.damp * d


@dataclass
class Trace:
    """What the reverse pass needs of a forward one."""

    thetas: list[np.ndarray]
    probs: list[np.ndarray]
    grads: list[np.ndarray]
    damp: np.ndarray  # D (B, S, D1); coupled, its intercept column is unused
    coupling: Coupling | Damping  # the intercepts' step
    curvature: np.ndarray  # h (B, S, D1)
    weights: np.ndarray  # w (n,)
    age: np.ndarray  # (n,)


def adapt(meta: Meta, rows: Rows, age: np.ndarray, n_learners: int) -> tuple[np.ndarray, Trace]:
    """theta_T (B, S, D1) for each learner of `rows`, and the trace of the steps."""
    shape = (n_learners, *meta.init.shape)
    w = np.exp(-meta.decay * age)
    h = rows.scatter(w[:, None] * rows.x**2).reshape(shape) * 0.25
    damp = 1.0 / (1.0 + meta.diag()[None] * h)
    coupling: Coupling | Damping = (
        Coupling(meta.a_int, h[:, :, 0]) if meta.coupled else Damping(damp[:, :, 0])
    )
    theta = np.broadcast_to(meta.init, shape).copy()
    trace = Trace([], [], [], damp, coupling, h, w, age)
    for eta in meta.eta:
        p = sigmoid(rows.eta(theta))
        g = rows.blocks(w * (p - rows.y), shape)
        trace.thetas.append(theta)
        trace.probs.append(p)
        trace.grads.append(g)
        theta = theta - eta * _precondition(damp, coupling, meta.apply(g) + theta - meta.init)
    return theta, trace


def _precondition(damp: np.ndarray, coupling: Coupling | Damping, q: np.ndarray) -> np.ndarray:
    """The step direction: `coupling` on the intercepts, the diagonal `damp` on the slopes."""
    out = damp * q
    out[:, :, 0] = coupling.apply(q[:, :, 0])
    return out


@dataclass(frozen=True)
class MetaGrad:
    init: np.ndarray
    a_int: np.ndarray
    a_slope: np.ndarray
    eta: np.ndarray
    decay: float


def outer_loss(theta: np.ndarray, rows: Rows, row_weight: np.ndarray) -> tuple[float, np.ndarray]:
    """Weighted cross-entropy of later sessions at the adapted parameters, and its gradient."""
    eta = rows.eta(theta)
    p = sigmoid(eta)
    # -y log p - (1-y) log(1-p), written stably in eta
    loss = np.logaddexp(0.0, eta) - rows.y * eta
    grad = rows.blocks(row_weight * (p - rows.y), theta.shape)
    return float(row_weight @ loss), grad


def backward(meta: Meta, rows: Rows, trace: Trace, v: np.ndarray) -> MetaGrad:
    """Gradient of the outer loss with respect to the meta-parameters, given v = its gradient
    with respect to theta_T, by reverse steps through `adapt`."""
    if not meta.coupled:
        raise ValueError("meta-training takes the coupled step")
    shape = v.shape
    d_init = np.zeros(shape[1:])
    d_a_int = np.zeros_like(meta.a_int)
    d_a_slope = np.zeros_like(meta.a_slope)
    d_diag = np.zeros_like(meta.a_slope)  # through D (slopes)
    d_eta = np.zeros_like(meta.eta)
    d_decay = 0.0
    d_h = np.zeros(shape)  # d loss / d h, through D and the coupling
    damp, coupling, w, age = trace.damp, trace.coupling, trace.weights, trace.age
    a_diag = meta.diag()[None]
    h_int = trace.curvature[:, :, 0]
    for t in range(len(meta.eta) - 1, -1, -1):
        eta, theta, p, g = meta.eta[t], trace.thetas[t], trace.probs[t], trace.grads[t]
        q = meta.apply(g) + theta - meta.init
        u = _precondition(damp, coupling, q)
        d_eta[t] = -float(np.sum(v * u))
        # theta_{t+1} = theta_t - eta P q, P the coupling on intercepts and D on slopes
        du = -eta * v
        dv = du * damp  # d loss / d q
        dv[:, :, 0] = coupling.apply_t(du[:, :, 0])
        # u = M^{-1} q with M = I + A diag(h): d loss / d M = -dv u^T, one rank-one term per
        # learner, taken straight into A (times h) and h (times A) without forming it.
        d_a_int -= dv[:, :, 0].T @ (h_int * u[:, :, 0])
        d_h[:, :, 0] -= u[:, :, 0] * (dv[:, :, 0] @ meta.a_int)
        dd = (du * q)[:, :, 1:]  # d loss / d D, slopes
        d_diag += np.sum(dd * (-trace.curvature[:, :, 1:] * damp[:, :, 1:] ** 2), axis=0)
        d_h[:, :, 1:] += dd * (-a_diag[:, :, 1:] * damp[:, :, 1:] ** 2)
        d_a_int += np.einsum("bi,bj->ij", g[:, :, 0], dv[:, :, 0])
        d_a_slope += np.sum(dv[:, :, 1:] * g[:, :, 1:], axis=0)
        d_init -= np.sum(dv, axis=0)
        ag = meta.apply(dv)  # A^T dv: d loss / d g
        # g = sum_j w_j (p_j - y_j) x_j: through w (decay) and through p (theta_t)
        proj = np.einsum("nd,nd->n", rows.x, ag[rows.b, rows.s])
        d_decay += float(np.sum(proj * (p - rows.y) * w * -age))
        v = v + dv + rows.blocks(w * p * (1.0 - p) * proj, shape)
    d_init += np.sum(v, axis=0)
    # h = sum_j w_j x_j^2 / 4
    d_hrow = 0.25 * np.einsum("nd,nd->n", rows.x**2, d_h[rows.b, rows.s])
    d_decay += float(np.sum(d_hrow * w * -age))
    d_a_slope += d_diag
    return MetaGrad(d_init, d_a_int, d_a_slope, d_eta, d_decay)
