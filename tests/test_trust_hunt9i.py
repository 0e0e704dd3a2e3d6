"""Hunt (issue #9): scientific NumPy/SciPy programs written as scientists and ML people write them
(n-body and spring chains, heat and wave stencils, Verlet loops into preallocated trajectories, mixture and
Bayesian log-likelihoods, scipy.stats and scipy.special sums, softmax cross-entropy with integer labels,
masked and regularised losses, attention, layer norm, convolutions and pooling, padding and np.gradient,
discounting, Black-Scholes, Monte Carlo with a seeded generator, least squares, Gaussian-process evidence,
eigen-objectives, matrix exponentials) and edge inputs (float32, 0-d, size-1 and empty axes, integer
arrays, Fortran-ordered and strided views, one array passed as two arguments). Each is checked with grad in
every float argument, vjp, jvp, value_and_grad and hvp against central differences of the function, against
autograd where autograd runs the program, and for unchanged arguments and gradients of the argument's
dtype and shape."""

import copy
import os
import types

import numpy as np
import pytest

import adjoint_compiler as ac
from tests.references import central_in, line_of

try:  # (CI's Python 3.9 + NumPy 1.26 run has no SciPy: the programs calling it are skipped there)
    import scipy.integrate as sintegrate
    import scipy.linalg as sla
    import scipy.signal as signal
    import scipy.special as special
    import scipy.stats as stats
except ImportError:
    sintegrate = sla = signal = special = stats = None

_SCIPY_NAMES = {"sintegrate", "sla", "signal", "special", "stats"}


def _calls_scipy(f):
    """Whether ``f`` (or a function defined in it) reads one of the SciPy modules above."""
    todo, names = [f.__code__], set()
    while todo:
        code = todo.pop()
        names |= set(code.co_names)
        todo += [c for c in code.co_consts if isinstance(c, types.CodeType)]
    return bool(names & _SCIPY_NAMES)


def _needs_scipy(f):
    if special is None and _calls_scipy(f):
        pytest.skip("SciPy is not installed")


RNG = np.random.default_rng(9)


def _r(*shape):
    return RNG.standard_normal(shape)


# ---------------------------------------------------------------- physics
def nbody_energy(pos, m):
    d = pos[:, None, :] - pos[None, :, :]
    r = np.sqrt(np.sum(d**2, axis=-1) + np.eye(pos.shape[0]))
    i, j = np.triu_indices(pos.shape[0], k=1)
    potential = -np.sum(m[i] * m[j] / r[i, j])
    return potential + 0.5 * np.sum(m * np.sum(pos**2, axis=1))


def spring_chain_roll(x, k):
    stretch = np.roll(x, -1) - x - 1.0
    return 0.5 * k * np.sum(stretch**2) + 0.25 * np.sum(x**4)


def heat_explicit(u0, alpha):
    u = u0.copy()
    for _ in range(6):
        new = u.copy()
        new[1:-1] = u[1:-1] + alpha * (u[2:] - 2.0 * u[1:-1] + u[:-2])
        new[0] = 0.0
        new[-1] = new[-2]
        u = new
    return np.sum(u**2)


def wave_trajectory(u0, c):
    steps, n = 6, u0.shape[0]
    U = np.zeros((steps, n))
    U[0] = u0
    U[1] = u0
    for t in range(1, steps - 1):
        U[t + 1, 1:-1] = 2.0 * U[t, 1:-1] - U[t - 1, 1:-1] + c**2 * (U[t, 2:] - 2.0 * U[t, 1:-1] + U[t, :-2])
    return np.sum(U[-1] ** 2) + np.sum(U[:, 2] * U[:, 1])


def verlet_anharmonic(x0, v0, k):
    n, dt = 8, 0.1
    xs = np.empty(n)
    vs = np.empty(n)
    xs[0], vs[0] = x0, v0
    a = -k * x0 - x0**3
    for t in range(n - 1):
        xs[t + 1] = xs[t] + dt * vs[t] + 0.5 * dt * dt * a
        a_new = -k * xs[t + 1] - xs[t + 1] ** 3
        vs[t + 1] = vs[t] + 0.5 * dt * (a + a_new)
        a = a_new
    return np.sum(xs**2) + 0.5 * np.sum(vs**2)


def pendulum_rk4(state, g):
    def rhs(s):
        return np.array([s[1], -g * np.sin(s[0])])

    dt = 0.05
    s = state
    for _ in range(5):
        k1 = rhs(s)
        k2 = rhs(s + 0.5 * dt * k1)
        k3 = rhs(s + 0.5 * dt * k2)
        k4 = rhs(s + dt * k3)
        s = s + dt / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
    return s[0] ** 2 + np.cos(s[1])


def lennard_jones_masked(pos):
    n = pos.shape[0]
    d = pos[:, None, :] - pos[None, :, :]
    r2 = np.sum(d * d, axis=2)
    off = ~np.eye(n, dtype=bool)
    inv6 = 1.0 / r2[off] ** 3
    return 2.0 * np.sum(inv6**2 - inv6)


def gravity_forces_einsum(pos, m):
    d = pos[None, :, :] - pos[:, None, :]
    r3 = (np.einsum("ijk,ijk->ij", d, d) + 0.5) ** 1.5
    F = np.einsum("j,ijk,ij->ik", m, d, 1.0 / r3)
    return np.sum(F**2)


def particles_in_box(x, v):
    dt = 0.1
    for _ in range(4):
        x = x + dt * v
        v = np.where(np.abs(x) > 1.0, -v, v)
    return np.sum(x**2 * v)


# ---------------------------------------------------------------- probabilistic models
def gmm_loglik(mu, log_sigma, logits, data):
    logw = logits - special.logsumexp(logits)
    sigma = np.exp(log_sigma)
    z = (data[:, None] - mu[None, :]) / sigma[None, :]
    comp = -0.5 * z**2 - log_sigma[None, :] - 0.5 * np.log(2 * np.pi)
    return np.sum(special.logsumexp(comp + logw[None, :], axis=1))


def bayes_linreg_evidence(log_alpha, log_beta, X, y):
    alpha, beta = np.exp(log_alpha), np.exp(log_beta)
    n, d = X.shape
    A = alpha * np.eye(d) + beta * X.T @ X
    m = beta * np.linalg.solve(A, X.T @ y)
    sign, logdet = np.linalg.slogdet(A)
    fit = beta / 2 * np.sum((y - X @ m) ** 2) + alpha / 2 * m @ m
    return d / 2 * log_alpha + n / 2 * log_beta - fit - 0.5 * logdet - n / 2 * np.log(2 * np.pi)


def norm_logpdf_cdf(mu, sigma, data):
    ll = np.sum(stats.norm.logpdf(data, mu, sigma))
    return ll + np.sum(stats.norm.cdf((data - mu) / sigma))


def special_mix(a):
    return np.sum(special.gammaln(a) + special.digamma(a) * a + special.expit(a - 2.0))


def beta_binomial(a, b, k, n):
    return np.sum(special.betaln(k + a, n - k + b) - special.betaln(a, b))


def poisson_regression(w, X, counts):
    eta = X @ w
    return np.sum(counts * eta - np.exp(eta) - special.gammaln(counts + 1.0))


def student_t_loglik(loc, log_scale, data):
    return np.sum(stats.t.logpdf(data, 4.0, loc, np.exp(log_scale)))


