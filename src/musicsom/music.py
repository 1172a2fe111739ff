"""MUSIC: move an input by changing chosen squared distances while preserving the others (SPEC §4).

One step minimises

    E(δ) = (1 − α) ||Ω_P^½ Ĵ_P δ||² + α ||Ω_T^½ (Ĵ_T δ − Δ)||² + λ ||δ||²

over the input change δ, where Ĵ_P, Ĵ_T are the (row-normalised) Jacobians of the squared
distances to the preserved and target prototypes and Δ the wanted first-order change. With
``M = [√(1−α) Ω_P^½ Ĵ_P ; √α Ω_T^½ Ĵ_T]`` (k × D) and ``y = [0 ; √α Ω_T^½ Δ]``:

    δ = (MᵀM + λI)⁻¹ Mᵀ y           (primal, D × D)
      = Mᵀ (M Mᵀ + λI)⁻¹ y           (dual,   k × k)

and the smaller system is solved by Cholesky. A trust region ``||δ|| ≤ η`` follows, then the
map is relinearised at the new point. No file I/O here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.linalg import cho_factor, cho_solve

from ._validation import check_indices, check_matrix, check_scalar, check_vector
from .som import best_matching_units, lattice_ring

__all__ = [
    "jacobian",
    "solve_primal",
    "solve_dual",
    "music_direction",
    "trust_region",
    "MusicParams",
    "Music",
    "Trajectory",
]


# ---------------------------------------------------------------- building blocks
def jacobian(x, prototypes, rows=None, normalise: bool = True):
    """Jacobian rows of the squared distances at ``x``.

    Returns ``(J, scale)``: raw rows ``2 (x − w_i)`` when ``normalise`` is False (scale = 1), or unit
    radial rows ``(x − w_i) / d_i`` with ``scale = 2 d_i`` (divide a wanted change of ``a_i`` by it).
    """
    W = prototypes if rows is None else prototypes[rows]
    R = x[None, :] - W
    if not normalise:
        return 2.0 * R, np.ones(R.shape[0])
    d = np.linalg.norm(R, axis=1)
    if np.any(d <= 0):
        # the point sits on a prototype: its radial direction is undefined; nudge the norm
        d = np.maximum(d, np.finfo(float).tiny)
    return R / d[:, None], 2.0 * d


def _ridge_lstsq(M, y, lam: float) -> np.ndarray:
    """The same δ by least squares on ``[M; √λ I] δ ≈ [y; 0]`` (SVD): the fallback when λ is lost in round-off."""
    D = M.shape[1]
    A = np.vstack([M, np.sqrt(lam) * np.eye(D)])
    return np.linalg.lstsq(A, np.concatenate([y, np.zeros(D)]), rcond=None)[0]


def solve_primal(M, y, lam: float) -> np.ndarray:
    """δ = (MᵀM + λI)⁻¹ Mᵀ y via Cholesky of the D × D matrix.

    When λ is too small against ``||M||²`` for the Gram matrix to stay numerically positive
    definite, the same problem is solved by least squares instead (:func:`_ridge_lstsq`).
    """
    D = M.shape[1]
    G = M.T @ M
    G[np.diag_indices(D)] += lam
    try:
        return cho_solve(cho_factor(G, lower=True, check_finite=False), M.T @ y, check_finite=False)
    except np.linalg.LinAlgError:
        return _ridge_lstsq(M, y, lam)


def solve_dual(M, y, lam: float) -> np.ndarray:
    """δ = Mᵀ (MMᵀ + λI)⁻¹ y via Cholesky of the k × k matrix (same answer as :func:`solve_primal`, same fallback)."""
    k = M.shape[0]
    G = M @ M.T
    G[np.diag_indices(k)] += lam
    try:
        return M.T @ cho_solve(cho_factor(G, lower=True, check_finite=False), y, check_finite=False)
    except np.linalg.LinAlgError:
        return _ridge_lstsq(M, y, lam)


def trust_region(delta, eta: float) -> np.ndarray:
    """Clip δ to length η (the step constraint ``δ ← η δ / ||δ||`` when ``||δ|| > η``)."""
    n = np.linalg.norm(delta)
    return delta * (eta / n) if n > eta else delta


def music_direction(
    x,
    prototypes,
    targets,
    delta_a,
    preserved,
    alpha: float = 0.9,
    lam: float = 0.01,
    weights_target=None,
    weights_preserved=None,
    normalise_rows: bool = True,
    per_row_mean: bool = False,
    solver: str = "auto",
    jitter: float = 0.0,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """One MUSIC solve (before the trust region): the δ minimising the energy above.

    ``delta_a`` is the wanted change of the squared distances to ``targets``; with row
    normalisation it is divided by ``2 d_t`` to match the unit rows. ``per_row_mean`` divides each
    term by its row count so that α means the same whatever the set sizes. ``jitter`` adds a
    random perturbation of Frobenius norm ``jitter`` to the stacked Jacobian (S8).
    """
    W = prototypes
    x = np.asarray(x, dtype=np.float64)
    targets = np.atleast_1d(targets)
    preserved = np.atleast_1d(preserved).astype(np.int64)
    J_T, scale_T = jacobian(x, W, targets, normalise_rows)
    J_P, _ = jacobian(x, W, preserved, normalise_rows) if preserved.size else (np.zeros((0, x.size)), None)
    delta = np.asarray(delta_a, dtype=np.float64) / scale_T
    w_T = np.ones(targets.size) if weights_target is None else np.asarray(weights_target, float)
    w_P = np.ones(preserved.size) if weights_preserved is None else np.asarray(weights_preserved, float)
    c_P, c_T = 1.0 - alpha, alpha
    if per_row_mean:
        c_P = c_P / max(preserved.size, 1)
        c_T = c_T / max(targets.size, 1)
    sP = np.sqrt(c_P * w_P)[:, None]
    sT = np.sqrt(c_T * w_T)
    M = np.vstack([sP * J_P, sT[:, None] * J_T])
    y = np.concatenate([np.zeros(preserved.size), sT * delta])
    if jitter > 0:
        rng = np.random.default_rng() if rng is None else rng
        E = rng.standard_normal(M.shape)
        M = M + jitter * E / np.linalg.norm(E)
    k, D = M.shape
    if solver == "auto":
        solver = "dual" if k < D else "primal"
    if solver == "primal":
        return solve_primal(M, y, lam)
    if solver == "dual":
        return solve_dual(M, y, lam)
    raise ValueError(f"solver must be 'auto', 'primal' or 'dual'; got {solver!r}")


# ---------------------------------------------------------------- trajectories
@dataclass
class MusicParams:
    """Hyperparameters of a MUSIC run (defaults: SPEC §4 and §6; see config.yaml for the paper runs).

    alpha: balance attraction vs preservation in [0, 1]. lam: Tikhonov weight λ > 0. kappa: fractional
    reduction of a target's squared distance per step, in (0, 1]. eta: trust radius. preserve_ring:
    None = preserve all non-targets; n = preserve the n-ring of the current BMU on the lattice.
    cluster_passes: relinearisation passes per cluster step. cluster_width: width of the Gaussian
    target weights relative to the median target distance. free_subspace: how many low-eigenvalue
    directions free mode mixes. radial_pull: fraction of a free step pulled toward the BMU.
    sigma_step, sigma_target, jitter: optional noise injection (S8).
    """

    alpha: float = 0.9
    lam: float = 0.01
    kappa: float = 0.1
    eta: float = 0.2
    normalise_rows: bool = True
    per_row_mean: bool = False
    preserve_ring: int | None = None
    cluster_passes: int = 2
    cluster_width: float = 1.0
    free_subspace: int = 3
    radial_pull: float = 0.0
    sigma_step: float = 0.0
    sigma_target: float = 0.0
    jitter: float = 0.0
    solver: str = "auto"

    def validate(self) -> "MusicParams":
        check_scalar(self.alpha, "alpha", 0.0, 1.0)
        check_scalar(self.lam, "lam (λ)", 0.0, low_open=True)
        check_scalar(self.kappa, "kappa (κ)", 0.0, 1.0, low_open=True)
        check_scalar(self.eta, "eta (trust radius)", 0.0, low_open=True)
        for name in ("sigma_step", "sigma_target", "jitter", "radial_pull"):
            check_scalar(getattr(self, name), name, 0.0)
        if int(self.cluster_passes) < 1:
            raise ValueError(f"cluster_passes must be >= 1; got {self.cluster_passes}")
        if self.preserve_ring is not None and int(self.preserve_ring) < 1:
            raise ValueError(f"preserve_ring must be None (all) or >= 1; got {self.preserve_ring}")
        if self.solver not in ("auto", "primal", "dual"):
            raise ValueError(f"solver must be 'auto', 'primal' or 'dual'; got {self.solver!r}")
        return self


@dataclass
class Trajectory:
    """States x_0..x_T (T+1, D), steps δ_1..δ_T (T, D), BMUs c_0..c_T, and the target(s) of each step."""

    states: np.ndarray
    bmus: np.ndarray
    targets: list = field(default_factory=list)

    @property
    def steps(self) -> np.ndarray:
        return np.diff(self.states, axis=0)


class Music:
    """MUSIC on a fixed prototype set.

    Parameters
    ----------
    prototypes : (K, D) prototypes (SOM, k-means, neural gas, ...).
    params : :class:`MusicParams`.
    grid_shape, topology : the lattice, needed only for ``preserve_ring``.
    random_state : seed of every random choice (targets in cluster mode, free directions, noise).
    """

    def __init__(self, prototypes, params: MusicParams | None = None, grid_shape=None, topology="rectangular", random_state=0):
        self.W = check_matrix(prototypes, "prototypes", min_rows=2)
        self.params = (params or MusicParams()).validate()
        if self.params.preserve_ring is not None and grid_shape is None:
            raise ValueError("preserve_ring needs grid_shape (the lattice of the prototypes)")
        if grid_shape is not None and int(np.prod(grid_shape)) != self.W.shape[0]:
            raise ValueError(f"grid_shape {tuple(grid_shape)} holds {int(np.prod(grid_shape))} units but there are {self.W.shape[0]} prototypes")
        if np.unique(self.W, axis=0).shape[0] < self.W.shape[0]:
            raise ValueError("prototypes holds duplicate rows; remove them (their Jacobian rows would coincide)")
        self.grid_shape = grid_shape
        self.topology = topology
        self.rng = np.random.default_rng(random_state)

    @property
    def K(self):
        return self.W.shape[0]

    def bmu(self, x) -> int:
        return int(np.argmin(((x - self.W) ** 2).sum(1)))

    def preserved_set(self, x, exclude) -> np.ndarray:
        """All prototypes except ``exclude``, or the n-ring of the current BMU (minus ``exclude``)."""
        exclude = np.atleast_1d(exclude)
        if self.params.preserve_ring is None:
            base = np.arange(self.K)
        else:
            c = self.bmu(x)
            base = np.append(lattice_ring(c, self.params.preserve_ring, self.grid_shape, self.topology), c)
        return np.setdiff1d(base, exclude)

    def _check_x(self, x):
        return check_vector(x, "x", self.W.shape[1])

    # -- one step of each mode
    def step(self, x, targets, delta_a, preserved=None, weights_target=None, weights_preserved=None) -> np.ndarray:
        """Generic step: change squared distances to ``targets`` by ``delta_a``, preserving ``preserved``.

        Adds the optional step/target noise and applies the trust region. Returns δ.
        """
        p = self.params
        x = self._check_x(x)
        targets = check_indices(targets, "targets", self.K)
        # an explicit preserved set must name at least one prototype (None = every other prototype)
        preserved = self.preserved_set(x, targets) if preserved is None else check_indices(preserved, "preserved", self.K)
        if np.intersect1d(targets, preserved).size:
            raise ValueError("targets and preserved share prototypes; a prototype cannot be both moved and kept")
        try:
            delta_a = np.broadcast_to(np.asarray(delta_a, float), targets.shape).copy()
        except (TypeError, ValueError):
            raise ValueError(f"delta_a must be a number or one value per target ({targets.size}); got {np.shape(delta_a)}") from None
        if not np.all(np.isfinite(delta_a)):
            raise ValueError("delta_a contains NaN or infinite values")
        if p.sigma_target > 0:
            delta_a += p.sigma_target * self.rng.standard_normal(delta_a.shape) * np.abs(delta_a)
        d = music_direction(
            x, self.W, targets, delta_a, preserved, p.alpha, p.lam, weights_target, weights_preserved,
            p.normalise_rows, p.per_row_mean, p.solver, p.jitter, self.rng,
        )
        if p.sigma_step > 0:
            d = d + p.sigma_step * self.rng.standard_normal(d.shape)
        return trust_region(d, p.eta)

    def informed_step(self, x, target: int) -> np.ndarray:
        """Reduce the squared distance to one target by the fraction κ: ``Δa_t = −κ a_t``."""
        a_t = float(((x - self.W[target]) ** 2).sum())
        return self.step(x, [target], -self.params.kappa * a_t)

    def cluster_step(self, x, cluster) -> np.ndarray:
        """Move toward a set of targets at once, Gaussian weights favouring near ones, several passes."""
        p = self.params
        cluster = check_indices(cluster, "cluster", self.K)
        total = np.zeros_like(x)
        y = x.copy()
        for _ in range(int(p.cluster_passes)):
            a = ((y - self.W[cluster]) ** 2).sum(1)
            d = np.sqrt(a)
            width = p.cluster_width * max(np.median(d), 1e-12)
            w = np.exp(-((d - d.min()) ** 2) / (2 * width**2))
            delta = self.step(y, cluster, -p.kappa * a, weights_target=w)
            y = y + delta
            total = total + delta
        return trust_region(total, p.eta)

    def free_step(self, x) -> np.ndarray:
        """No target: a random unit direction in the low-eigenvalue subspace of Ĵ_Pᵀ Ĵ_P (all preserved), length η."""
        p = self.params
        x = self._check_x(x)
        P = self.preserved_set(x, [])
        J, _ = jacobian(x, self.W, P, p.normalise_rows)
        evals, evecs = np.linalg.eigh(J.T @ J)
        q = min(max(int(p.free_subspace), 1), evecs.shape[1])
        u = evecs[:, :q] @ self.rng.standard_normal(q)
        u /= np.linalg.norm(u)
        if p.radial_pull > 0:
            toward = self.W[self.bmu(x)] - x
            nrm = np.linalg.norm(toward)
            if nrm > 0:
                u = (1 - p.radial_pull) * u + p.radial_pull * toward / nrm
                u /= np.linalg.norm(u)
        d = p.eta * u
        if p.sigma_step > 0:
            d = trust_region(d + p.sigma_step * self.rng.standard_normal(d.shape), p.eta)
        return d

    # -- trajectories
    def run(self, x0, n_steps: int, mode: str, target=None, cluster=None) -> Trajectory:
        """Run ``n_steps`` of ``mode`` in {"informed", "cluster", "cluster_random", "free"} from ``x0``.

        informed: toward ``target``. cluster: all of ``cluster`` at once. cluster_random: one random
        prototype of ``cluster`` per step (the paper's "random informed within cluster"). free: no target.
        """
        x = self._check_x(x0).copy()
        n_steps = int(n_steps)
        if n_steps < 0:
            raise ValueError(f"n_steps must be >= 0; got {n_steps}")
        if mode == "informed":
            if target is None:
                raise ValueError("informed mode needs target (a prototype index)")
            target = int(check_indices([target], "target", self.K)[0])
        elif mode in ("cluster", "cluster_random"):
            if cluster is None:
                raise ValueError(f"{mode} mode needs cluster (prototype indices)")
            cluster = check_indices(cluster, "cluster", self.K)
        elif mode != "free":
            raise ValueError(f"mode must be 'informed', 'cluster', 'cluster_random' or 'free'; got {mode!r}")
        states = [x.copy()]
        targets = []
        for _ in range(n_steps):
            if mode == "informed":
                d, t = self.informed_step(x, target), target
            elif mode == "cluster":
                d, t = self.cluster_step(x, cluster), -1
            elif mode == "cluster_random":
                t = int(self.rng.choice(cluster))
                d = self.informed_step(x, t)
            else:
                d, t = self.free_step(x), -1
            x = x + d
            states.append(x.copy())
            targets.append(t)
        S = np.asarray(states)
        return Trajectory(S, best_matching_units(S, self.W), targets)
