"""Distribution-level distances between two sets of feature vectors (real vs generated images). No file I/O.

The per-trajectory metrics of the MNIST stages judge one frame at a time; these judge a set of frames
(e.g. every frame of an arm's Table 2 paths) against a set of real images, both given as features of a
domain network (:func:`musicsom.experiments.models.lenet.lenet_features`: the "Fréchet LeNet distance"
practice, since Inception weights are neither at hand nor meant for 28 × 28 digits).

- :func:`frechet_distance`: ‖μ_a − μ_b‖² + tr(Σ_a + Σ_b − 2 (Σ_a Σ_b)^½) of the two sets' Gaussian fits
  (Heusel et al. 2017; FID's formula), the matrix square root by ``scipy.linalg.sqrtm``.
- :func:`kernel_distance`: KID (Bińkowski et al. 2018), the unbiased estimate of the squared maximum mean
  discrepancy with the cubic polynomial kernel k(x, y) = (x·y / d + 1)³, averaged over random subsets.
- :func:`prdc`: precision and recall (Kynkäänniemi et al. 2019), density and coverage (Naeem et al. 2020)
  from k-nearest-neighbour balls.
- :func:`compare_sets`: all of them in one dict with stable keys (:data:`METRIC_KEYS`).

Which implementation, decided by measurement (``benchmarks/bench_distribution_metrics.py``, its agreement
table in docs/benchmarks.md, section "distribution-metrics"):

- PRDC is the registry package ``prdc`` 0.2 (Naeem et al.'s reference code; numpy and scikit-learn only).
  It installs and runs offline, and it agreed with a brute-force implementation (scipy ``cdist``, sorted
  rows) to 2e-16, i.e. the same counts, on Gaussian test sets and on LeNet features of real MNIST. It is
  called as it is, wrapped: its ``print`` of the set sizes is kept off stdout, its hard-wired ``n_jobs=8``
  for scikit-learn's pairwise distances is overruled by joblib's sequential backend (so it keeps to the
  caller's threads), and the input is checked here first (it would give silently wrong radii for
  ``k >= n``). It holds the n_real × n_fake distance matrix and the two within-set ones (8 bytes an entry).
- The Fréchet and kernel distances are written here (numpy and scipy), not taken from ``torchmetrics``
  (1.9.0, which installs beside torch 2.13 without changing it and works offline). Its numbers agree with
  these (see the table), but its ``KernelInceptionDistance`` draws its subsets from torch's global random
  state, so the ``seed`` of :func:`kernel_distance` could only be honoured by reseeding the whole process,
  and its ``FrechetInceptionDistance`` is a stateful metric object fed through a feature module, for a
  formula of five lines. ``torchmetrics`` is therefore not a dependency; the tests cross-check both
  distances against independent computations instead (a symmetric eigenvalue route for the trace term,
  explicit sums for the MMD).

Numerics of the Fréchet distance. Σ_a Σ_b is similar to the positive semi-definite Σ_a^½ Σ_b Σ_a^½,
so its eigenvalues, and the trace of its square root, are real and non-negative. Computed, they carry
round-off: ``sqrtm`` may return a complex matrix with small imaginary parts, which are dropped when the
largest imaginary part of the diagonal is below 1e-3 of the diagonal's scale (a larger one means a
covariance that is not positive semi-definite, and raises). A covariance can be singular or nearly so:
fewer samples than features, a feature that is constant over a set (a LeNet unit silent on every image),
features that are linear combinations of others. A feature constant in both sets has zero rows and
columns in both and is dropped before the root (exact). The square root of a singular product may not
exist as a polynomial in it and ``sqrtm`` can return inf/NaN or a root of poor accuracy. So the root's
relative residual
‖X X − Σ_a Σ_b‖_F / ‖Σ_a Σ_b‖_F is checked, and when it is not finite or above 1e-5 the product is
recomputed with ε I added to both covariances, ε = ``eps`` × their mean variance (1e-6 by default,
relative to the data's scale; FID's reference code adds an absolute 1e-6 in the same situation). The
shift changes the distance by O(ε·d). The value is not clipped: identical sets give a round-off residue
of either sign (|FD| ~ 1e-12 of the variance).
"""