def dirichlet_logpdf(alpha, p):
    return special.gammaln(np.sum(alpha)) - np.sum(special.gammaln(alpha)) + np.sum((alpha - 1.0) * np.log(p))


def logistic_loglik_log1p(w, X, y):
    z = X @ w
    return np.sum(y * z - np.logaddexp(0.0, z)) - 0.5 * np.sum(np.log1p(w**2))


def gamma_logpdf_sum(shape, rate, data):
    return np.sum(stats.gamma.logpdf(data, shape, scale=1.0 / rate))


# ---------------------------------------------------------------- ML losses and layers
def softmax_xent_int_labels(W, b, X, labels):
    logits = X @ W + b
    logp = logits - special.logsumexp(logits, axis=1, keepdims=True)
    return -np.mean(logp[np.arange(X.shape[0]), labels])


def masked_mse_where(pred, target):
    valid = np.isfinite(target)
    safe = np.where(valid, target, 0.0)
    err = np.where(valid, pred - safe, 0.0)
    return np.sum(err**2) / np.sum(valid)


def boolean_index_loss(pred, target):
    r = pred - target
    pos = target > 0
    return np.sum(r[pos] ** 2) + 0.1 * np.sum(np.abs(r[~pos]))


def elastic_net(w, X, y, l1, l2):
    r = X @ w - y
    return 0.5 * np.mean(r**2) + l1 * np.sum(np.abs(w)) + 0.5 * l2 * np.dot(w, w)


def hinge_svm(w, b, X, y):
    margins = 1.0 - y * (X @ w + b)
    return np.mean(np.maximum(0.0, margins)) + 0.01 * np.sum(w**2)


def attention_einsum(Q, K, V):
    scores = np.einsum("id,jd->ij", Q, K) / np.sqrt(Q.shape[1])
    scores = scores - np.max(scores, axis=1, keepdims=True)
    w = np.exp(scores)
    w = w / np.sum(w, axis=1, keepdims=True)
    out = np.einsum("ij,jd->id", w, V)
    return np.sum(out**2)


def layer_norm(x, gamma, beta):
    mu = np.mean(x, axis=-1, keepdims=True)
    var = np.var(x, axis=-1, keepdims=True)
    y = (x - mu) / np.sqrt(var + 1e-5) * gamma + beta
    return np.sum(np.tanh(y) * np.arange(y.size).reshape(y.shape))


def conv1d_convolve(x, kernel):
    y = np.convolve(x, kernel, mode="valid")
    return np.sum(np.tanh(y) ** 2) + np.sum(np.convolve(x, kernel, mode="same") * x)


def conv1d_sliding(x, kernel):
    k = kernel.shape[0]
    windows = np.stack([x[i : i + k] for i in range(x.shape[0] - k + 1)])
    return np.sum((windows @ kernel) ** 2)


def max_pool_reshape(x):
    pooled = x.reshape(-1, 2).max(axis=1)
    return np.sum(pooled**3)


def batch_norm_mlp(W1, W2, X, y):
    h = X @ W1
    h = (h - h.mean(axis=0)) / np.sqrt(h.var(axis=0) + 1e-5)
    h = np.maximum(h, 0.1 * h)
    out = h @ W2
    r = out[:, 0] - y
    return np.sum(np.where(np.abs(r) < 1.0, 0.5 * r**2, np.abs(r) - 0.5))


def gru_cell_loop(Wz, Wh, xs):
    h = np.zeros(Wz.shape[0])
    for x in xs:
        z = special.expit(Wz @ np.concatenate([h, x]))
        cand = np.tanh(Wh @ np.concatenate([z * h, x]))
        h = (1 - z) * h + z * cand
    return np.sum(h**2)


def avg_pool_2d(img):
    h, w = img.shape
    pooled = img.reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))
    return np.sum(np.sin(pooled) * pooled)


# ---------------------------------------------------------------- image operations
def pad_modes_laplacian(img):
    total = 0.0
    for mode in ("edge", "reflect", "wrap", "symmetric"):
        p = np.pad(img, 1, mode=mode)
        lap = p[:-2, 1:-1] + p[2:, 1:-1] + p[1:-1, :-2] + p[1:-1, 2:] - 4.0 * img
        total = total + np.sum(lap**2)
    return total + np.sum(np.pad(img, ((1, 0), (0, 2)), mode="constant", constant_values=0.5) ** 3)


def np_gradient_energy(img):
    gy, gx = np.gradient(img)
    return np.sum(gx**2 + gy**2) + np.sum(np.gradient(img[0], 0.5) ** 2)


def laplacian_2d_slices(u):
    lap = np.zeros_like(u)
    lap[1:-1, 1:-1] = u[:-2, 1:-1] + u[2:, 1:-1] + u[1:-1, :-2] + u[1:-1, 2:] - 4 * u[1:-1, 1:-1]
    lap[0, :] = lap[1, :]
    return np.sum(lap**2) + np.sum(u[:, 0] ** 2)


def total_variation(img):
    dx = np.diff(img, axis=1)
    dy = np.diff(img, axis=0)
    return np.sum(np.sqrt(dx[:-1, :] ** 2 + dy[:, :-1] ** 2 + 1e-3))


def gaussian_blur_separable(img, sigma):
    t = np.arange(-2, 3)
    k = np.exp(-(t**2) / (2 * sigma**2))
    k = k / k.sum()
    rows = np.array([np.convolve(r, k, mode="same") for r in img])
    cols = np.array([np.convolve(c, k, mode="same") for c in rows.T]).T
    return np.sum(cols**2)


# ---------------------------------------------------------------- finance
def discounted_cashflows(rates, cash):
    discount = np.cumprod(1.0 / (1.0 + rates))
    return np.sum(cash * discount)


def black_scholes_call(S, K, r, sigma, T):
    d1 = (np.log(S / K) + (r + 0.5 * sigma**2) * T) / (sigma * np.sqrt(T))
    d2 = d1 - sigma * np.sqrt(T)
    return np.sum(S * stats.norm.cdf(d1) - K * np.exp(-r * T) * stats.norm.cdf(d2))


def monte_carlo_call(S0, sigma):
    rng = np.random.default_rng(42)
    z = rng.standard_normal(2000)
    ST = S0 * np.exp(-0.5 * sigma**2 + sigma * z)
    payoff = np.log1p(np.exp(ST - 1.0))  # a smooth call
    return np.mean(payoff)


def portfolio_variance(w, cov):
    w = w / np.sum(w)
    return w @ cov @ w - 0.1 * np.sum(w * np.log(np.abs(w)))


def geometric_brownian_paths(mu, sigma):
    rng = np.random.default_rng(0)
    dW = rng.standard_normal((50, 4)) * 0.1
    logS = np.cumsum((mu - 0.5 * sigma**2) * 0.01 + sigma * dW, axis=0)
    return np.mean(np.exp(logS[-1]))


# ---------------------------------------------------------------- linear-algebra models
def ridge_solve(w0, X, y, lam):
    A = X.T @ X + lam * np.eye(X.shape[1])
    w = np.linalg.solve(A, X.T @ y + w0)
    return np.sum((X @ w - y) ** 2) + np.sum(w * w0)


def lstsq_fit(X, y):
    coef = np.linalg.lstsq(X, y, rcond=None)[0]
    return np.sum(coef**2) + np.sum((X @ coef - y) ** 3)