from __future__ import annotations

import contextlib
import io
import math
import warnings

import numpy as np
from scipy import linalg

__all__ = ["METRIC_KEYS", "compare_sets", "frechet_distance", "frechet_distance_gaussians", "kernel_distance", "prdc"]

# the keys of compare_sets, in the order tables print them
METRIC_KEYS = ("fd", "kd", "kd_std", "precision", "recall", "density", "coverage", "n_real", "n_fake")

_IMAG_TOL = 1e-3  # largest imaginary part of diag(sqrtm(Σ_a Σ_b)) dropped as round-off, relative to the scale
_RESIDUAL_TOL = 1e-5  # relative residual of sqrtm above which the covariances are shifted by ε I


def _features(a, name: str, min_rows: int = 1) -> np.ndarray:
    arr = np.asarray(a, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] < 1:
        raise ValueError(f"{name} must be a 2-D array of feature vectors (n samples × d features); got shape {arr.shape}")
    if arr.shape[0] < min_rows:
        raise ValueError(f"{name} has {arr.shape[0]} sample(s); this needs at least {min_rows}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values; the features of every image must be finite")
    return arr


def _pair(a, b, names=("a", "b"), min_rows: int = 1) -> tuple[np.ndarray, np.ndarray]:
    A, B = _features(a, names[0], min_rows), _features(b, names[1], min_rows)
    if A.shape[1] != B.shape[1]:
        raise ValueError(f"{names[0]} and {names[1]} must have the same number of features (columns); got "
                         f"{A.shape[1]} and {B.shape[1]}: take both from the same layer of the same network")
    return A, B


def _sqrtm_trace(s1: np.ndarray, s2: np.ndarray) -> float:
    """tr((s1 s2)^½) by ``scipy.linalg.sqrtm``, or NaN when the root is not finite or not accurate."""
    prod = s1 @ s2
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", linalg.LinAlgWarning)  # "singular": the residual below judges the root
        root = linalg.sqrtm(prod)
    if not np.all(np.isfinite(root)):
        return math.nan
    norm = np.linalg.norm(prod)
    if norm > 0 and np.linalg.norm(root @ root - prod) > _RESIDUAL_TOL * norm:
        return math.nan
    diag = np.diagonal(root)
    if np.iscomplexobj(root):
        # the scale of the root's diagonal: its largest entry, or a typical eigenvalue's root, sqrt(tr1 tr2) / d
        typical = np.sqrt(max(np.trace(s1), 0.0) * max(np.trace(s2), 0.0)) / s1.shape[0]
        scale = max(float(np.abs(diag.real).max(initial=0.0)), float(typical), 1e-300)
        worst = float(np.abs(diag.imag).max(initial=0.0))
        if worst > _IMAG_TOL * scale:
            raise ValueError(f"the matrix square root in the Fréchet distance has imaginary parts up to {worst:.3g} "
                             f"(relative {worst / scale:.2g}), beyond round-off: the covariances are not positive "
                             "semi-definite; check the features for a broken network (NaN weights, exploding values)")
        diag = diag.real
    return float(np.sum(diag))