def gp_log_marginal(log_ls, log_var, X, y):
    d2 = np.sum((X[:, None, :] - X[None, :, :]) ** 2, axis=-1)
    K = np.exp(log_var) * np.exp(-0.5 * d2 / np.exp(2 * log_ls)) + 0.1 * np.eye(X.shape[0])
    L = np.linalg.cholesky(K)
    alpha = sla.cho_solve((L, True), y)
    return -0.5 * y @ alpha - np.sum(np.log(np.diag(L))) - 0.5 * X.shape[0] * np.log(2 * np.pi)


def gp_slogdet_solve_triangular(X, y):
    K = X @ X.T + np.eye(X.shape[0])
    L = sla.cholesky(K, lower=True)
    v = sla.solve_triangular(L, y, lower=True)
    sign, logdet = np.linalg.slogdet(K)
    return 0.5 * v @ v + 0.5 * logdet


def pca_top_eigs(X):
    C = np.cov(X, rowvar=False)
    w, V = np.linalg.eigh(C)
    return np.sum(w[-2:]) + np.sum(V[:, -1] ** 4)


def matrix_exponential(A, t):
    return np.trace(sla.expm(A * t)) + np.sum(sla.expm(A) ** 2)


def inverse_and_det(A):
    return np.sum(np.linalg.inv(A) ** 2) + np.log(np.abs(np.linalg.det(A)))


def norms_along_axes(M):
    return np.sum(np.linalg.norm(M, axis=1)) + np.linalg.norm(M, "fro") + np.sum(np.linalg.norm(M, ord=1, axis=0))


def qr_diag(A):
    Q, R = np.linalg.qr(A)
    return np.sum(np.abs(np.diag(R))) + np.sum(Q[:, 0] ** 2 * np.arange(A.shape[0]))


def kalman_filter(q, obs):
    m, P = 0.0, 1.0
    ll = 0.0
    for z in obs:
        P = P + q
        S = P + 0.5
        K = P / S
        ll = ll - 0.5 * (np.log(2 * np.pi * S) + (z - m) ** 2 / S)
        m = m + K * (z - m)
        P = (1 - K) * P
    return ll


# ---------------------------------------------------------------- edge inputs
def rosen_f32(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def zero_d_array(x, w):
    return np.sin(x) * np.sum(w * x) + x**2


def size_one_axes(x):
    s = np.sum(x, axis=0, keepdims=True)
    return np.sum(np.exp(x - np.max(x, axis=1, keepdims=True)) * s) + np.squeeze(x[:, :1]).sum()


def empty_axis(x, e):
    return np.sum(x**2) + np.sum(e, axis=0).sum() + np.sum(np.exp(e) * 2.0)


def integer_array_input(w, idx, counts):
    picked = w[idx]
    return np.sum(picked**2 * counts) + np.sum(w * counts.sum())


def integer_matrix_times(w, A):
    return np.sum((A @ w) ** 2) + np.sum(A.T @ np.tanh(A @ w))


def two_arguments(a, b):
    return np.sum(a * b**2) + np.sum(np.outer(a, b) ** 2)


def two_matrices(A, B):
    return np.sum((A @ B) ** 2) + np.trace(B @ A)


def strided_and_transposed(x, M):
    return np.sum(x * M[0]) + np.sum(M @ M.T) * np.prod(x)


def scaled_copy(a, b):
    c = a.copy()
    c *= b
    c[0] += b[-1]
    return np.sum(c * a) + np.sum(np.sin(b))


def float32_scipy(x):
    return np.sum(special.expit(x) * special.gammaln(x + 3.0))


def scalar_and_array_broadcast(s, v):
    return np.sum(np.exp(-s * v**2)) * s


def ddof_std(x):
    return np.std(x, ddof=1) + np.var(x, axis=0, ddof=1).sum()


X5, Y5 = _r(5, 3), _r(5)
M33 = _r(3, 3) + 3.0 * np.eye(3)
IMG = _r(4, 6)
POS = _r(4, 2)
F32 = np.array([0.3, -0.7, 1.1, 0.4], dtype=np.float32)
F_ORDER = np.asfortranarray(_r(3, 4))
BASE = _r(8)


class Case:
    def __init__(self, f, args, wrt, hvp=True, ag=True, rtol=1e-5, atol=1e-6, name=None):
        self.f, self.args, self.wrt, self.hvp, self.ag, self.rtol, self.atol = f, args, wrt, hvp, ag, rtol, atol
        self.name = name or f.__name__


CASES = [
    Case(nbody_energy, (POS, np.array([1.0, 2.0, 0.5, 1.5])), (0, 1)),
    Case(spring_chain_roll, (_r(5), 2.0), (0, 1)),
    Case(heat_explicit, (_r(7), 0.2), (0, 1), ag=False),
    Case(wave_trajectory, (_r(6), 0.4), (0, 1), ag=False),
    Case(verlet_anharmonic, (0.7, -0.3, 1.5), (0, 1, 2), ag=False),
    Case(pendulum_rk4, (np.array([0.4, 0.1]), 9.8), (0, 1)),
    Case(lennard_jones_masked, (np.array([[0.0, 0.0], [1.1, 0.1], [0.2, 1.2]]),), 0),
    Case(gravity_forces_einsum, (POS, np.array([1.0, 2.0, 0.5, 1.5])), (0, 1)),
    Case(particles_in_box, (np.array([0.5, -0.95, 0.2]), np.array([0.3, -0.4, 1.0])), (0, 1)),
    Case(gmm_loglik, (np.array([-1.0, 1.0]), np.array([0.1, -0.2]), np.array([0.3, -0.1]), _r(6)), (0, 1, 2)),
    Case(bayes_linreg_evidence, (0.1, 0.3, X5, Y5), (0, 1, 2, 3)),
    Case(norm_logpdf_cdf, (0.3, 1.4, _r(5)), (0, 1, 2)),
    Case(special_mix, (np.array([0.7, 1.5, 3.2]),), 0),
    Case(beta_binomial, (1.5, 2.5, np.array([1.0, 3.0, 0.0]), np.array([4.0, 5.0, 2.0])), (0, 1)),
    Case(poisson_regression, (0.3 * _r(3), X5, np.array([0.0, 1.0, 3.0, 2.0, 1.0])), (0, 1)),
    Case(student_t_loglik, (0.2, -0.1, _r(6)), (0, 1, 2)),
    Case(dirichlet_logpdf, (np.array([1.5, 2.0, 3.0]), np.array([0.2, 0.3, 0.5])), (0, 1)),
    Case(logistic_loglik_log1p, (_r(3), X5, np.array([1.0, 0.0, 1.0, 1.0, 0.0])), (0, 1)),
    Case(gamma_logpdf_sum, (2.5, 1.5, np.array([0.5, 1.2, 3.0])), (0, 1, 2), ag=False),
    Case(softmax_xent_int_labels, (_r(3, 4), _r(4), X5, np.array([0, 3, 1, 1, 2])), (0, 1, 2)),
    Case(masked_mse_where, (_r(5), np.array([0.5, np.nan, -1.0, np.inf, 2.0])), 0),
    Case(boolean_index_loss, (_r(6), np.array([0.5, -0.2, 1.0, -1.5, 2.0, -0.1]) * 3), (0, 1)),
    Case(elastic_net, (_r(3), X5, Y5, 0.1, 0.2), (0, 1, 2, 3, 4)),
    Case(hinge_svm, (_r(3), 0.1, X5, np.array([1.0, -1.0, 1.0, 1.0, -1.0])), (0, 1, 2)),
    Case(attention_einsum, (_r(3, 2), _r(4, 2), _r(4, 2)), (0, 1, 2)),
    Case(layer_norm, (_r(2, 4), _r(4), _r(4)), (0, 1, 2)),
    Case(conv1d_convolve, (_r(7), _r(3)), (0, 1), ag=False),
    Case(conv1d_sliding, (_r(7), _r(3)), (0, 1)),
    Case(max_pool_reshape, (_r(8),), 0),
    Case(batch_norm_mlp, (_r(3, 4), _r(4, 1), X5, Y5), (0, 1, 2)),
    Case(gru_cell_loop, (0.5 * _r(3, 5), 0.5 * _r(3, 5), _r(4, 2)), (0, 1, 2)),
    Case(avg_pool_2d, (IMG,), 0),
    Case(pad_modes_laplacian, (IMG,), 0, ag=False),
    Case(np_gradient_energy, (IMG,), 0, ag=False),
    Case(laplacian_2d_slices, (IMG,), 0, ag=False),
    Case(total_variation, (IMG,), 0),
    Case(gaussian_blur_separable, (IMG, 1.2), (0, 1), ag=False),
    Case(discounted_cashflows, (np.array([0.01, 0.03, 0.02, 0.05]), np.array([1.0, 2.0, 1.0, 10.0])), (0, 1), ag=False),
    Case(black_scholes_call, (np.array([95.0, 105.0]), 100.0, 0.03, 0.25, 0.5), (0, 1, 2, 3, 4), rtol=1e-4),
    Case(monte_carlo_call, (1.1, 0.3), (0, 1)),
    Case(portfolio_variance, (np.array([0.2, 0.5, 0.3]), M33 @ M33.T), (0, 1)),
    Case(geometric_brownian_paths, (0.05, 0.2), (0, 1)),
    Case(ridge_solve, (_r(3), X5, Y5, 0.5), (0, 1, 2, 3)),
    Case(lstsq_fit, (X5, Y5), (0, 1), ag=False),
    Case(gp_log_marginal, (0.2, -0.1, _r(5, 2), Y5), (0, 1, 2, 3), ag=False),
    Case(gp_slogdet_solve_triangular, (_r(4, 2), _r(4)), (0, 1), ag=False),
    Case(pca_top_eigs, (_r(6, 3),), 0, ag=False),
    Case(matrix_exponential, (0.3 * _r(3, 3), 0.7), (0, 1), ag=False),
    Case(inverse_and_det, (M33,), 0),
    Case(norms_along_axes, (_r(3, 4),), 0, ag=False),
    Case(qr_diag, (M33,), 0, ag=False),
    Case(kalman_filter, (0.3, _r(5)), (0, 1)),
    Case(rosen_f32, (F32,), 0, rtol=2e-3, atol=2e-3),
    Case(zero_d_array, (np.array(1.3), _r(3)), (0, 1)),
    Case(size_one_axes, (_r(1, 3),), 0),
    Case(empty_axis, (_r(3), np.zeros((0, 2))), (0, 1)),
    Case(integer_array_input, (_r(4), np.array([0, 2, 2, 3]), np.array([1, 2, 3, 1])), 0),
    Case(integer_matrix_times, (_r(3), np.arange(6).reshape(2, 3)), 0),
    Case(two_arguments, (BASE[::2], BASE[1::2]), (0, 1), name="strided_views"),
    Case(two_matrices, (F_ORDER, F_ORDER.T.T.copy(order="F").T), (0, 1), name="fortran_and_transposed"),
    Case(strided_and_transposed, (BASE[::3], F_ORDER.T), (0, 1)),
    Case(two_arguments, (BASE, BASE), (0, 1), name="one_array_twice"),
    Case(two_matrices, (M33, M33), (0, 1), name="one_matrix_twice"),
    Case(scaled_copy, (BASE, BASE), (0, 1), ag=False, name="scaled_copy_one_array_twice"),
    Case(scaled_copy, (BASE[:4], BASE[4:]), (0, 1), ag=False),
    Case(float32_scipy, (F32 + np.float32(1.0),), 0, rtol=2e-3, atol=2e-3),
    Case(scalar_and_array_broadcast, (0.8, _r(4)), (0, 1)),
    Case(ddof_std, (_r(4, 3),), 0),
]


# ---------------------------------------------------------------- a second round: more of NumPy and SciPy
def bincount_weights(w, idx):
    return np.sum(np.bincount(idx, weights=w, minlength=4) ** 2)


def histogram_weights(w, x):
    h, edges = np.histogram(x, bins=3, range=(-3.0, 3.0), weights=w)
    return np.sum(h**2)


def unique_values(x):
    return np.sum(np.unique(x) ** 3 * np.arange(x.size))


def interp_both(xp_shift, fp):
    xp = np.array([0.0, 1.0, 2.0, 3.0]) + xp_shift
    return np.sum(np.interp(np.array([0.5, 1.7, 2.2]), xp, fp) ** 2)


def order_statistics(x):
    return np.median(x) + np.percentile(x, 30.0) + np.quantile(x, 0.8)


def batched_einsum(A, B):
    return np.sum(np.einsum("bij,bjk->bik", A, B) ** 2) + np.einsum("bii->", A)


def matmul_broadcast(A, x):
    return np.sum((A @ x[:, :, None])[..., 0] ** 2)


def kron_tensordot(a, B):
    return np.sum(np.kron(a, B) ** 2) + np.sum(np.tensordot(B, B, axes=([1], [0])))


def matrix_cube(A):
    return np.sum(np.linalg.matrix_power(A, 3))


def quadrature(y, dx):
    return sintegrate.trapezoid(y**2, dx=dx) + sintegrate.simpson(y, dx=dx)


def special_softmax_family(x):
    return np.sum(
        special.xlogy(x, x) + special.erf(x) + special.log_ndtr(x) + special.log_softmax(x) * special.softmax(x)
    )


def mvn_logpdf(mu, L):
    cov = L @ L.T + np.eye(3)
    return stats.multivariate_normal.logpdf(np.array([0.1, 0.2, -0.3]), mu, cov)


def norm_ppf(p):
    return np.sum(stats.norm.ppf(p) ** 2)


def angular_momentum(r, v):
    return np.sum(np.cross(r, v) ** 2)


def polar_coordinates(x, y):
    return np.sum(np.arctan2(y, x) * np.hypot(x, y))


def take_along_argmax(x):
    idx = np.argmax(x, axis=1)[:, None]
    return np.sum(np.take_along_axis(x, idx, axis=1) ** 2)


def meshgrid_gaussian(s):
    X, Y = np.meshgrid(np.linspace(-1, 1, 5), np.linspace(-1, 1, 4))
    return np.sum(np.exp(-(X**2 + Y**2) / s**2))


def select_branches(x):
    return np.sum(np.select([x < -0.5, x > 0.5], [x**2, np.sin(x)], default=x))


def weighted_average(x, w):
    return np.average(x**2, weights=w)


def correlation(X):
    return np.sum(np.corrcoef(X) ** 2)


def polyfit_polyval(p, y):
    c = np.polyfit(np.arange(5.0), y, 2)
    return np.sum(np.polyval(p, np.arange(5.0)) * c[0]) + np.polyval(c, 0.5)


def batched_solve(A, b):
    return np.sum(np.linalg.solve(A, b[..., None]) ** 2)


def spectral_objectives(A):
    S = A @ A.T
    return np.sum(np.linalg.eigvalsh(S)) + np.sum(np.linalg.svd(A, compute_uv=False)) + np.linalg.norm(A, 2)


def solve_positive(A, b):
    M = A @ A.T + np.eye(3)
    return np.sum(sla.solve(M, b, assume_a="pos"))


def pseudo_inverse(A):
    return np.sum(np.linalg.pinv(A) ** 2)


def higher_differences(x):
    return np.sum(np.diff(x, n=2) ** 2) + np.sum(np.diff(x, prepend=0.0) ** 3)


def reverse_cumsum(x):
    return np.sum(np.cumsum(x[::-1])[::-1] * x)


def clip_to_array_bounds(x, lo):
    return np.sum(np.clip(x, lo, lo + 1.0) ** 2)


def gradient_edge_order(img):
    gy = np.gradient(img, axis=0, edge_order=2)
    gx = np.gradient(img, 0.5, axis=1)
    return np.sum(gx * gy)


def float32_with_float64_constants(x):
    y = x * np.float64(2.0) + np.ones(4)
    return np.sum(np.tanh(y))


def top_two(x):
    s = np.sort(x)[::-1]
    return np.sum(s[:2] * np.array([2.0, 1.0]))


def rank_weighted(x):
    return np.sum(x[np.argsort(x)] * np.arange(x.size))


def logsumexp_weights(x, b):
    return special.logsumexp(x, b=b)


def fft_convolution(x, k):
    return np.sum(signal.fftconvolve(x, k, mode="same") ** 2)


def sinc_sign(x):
    return np.sum(np.sinc(x) * np.sign(x) * x)


def range_and_extremes(x):
    return np.ptp(x) + np.amax(x) * np.amin(x)


def batched_logdet(A):
    M = A @ np.swapaxes(A, -1, -2) + np.eye(3)
    sign, logdet = np.linalg.slogdet(M)
    return np.sum(logdet)


def chained_product(A, B):
    return np.sum(np.linalg.multi_dot([A, B, A.T]))


def triangles(A):
    return np.sum(np.triu(A, 1) ** 2) + np.sum(np.tril(A) * A.T) + np.trace(A, offset=1)


def nan_data_masked(x, data):
    d = np.where(np.isnan(data), 0.0, data) * x
    return np.sum(d**2) + np.mean(np.where(np.isnan(data), 0.0, d))


CASES2 = [
    Case(bincount_weights, (_r(5), np.array([0, 2, 2, 1, 0])), 0, ag=False),
    Case(histogram_weights, (_r(6), np.array([-2.5, -1.2, 0.1, 0.5, 2.0, 1.5])), (0, 1), ag=False),
    Case(unique_values, (np.array([0.3, 1.2, 0.1, -0.5]),), 0, ag=False),
    Case(interp_both, (0.1, _r(4)), (0, 1), ag=False),
    Case(order_statistics, (_r(6),), 0, ag=False),
    Case(batched_einsum, (_r(2, 3, 3), _r(2, 3, 2)), (0, 1), ag=False),
    Case(matmul_broadcast, (_r(2, 3, 3), _r(2, 3)), (0, 1)),
    Case(kron_tensordot, (_r(2), _r(3, 3)), (0, 1)),
    Case(matrix_cube, (_r(3, 3),), 0, ag=False),
    Case(quadrature, (_r(7), 0.3), (0, 1), ag=False),
    Case(special_softmax_family, (np.array([0.3, 1.2, 2.0]),), 0, ag=False),
    Case(mvn_logpdf, (_r(3), _r(3, 3)), (0, 1)),
    Case(norm_ppf, (np.array([0.2, 0.7]),), 0, ag=False),
    Case(angular_momentum, (_r(4, 3), _r(4, 3)), (0, 1)),
    Case(polar_coordinates, (_r(4), _r(4)), (0, 1)),
    Case(take_along_argmax, (_r(3, 4),), 0, ag=False),
    Case(meshgrid_gaussian, (0.8,), 0),
    Case(select_branches, (np.array([-1.0, -0.2, 0.3, 0.9]),), 0, ag=False),
    Case(weighted_average, (_r(4), np.array([1.0, 2.0, 0.5, 1.0])), (0, 1), ag=False),
    Case(correlation, (_r(3, 5),), 0, ag=False),
    Case(polyfit_polyval, (_r(3), _r(5)), (0, 1), ag=False),
    Case(batched_solve, (_r(2, 3, 3) + 3 * np.eye(3), _r(2, 3)), (0, 1), ag=False),
    Case(spectral_objectives, (_r(3, 3),), 0, ag=False),
    Case(solve_positive, (_r(3, 3), _r(3)), (0, 1), ag=False),
    Case(pseudo_inverse, (_r(3, 2),), 0, ag=False),
    Case(higher_differences, (_r(6),), 0, ag=False),
    Case(reverse_cumsum, (_r(5),), 0),
    Case(clip_to_array_bounds, (_r(5), np.array([-0.5, 0.0, 0.2, -1.0, 0.3])), (0, 1), ag=False),
    Case(gradient_edge_order, (_r(4, 5),), 0, ag=False),
    Case(float32_with_float64_constants, (F32,), 0, rtol=2e-3, atol=2e-3),
    Case(top_two, (_r(5),), 0, ag=False),
    Case(rank_weighted, (_r(5),), 0),
    Case(logsumexp_weights, (_r(4), np.array([1.0, 2.0, 0.5, 0.1])), (0, 1), ag=False),
    Case(fft_convolution, (_r(6), _r(3)), (0, 1), ag=False),
    Case(sinc_sign, (_r(4),), 0, ag=False),
    Case(range_and_extremes, (_r(5),), 0, ag=False),
    Case(batched_logdet, (_r(2, 3, 3),), 0, ag=False),
    Case(chained_product, (_r(2, 3), _r(3, 3)), (0, 1), ag=False),
    Case(triangles, (_r(3, 3),), 0),
    Case(nan_data_masked, (np.array(1.5), np.array([1.0, np.nan, 2.0])), 0),
]
CASES = CASES + CASES2


# ---------------------------------------------------------------- edge inputs through in-place code and views
def sine_weighted(x):
    return np.sum(np.sin(x) * x**2)


def smoothed_in_place(x):
    y = x.copy()
    y[1:] += y[:-1] * 0.5
    y *= 2.0
    return np.sum(y**2)


def mixed_in_place(a, b):
    c = a.copy()
    c[0] = b[1] * a[2]
    c += b
    return np.sum(c * a)


def reshaped_views(x):
    y = x.reshape(2, -1)
    return np.sum(y[0] * y[1]) + np.sum(x.T @ x)


def fortran_ravel(x):
    return np.sum(x.ravel(order="F") * np.arange(x.size)) + np.sum(x.flatten() ** 2)


def masked_reductions(x):
    return np.sum(x**2, where=x > 0) + np.mean(x, where=x < 0.5)


def broadcast_view_inside(x):
    return np.sum(np.broadcast_to(x, (3, x.size)) * np.arange(3)[:, None])


def rounding_steps(x):
    return np.sum(np.floor(x) * x + np.round(x, 1) * x)


def integer_exponent_array(x, k):
    return np.sum(x**k) + np.sum(x * k / 2)


READ_ONLY = _r(4)
READ_ONLY.flags.writeable = False
SAME = _r(4)

CASES3 = [
    Case(sine_weighted, (np.asfortranarray(_r(3, 2)),), 0, name="fortran_order"),
    Case(sine_weighted, (_r(6)[::2],), 0, name="every_second"),
    Case(sine_weighted, (_r(5)[::-1],), 0, name="negative_stride"),
    Case(sine_weighted, (_r(3, 4).T,), 0, name="transposed"),
    Case(sine_weighted, (np.broadcast_to(_r(3), (2, 3)),), 0, name="broadcast_view", ag=False),
    Case(sine_weighted, (READ_ONLY,), 0, name="read_only"),
    Case(sine_weighted, (np.array(0.7),), 0, name="zero_d"),
    Case(sine_weighted, (np.zeros((0, 3)),), 0, name="empty"),
    Case(sine_weighted, (_r(1, 1, 3),), 0, name="size_one_axes_3d"),
    Case(sine_weighted, (F32,), 0, rtol=2e-3, atol=2e-3, name="float32"),
    Case(smoothed_in_place, (_r(5),), 0, ag=False),
    Case(smoothed_in_place, (_r(10)[::2],), 0, ag=False, name="smoothed_in_place_strided"),
    Case(smoothed_in_place, (READ_ONLY,), 0, ag=False, name="smoothed_in_place_read_only"),
    Case(smoothed_in_place, (F32,), 0, ag=False, rtol=2e-3, atol=2e-3, name="smoothed_in_place_float32"),
    Case(mixed_in_place, (_r(4), _r(4)), (0, 1), ag=False),
    Case(mixed_in_place, (SAME, SAME), (0, 1), ag=False, name="mixed_in_place_one_array_twice"),
    Case(mixed_in_place, (READ_ONLY, READ_ONLY), (0, 1), ag=False, name="mixed_in_place_read_only_twice"),
    Case(reshaped_views, (_r(6),), 0),
    Case(reshaped_views, (_r(12)[::2],), 0, name="reshaped_views_strided"),
    Case(fortran_ravel, (np.asfortranarray(_r(2, 3)),), 0, ag=False),
    Case(fortran_ravel, (_r(3, 2).T,), 0, ag=False, name="fortran_ravel_transposed"),
    Case(masked_reductions, (_r(5),), 0, ag=False),
    Case(broadcast_view_inside, (_r(4),), 0, ag=False),
    Case(rounding_steps, (np.array([0.33, 1.77, -0.41]),), 0, ag=False),
    Case(integer_exponent_array, (np.abs(_r(3)) + 0.5, 3), 0),
    Case(integer_exponent_array, (np.abs(_r(3)) + 0.5, np.array([1, 2, 3])), 0, name="integer_exponents"),
]
CASES = CASES + CASES3


def _as_tuple(wrt, value):
    return value if isinstance(wrt, tuple) else (value,)


def _float64(args):
    return tuple(np.asarray(a, dtype=np.float64) if getattr(a, "dtype", None) == np.float32 else a for a in args)


def _direction(x, seed):
    d = np.random.default_rng(seed).standard_normal(np.shape(x))
    if np.ndim(x) == 0 and not isinstance(x, np.ndarray):
        return float(d)
    return d.astype(np.asarray(x).dtype)


def _shift(args, wrt, v, h):
    out = list(_float64(args))
    for i, d in zip(wrt, v):
        out[i] = out[i] + h * np.asarray(d, dtype=np.float64) if np.ndim(d) else out[i] + h * float(d)
    return tuple(out)


def _snapshot(args):
    return [copy.deepcopy(a) for a in args]


def _assert_unchanged(before, args):
    for a, b in zip(before, args):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
        assert type(a) is type(b) and np.shape(a) == np.shape(b)


def _assert_like(g, x):
    if isinstance(x, np.ndarray):
        assert isinstance(g, np.ndarray) and g.shape == x.shape and g.dtype == x.dtype, (type(g), np.shape(g), x)
    else:
        assert np.ndim(g) == 0 and not isinstance(g, np.ndarray), type(g)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_program_against_central_differences(case):
    f, args = case.f, case.args
    _needs_scipy(f)
    wrt = case.wrt if isinstance(case.wrt, tuple) else (case.wrt,)
    before = _snapshot(args)
    tol = dict(rtol=case.rtol, atol=case.atol)
    expected = [central_in(f, _float64(args), i) for i in wrt]

    grads = _as_tuple(case.wrt, ac.grad(f, case.wrt)(*args))
    for g, e, i in zip(grads, expected, wrt):
        _assert_like(g, args[i])
        np.testing.assert_allclose(g, e, err_msg="grad in argument %d" % i, **tol)
    _assert_unchanged(before, args)

    value, grads2 = ac.value_and_grad(f, case.wrt)(*args)
    np.testing.assert_allclose(value, f(*copy.deepcopy(args)), rtol=1e-12)
    for g, g2 in zip(grads, _as_tuple(case.wrt, grads2)):
        np.testing.assert_allclose(g2, g, rtol=1e-12, atol=1e-14)
    _assert_unchanged(before, args)

    value, pullback = ac.vjp(f, case.wrt)(*args)
    for g, g3, i in zip(grads, _as_tuple(case.wrt, pullback(1.0)), wrt):
        _assert_like(g3, args[i])
        np.testing.assert_allclose(g3, g, rtol=1e-12, atol=1e-14)
    _assert_unchanged(before, args)

    v = tuple(_direction(args[i], seed=i) for i in wrt)
    value, tangent = ac.jvp(f, case.wrt)(*args, v if isinstance(case.wrt, tuple) else v[0])
    np.testing.assert_allclose(value, f(*copy.deepcopy(args)), rtol=1e-6)
    directional = sum(np.sum(np.asarray(e) * np.asarray(d, dtype=np.float64)) for e, d in zip(expected, v))
    np.testing.assert_allclose(tangent, directional, **tol)
    _assert_unchanged(before, args)

    if case.hvp:
        hv = _as_tuple(case.wrt, ac.hvp(f, case.wrt)(*args, v if isinstance(case.wrt, tuple) else v[0]))
        g = ac.grad(f, case.wrt)
        h = 1e-5
        plus = _as_tuple(case.wrt, g(*_shift(args, wrt, v, h)))
        minus = _as_tuple(case.wrt, g(*_shift(args, wrt, v, -h)))
        for a, p, m, i in zip(hv, plus, minus, wrt):
            _assert_like(a, args[i])
            scale = 1e-4 if case.rtol < 1e-4 else 10 * case.rtol
            np.testing.assert_allclose(a, (np.asarray(p) - m) / (2 * h), rtol=scale, atol=scale, err_msg="hvp %d" % i)
        _assert_unchanged(before, args)


def _peer(f):
    """The program with NumPy and SciPy replaced by autograd's wrappers."""
    anp = pytest.importorskip("autograd.numpy")
    import autograd.scipy.linalg as alinalg
    import autograd.scipy.special as aspecial
    import autograd.scipy.stats as astats

    names = dict(f.__globals__, np=anp, special=aspecial, stats=astats, sla=alinalg)
    return types.FunctionType(f.__code__, names, f.__name__, f.__defaults__, f.__closure__)


AUTOGRAD = [c for c in CASES if c.ag]


@pytest.mark.parametrize("case", AUTOGRAD, ids=[c.name for c in AUTOGRAD])
def test_program_against_autograd(case):
    _needs_scipy(case.f)
    autograd = pytest.importorskip("autograd")
    args = _float64(case.args)
    ours = _as_tuple(case.wrt, ac.grad(case.f, case.wrt)(*args))
    theirs = _as_tuple(case.wrt, autograd.grad(_peer(case.f), case.wrt)(*args))
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-11)