def frechet_distance_gaussians(mu1, sigma1, mu2, sigma2, eps: float = 1e-6) -> float:
    """The Fréchet (2-Wasserstein²) distance of N(mu1, sigma1) and N(mu2, sigma2):
    ‖mu1 − mu2‖² + tr(sigma1 + sigma2 − 2 (sigma1 sigma2)^½).

    ``eps``: the relative diagonal shift applied when the square root of a (near-)singular product is
    not finite or not accurate (module docstring).
    """
    m1, m2 = np.asarray(mu1, dtype=np.float64), np.asarray(mu2, dtype=np.float64)
    s1, s2 = np.atleast_2d(np.asarray(sigma1, dtype=np.float64)), np.atleast_2d(np.asarray(sigma2, dtype=np.float64))
    d = m1.shape[0] if m1.ndim == 1 else -1
    if m1.ndim != 1 or m2.shape != m1.shape or s1.shape != (d, d) or s2.shape != (d, d):
        raise ValueError(f"need two mean vectors of one length d and two d × d covariances; got means {m1.shape}, "
                         f"{m2.shape} and covariances {s1.shape}, {s2.shape}")
    if not all(np.all(np.isfinite(x)) for x in (m1, m2, s1, s2)):
        raise ValueError("the means and covariances must be finite")
    if not eps > 0:
        raise ValueError(f"eps must be > 0; got {eps}")
    diff = m1 - m2
    # a feature constant in both sets (a unit silent on every image) has a zero row and column in both
    # covariances and adds nothing to the trace terms: dropping it is exact and keeps those exact zero
    # eigenvalues out of sqrtm (which handled them well in practice: on LeNet features with 22 silent units
    # of 84 the trace term moved by 6e-15 relative); when no feature varies in either set, only the means count
    live = ~(np.all(s1 == 0, axis=0) & np.all(s1 == 0, axis=1) & np.all(s2 == 0, axis=0) & np.all(s2 == 0, axis=1))
    if not live.all():
        s1, s2, d = s1[np.ix_(live, live)], s2[np.ix_(live, live)], int(live.sum())
        if d == 0:
            return float(diff @ diff)
    tr = _sqrtm_trace(s1, s2)
    if math.isnan(tr):
        shift = eps * max((np.trace(s1) + np.trace(s2)) / (2.0 * d), np.finfo(np.float64).tiny)
        offset = shift * np.eye(d)
        tr = _sqrtm_trace(s1 + offset, s2 + offset)
        if math.isnan(tr):
            raise ValueError(f"the matrix square root in the Fréchet distance failed even with {shift:.3g} added to "
                             "the covariances' diagonals: check the features (constant, duplicated or huge values)")
        # the shifted covariances' distance: their traces carry the shift too
        return float(diff @ diff + np.trace(s1) + np.trace(s2) + 2 * d * shift - 2.0 * tr)
    return float(diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * tr)


def frechet_distance(a, b, eps: float = 1e-6) -> float:
    """The Fréchet distance between the Gaussian fits (sample mean, unbiased covariance) of the rows of ``a``
    and ``b`` (n_a × d and n_b × d features; each at least 2 rows). 0 for identical sets, up to round-off.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> a = rng.standard_normal((4000, 3))
    >>> round(frechet_distance(a, a + [2.0, 0.0, 0.0]), 6)   # a shift by 2: ‖Δμ‖² = 4, equal covariances
    4.0
    """
    A, B = _pair(a, b, min_rows=2)
    return frechet_distance_gaussians(A.mean(0), np.cov(A, rowvar=False).reshape(A.shape[1], -1),
                                      B.mean(0), np.cov(B, rowvar=False).reshape(B.shape[1], -1), eps)


def _kernel_sum(u: np.ndarray, v: np.ndarray, off_diagonal: bool) -> float:
    """Σ (u_i·v_j / d + 1)³ over all pairs, or over i ≠ j."""
    t = u @ v.T
    t *= 1.0 / u.shape[1]
    t += 1.0
    cube = t * t
    cube *= t  # products, not `** 3`: numpy's float power is ~10× slower on the m² entries
    total = float(cube.sum())
    return total - float(np.trace(cube)) if off_diagonal else total