# ---- regressions: second order of programs the first-order code of which the compiler guards ----
def pair_potential(pos, m):
    d = pos[:, None] - pos[None, :]
    r = np.abs(d) + np.eye(pos.shape[0])
    i, j = np.triu_indices(pos.shape[0], k=1)
    return np.sum(m[i] * m[j] / r[i, j]) + np.sum(m * pos**2)


def test_hvp_through_numpy_functions_calling_ufunc_methods():
    # np.triu_indices runs np.tri, whose greater_equal.outer(...) was taken for a write of the global
    # greater_equal: hvp refused "a call of pair_potential_jvp() ... writes the nonlocal greater_equal (at
    # .../numpy/lib/_twodim_base_impl.py)". Hand-derived: f = sum_{i<j} m_i m_j / |p_i - p_j| + sum m p^2.
    from adjoint_compiler import effects

    assert effects.summary(np.tri).writes == {}
    pos, m = np.array([0.0, 1.0, 3.0]), np.array([1.0, 2.0, 0.5])
    v = np.array([0.3, -0.2, 0.5])
    H = np.diag(2 * m)
    for a, b in [(0, 1), (0, 2), (1, 2)]:
        k = 2 * m[a] * m[b] / abs(pos[a] - pos[b]) ** 3  # d2/dp^2 of m_a m_b / |p_a - p_b|
        H[a, a] += k
        H[b, b] += k
        H[a, b] -= k
        H[b, a] -= k
    np.testing.assert_allclose(ac.hvp(pair_potential, 0)(pos, m, v), H @ v, rtol=1e-12)


def copy_boundary(u):
    out = np.zeros_like(u)
    out[1:-1] = u[:-2] * u[2:]
    out[0] = out[1]
    out[-1] = out[-2] * 2.0
    return np.sum(out**2)


def test_hvp_of_a_store_of_an_element_of_the_same_array():
    # out[0] = out[1]: the first-order code guards the store with overlap_copy(out[0], ...) and
    # check_overlap(...); their second order refused "in-place update of out while _overlap1 (a view or copy
    # of the same array) is still used" (a name the compiler made). out = [u0 u2, u0 u2, u1 u3, 2 u1 u3]:
    # f = 2 (u0 u2)^2 + 5 (u1 u3)^2.
    u, v = np.array([0.5, 1.5, -2.0, 0.7]), np.array([0.3, -0.2, 0.5, 1.0])
    a, b = u[0] * u[2], u[1] * u[3]
    H = np.zeros((4, 4))
    H[np.ix_([0, 2], [0, 2])] = 4 * np.array([[u[2] ** 2, 2 * a], [2 * a, u[0] ** 2]])
    H[np.ix_([1, 3], [1, 3])] = 10 * np.array([[u[3] ** 2, 2 * b], [2 * b, u[1] ** 2]])
    np.testing.assert_allclose(ac.hvp(copy_boundary)(u, v), H @ v, rtol=1e-12)
    np.testing.assert_allclose(ac.hessian(copy_boundary)(u), H, rtol=1e-12)