def _mmd2_unbiased(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased MMD² of equal-size samples with k(x, y) = (x·y / d + 1)³ (KID's estimator)."""
    m = x.shape[0]
    within = (_kernel_sum(x, x, True) + _kernel_sum(y, y, True)) / (m * (m - 1))
    return within - 2.0 * _kernel_sum(x, y, False) / (m * m)


def kernel_distance(a, b, n_subsets: int = 100, subset_size: int = 1000, seed: int = 0) -> tuple[float, float]:
    """KID: ``(mean, std)`` over ``n_subsets`` of the unbiased MMD² between ``subset_size`` rows of ``a`` and
    as many of ``b``, each subset drawn without replacement (independently per subset) by
    ``numpy.random.default_rng(seed)``; k(x, y) = (x·y / d + 1)³, d = the number of features.

    Unbiased: the expected value is 0 for two samples of one distribution, so a single estimate can be
    slightly negative. ``std`` is the spread of the subset estimates (ddof 0, as KID's reference code);
    the standard error of the mean is ``std / sqrt(n_subsets)``. Cost: 3 products of
    ``subset_size² · d`` per subset.
    """
    n_subsets, subset_size = int(n_subsets), int(subset_size)
    if n_subsets < 1:
        raise ValueError(f"n_subsets must be >= 1; got {n_subsets}")
    if subset_size < 2:
        raise ValueError(f"subset_size must be >= 2 (the unbiased estimate needs two samples per set); got {subset_size}")
    A, B = _pair(a, b, min_rows=1)
    if subset_size > min(A.shape[0], B.shape[0]):
        raise ValueError(f"subset_size {subset_size} exceeds the smaller set ({A.shape[0]} vs {B.shape[0]} samples): "
                         "lower subset_size or pass more samples")
    rng = np.random.default_rng(int(seed))
    values = np.empty(n_subsets)
    for s in range(n_subsets):
        x = A[rng.choice(A.shape[0], subset_size, replace=False)]
        y = B[rng.choice(B.shape[0], subset_size, replace=False)]
        values[s] = _mmd2_unbiased(x, y)
    return float(values.mean()), float(values.std())


def prdc(real, fake, k: int = 5) -> dict[str, float]:
    """Precision, recall, density and coverage of ``fake`` against ``real`` (rows are feature vectors).

    With r_i the distance of real sample i to its k-th nearest other real sample (and f_j likewise
    among the fakes), and strict inequalities as in the reference code:

    - precision: share of fakes inside some real ball, d(real_i, fake_j) < r_i (fidelity);
    - recall: share of reals inside some fake ball, d(real_i, fake_j) < f_j (diversity);
    - density: mean over fakes of the number of real balls holding them, divided by k (≈ 1 when the
      two sets come from one distribution; above 1 where fakes crowd where reals are dense);
    - coverage: share of reals whose ball holds at least one fake.

    Computed by the ``prdc`` package (module docstring). Needs ``k >= 1`` and more than ``k`` samples in
    each set.
    """
    k = int(k)
    if k < 1:
        raise ValueError(f"k must be >= 1 (the nearest neighbour that sets each ball's radius); got {k}")
    R, F = _pair(real, fake, names=("real", "fake"))
    for name, arr in (("real", R), ("fake", F)):
        if arr.shape[0] <= k:
            raise ValueError(f"the {name} set has {arr.shape[0]} samples, too few for k = {k}: the balls need the "
                             f"k-th nearest other sample, so pass more than k samples or lower k")
    import joblib
    from prdc import compute_prdc

    # it prints the set sizes; and it asks scikit-learn for 8 threads, which the sequential backend makes one
    # (the caller's thread count holds; the same distances in 1/5 of the time on a loaded 2-core machine)
    with contextlib.redirect_stdout(io.StringIO()), joblib.parallel_config(backend="sequential"):
        out = compute_prdc(real_features=R, fake_features=F, nearest_k=k)
    return {key: float(out[key]) for key in ("precision", "recall", "density", "coverage")}


def compare_sets(real_features, fake_features, *, k: int, n_subsets: int, subset_size: int, seed: int,
                 eps: float = 1e-6) -> dict:
    """Every distribution metric of ``fake_features`` against ``real_features``, in one dict.

    Keys (:data:`METRIC_KEYS`): ``fd`` (:func:`frechet_distance`), ``kd`` and ``kd_std``
    (:func:`kernel_distance` with ``n_subsets``, ``subset_size``, ``seed``), ``precision``, ``recall``,
    ``density``, ``coverage`` (:func:`prdc` with ``k``), ``n_real``, ``n_fake`` (the set sizes).
    Floats, and ints for the sizes: ready for a JSON file or a table row.

    The real-image floor to print beside such numbers is ``compare_sets`` of held-out real images
    against training images, the pipeline's ``mnist_features`` rule records it per seed.
    """
    R, F = _pair(real_features, fake_features, names=("real_features", "fake_features"), min_rows=2)
    kd, kd_std = kernel_distance(R, F, n_subsets, subset_size, seed)
    out = {"fd": frechet_distance(R, F, eps), "kd": kd, "kd_std": kd_std, **prdc(R, F, k),
           "n_real": int(R.shape[0]), "n_fake": int(F.shape[0])}
    return {key: out[key] for key in METRIC_KEYS}