# ---- refused at the user's line once (np13p; np.fft.rfft since session 21, rules/np_fft.py): draws whose distribution
# parameters are differentiated (the pathwise derivative), the running peak, lognorm, np.pad's linear_ramp ----
def normal_draws_with_parameters(mu, sigma):
    rng = np.random.default_rng(1)
    z = rng.normal(mu, sigma, size=50)
    return np.mean(z**2)


def uniform_draws_with_bounds(lo, hi):
    rng = np.random.default_rng(1)
    u = rng.uniform(lo, hi, size=20)
    return np.sum(u**2)


def running_peak_drawdown(prices):
    peak = np.maximum.accumulate(prices)
    return np.max((peak - prices) / peak)


def lognormal_logpdf(s):
    return np.sum(stats.lognorm.logpdf(np.array([0.5, 1.5]), s))


def power_spectrum(x):
    return np.sum(np.abs(np.fft.rfft(x)) ** 2)


def linear_ramp_padding(x):
    return np.sum(np.pad(x, 2, mode="linear_ramp", end_values=1.0) ** 2)


# np13p: the others have exact rules now (the pathwise derivative of a seeded draw, the running peak, lognorm's
# logpdf, np.pad's linear_ramp): against central differences of the functions themselves, in both modes
SUPPORTED_NOW = [
    (normal_draws_with_parameters, (0.3, 1.2)),
    (uniform_draws_with_bounds, (0.3, 1.2)),
    (running_peak_drawdown, (np.array([1.0, 1.3, 1.1, 1.5]),)),
    (lognormal_logpdf, (0.8,)),
    (linear_ramp_padding, (np.arange(4.0),)),
    (power_spectrum, (np.arange(6.0) * 0.3 - 0.4,)),
]


@pytest.mark.parametrize("f, args", SUPPORTED_NOW, ids=[r[0].__name__ for r in SUPPORTED_NOW])
def test_formerly_refused_now_match_central_differences(f, args):
    _needs_scipy(f)
    ac.check_grads(f, args, wrt=tuple(range(len(args))), modes=("rev", "fwd"))


def test_nan_marked_data_reverse_and_forward_mode_are_documented():
    # d/dx nansum((data x)^2) = 2 x sum(data^2 over the non-nan entries) = 2 * 1.5 * 5 = 15 (by hand)
    data = np.array([1.0, np.nan, 2.0])

    def f(x):
        return np.nansum((data * x) ** 2)

    def masked(x):
        return np.sum((np.where(np.isnan(data), 0.0, data) * x) ** 2)

    assert ac.jvp(f)(1.5, 1.0)[1] == pytest.approx(15.0, rel=1e-12)
    assert ac.grad(masked)(1.5) == pytest.approx(15.0, rel=1e-12)
    text = open(os.path.join(os.path.dirname(__file__), "..", "docs", "limitations.md")).read()
    assert "np.nansum((data * x) ** 2)" in text and "np.where(np.isnan(data), 0.0, data) * x" in text


def doubled_scalar(x):
    return x * 2.0


def scaled_pair(x, y):
    return x * 3.0 + y * 0.5


def scaled_triple(x, y, z):
    return x * 3.0 + y * 0.5 + z


def test_a_constant_gradient_of_a_float32_scalar_is_a_float32():
    # the emitted code writes d(x * 2.0)/dx as the constant 2.0 (a Python float), which passed through as
    # a float for an np.float32 argument, while a gradient that varies came back as np.float32
    x = np.float32(1.5)
    for g, expected in [
        (ac.grad(doubled_scalar)(x), 2.0),
        (ac.value_and_grad(doubled_scalar)(x)[1], 2.0),
        (ac.hvp(doubled_scalar)(x, np.float32(1.0)), 0.0),
        (ac.vjp(doubled_scalar)(x)[1](np.float32(1.0)), 2.0),
    ]:
        assert type(g) is np.float32 and g == expected, (type(g), g)
    pair = ac.grad(scaled_pair, (0, 1))(x, np.float32(2.0))
    assert [type(g) for g in pair] == [np.float32, np.float32] and pair == (3.0, 0.5)
    mixed = ac.grad(scaled_pair, (0, 1))(1.5, np.float32(2.0))
    assert [type(g) for g in mixed] == [float, np.float32] and mixed == (3.0, 0.5)
    triple = ac.grad(scaled_triple, (0, 1, 2))(x, 1.0, np.float16(2.0))
    assert [type(g) for g in triple] == [np.float32, float, np.float16] and triple == (3.0, 0.5, 1.0)
    assert type(ac.grad(doubled_scalar)(np.float64(1.5))) in (float, np.float64)


# ---- library functions whose Python source cannot be differentiated: refused at the user's call ----
def singular_values(a):
    return np.sum(sla.svdvals(a))


def polar_factor(a):
    return np.sum(sla.polar(a)[1])


def relative_entropy(p, q):
    return stats.entropy(p, q)


def hurwitz_zeta(a):
    return np.sum(special.zeta(a + 1.0, 1.5))


def scipy_matrix_norm(a):
    return sla.norm(a, 1) + np.sum(a)


LIBRARY = [
    (polar_factor, (M33,), "sla.polar"),
    (relative_entropy, (np.array([0.2, 0.3, 0.5]), np.array([0.4, 0.4, 0.2])), "stats.entropy"),
]
# (session 22: sla.svdvals and sla.norm have rules now, NumPy's: test_library_functions_with_rules_now; special.zeta
# too, in q, and in x it is refused by name: test_hurwitz_zeta_in_x_is_refused_by_name)


@pytest.mark.parametrize("transform", ["grad", "jvp"])
@pytest.mark.parametrize("f, args, label", LIBRARY, ids=[c[0].__name__ for c in LIBRARY])
def test_library_source_refused_at_the_users_call(f, args, label, transform):
    _needs_scipy(f)
    # jvp crashed with InternalError (IndexError in link.frame_for: SciPy's batching wrapper(*args, **kwargs)
    # has no named parameters); grad and jvp located the refusal in scipy/_lib/_util.py
    wrt = tuple(range(len(args)))
    with pytest.raises(ac.UnsupportedError) as info:
        if transform == "grad":
            ac.grad(f, wrt)(*args)
        else:
            ac.jvp(f, wrt)(*args, tuple(np.ones_like(a) for a in args))
    text = str(info.value)
    assert text.startswith("%s:%d:" % (__file__, line_of(f, label + "("))), text
    assert "a call of %s()" % label in text and "site-packages" not in text and "_util.py" not in text, text


@pytest.mark.parametrize("f", [singular_values, scipy_matrix_norm])
def test_library_functions_with_rules_now(f):
    # were refused at the call (their Python source); now NumPy's rules, against central differences in both modes
    _needs_scipy(f)
    ac.check_grads(f, (M33,), modes=("rev", "fwd"))


def test_hurwitz_zeta_in_x_is_refused_by_name():
    _needs_scipy(hurwitz_zeta)
    for run in (
        lambda: ac.grad(hurwitz_zeta)(np.array([1.0, 2.0])),
        lambda: ac.jvp(hurwitz_zeta)(np.ones(2), np.ones(2)),
    ):
        with pytest.raises(ac.UnsupportedError) as info:
            run()
        text = str(info.value)
        assert text.startswith("%s:%d:" % (__file__, line_of(hurwitz_zeta, "special.zeta("))), text
        assert "zeta with respect to its parameter x" in text, text


# ---- array, tuple and dict outputs: vjp with a random cotangent and jvp, against central differences ----
def wave_states(u0, c):
    steps, n = 5, u0.shape[0]
    U = np.zeros((steps, n))
    U[0] = u0
    U[1] = u0
    for t in range(1, steps - 1):
        U[t + 1, 1:-1] = 2.0 * U[t, 1:-1] - U[t - 1, 1:-1] + c**2 * (U[t, 2:] - 2.0 * U[t, 1:-1] + U[t, :-2])
    return U


def pendulum_path(x0, v0):
    xs = np.empty(6)
    vs = np.empty(6)
    xs[0], vs[0] = x0, v0
    for t in range(5):
        a = -np.sin(xs[t])
        xs[t + 1] = xs[t] + 0.1 * vs[t] + 0.005 * a
        vs[t + 1] = vs[t] + 0.05 * (a - np.sin(xs[t + 1]))
    return xs, vs


def normalised_rows(x, g):
    mu = x.mean(axis=-1, keepdims=True)
    return (x - mu) / np.sqrt(x.var(axis=-1, keepdims=True) + 1e-5) * g


def cholesky_factor(A):
    return np.linalg.cholesky(A @ A.T + np.eye(3))


def symmetric_spectrum(A):
    w, V = np.linalg.eigh(A + A.T)
    return w


def smoother(X, y):
    K = np.exp(-0.5 * (X[:, None] - X[None, :]) ** 2) + 0.1 * np.eye(X.size)
    return K @ np.linalg.solve(K, y) * 0.5 + y


def named_outputs(x):
    return {"energy": np.sum(x**2), "reflected": x[::-1] * 2.0}


def call_prices(S, sigma):
    d1 = (np.log(S / 100.0) + 0.5 * sigma**2) / sigma
    return S * stats.norm.cdf(d1) - 100.0 * stats.norm.cdf(d1 - sigma)


OUTPUTS = [
    (wave_states, (_r(5), 0.4)),
    (pendulum_path, (0.4, 0.1)),
    (normalised_rows, (_r(2, 3), _r(3))),
    (cholesky_factor, (_r(3, 3),)),
    (symmetric_spectrum, (_r(3, 3),)),
    (smoother, (_r(4), _r(4))),
    (named_outputs, (_r(3),)),
    (call_prices, (np.array([95.0, 105.0]), 0.3)),
]


def _flat(out):
    if isinstance(out, dict):
        return np.concatenate([np.ravel(out[k]) for k in sorted(out)])
    if isinstance(out, tuple):
        return np.concatenate([np.ravel(v) for v in out])
    return np.ravel(out)


def _cotangent(out, rng):
    if isinstance(out, dict):
        return {k: _cotangent(v, rng) for k, v in out.items()}
    if isinstance(out, tuple):
        return tuple(_cotangent(v, rng) for v in out)
    return rng.standard_normal(np.shape(out)) if np.ndim(out) else float(rng.standard_normal())


@pytest.mark.parametrize("f, args", OUTPUTS, ids=[c[0].__name__ for c in OUTPUTS])
def test_array_outputs_against_central_differences(f, args):
    _needs_scipy(f)
    wrt = tuple(range(len(args)))
    rng = np.random.default_rng(0)
    cotangent = _cotangent(f(*args), rng)
    before = _snapshot(args)
    value, pullback = ac.vjp(f, wrt)(*args)
    np.testing.assert_allclose(_flat(value), _flat(f(*args)), rtol=1e-12)
    for g, i in zip(pullback(cotangent), wrt):
        expected = central_in(lambda *a: np.dot(_flat(cotangent), _flat(f(*a))), _float64(args), i)
        _assert_like(g, args[i])
        np.testing.assert_allclose(g, expected, rtol=1e-6, atol=1e-7)
    v = tuple(_direction(a, seed=i) for i, a in enumerate(args))
    value, tangent = ac.jvp(f, wrt)(*args, v)
    h = 1e-6
    expected = (_flat(f(*_shift(args, wrt, v, h))) - _flat(f(*_shift(args, wrt, v, -h)))) / (2 * h)
    np.testing.assert_allclose(_flat(tangent), expected, rtol=1e-6, atol=1e-7)
    _assert_unchanged(before, args)
