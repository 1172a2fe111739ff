"""Claim 1: inversion error is round-off once m >= D + 1 prototypes are used, and large below.

The paper. Proposition 1 (§2.1): the squared distances to D + 1 affinely independent prototypes determine the
input exactly. §5.2 (Fig 5): "the error remains large and slowly decreasing for m <= D, then drops abruptly to
numerical zero at m = D + 1 and stays there". §5.3.1 (MNIST): "Because the map contains many more than D + 1
prototypes spanning the whitened PCA space in general position, ... reconstruction errors are consistently near
machine precision. This guarantees that intermediate MUSIC states can be faithfully decoded back into pixel
space." (docs/METHOD.md §7, claim 1: round-off, about 1e-12 or less, once m >= D + 1; large below.)

Every check is a mean over units of replication, pooled over every seed's map (:meth:`Bootstrap.units`). The
unit value is an indicator: whether the unit's error lies on the paper's side of a threshold. Errors span many
decades and a mixture of exact and failed units is the failure to detect, so a mean of log-errors would not do
(half the codes at 1e-15 and half at 1e-3 average to 1e-9); a share of units does.

GMM (Fig 5, every seed's map; the unit is the test point, 1,500 per seed):

- **round-off from m = D + 1**: per point, whether its largest error ``||x̂ − x||`` over every m >= D + 1 (the
  paper's "stays there") exceeds ``ROUND_OFF``; the unit value is −1 if so, else 0, so the statistic is minus the
  share of points that fail (non-inferiority against "every point", SESOI ``FAIL_SESOI``). The mixture is
  standardised (coordinates of order 1), so the absolute error is also a relative one.
- **large below D + 1**: per point, whether its smallest error over m <= D is at least ``LARGE``; the unit value
  is +1/2 if so, else −1/2, so the statistic (the share of such points minus 1/2) is above 0 exactly when the
  median over points of the smallest error is above ``LARGE``: the paper's statement is about the median error.

MNIST (§5.3.1, every seed; the unit is the test code, grouped by its anchor), each code anchored on its BMU with
all K prototypes. Each distinct anchor costs one SVD of the (K − 1) × D anchored system (0.18 s at K = 900,
D = 712 on one core; 10,000 test codes use about 680 anchors), so the pipeline inverts the test codes of a seeded
sample of anchors (:func:`anchor_sample`, ``mnist.inversion.n_anchors``); the bootstrap resamples anchors above
their codes, since the codes of one anchor share its system and its round-off. Where the prototypes span fewer
than D dimensions (the numerical rank of the anchored system, at a relative cut-off of 1e-10, is below D) the inversion is the minimum-norm least-squares one
(``Inverter(strict=False)``): it recovers the part of the code inside the prototypes' span and loses the rest.
The checks are then still measured, and say so (the rank, D and the reason are evidence):

- **round-off on the MNIST test set**: per code, whether the relative latent error ``||x̂ − x|| / ||x||``
  exceeds ``ROUND_OFF`` (unit value −1, else 0: minus the share of codes off round-off; non-inferiority, SESOI
  ``FAIL_SESOI``). At a rank-deficient map these are the min-norm errors: the check then measures the paper's
  sentence where its premise ("spanning the whitened PCA space") is unmet, which refutes the sentence there, not
  Proposition 1.
- **decoded images faithful (MNIST)**: the paper's practical point ("intermediate MUSIC states can be faithfully
  decoded back into pixel space"), decided on its own. Per code, whether the decoded reconstruction differs from
  the decoded code (both through the whitening's inverse, unclipped) by a grey level (1/255 of the [0, 1] pixel
  range) or more at some pixel (unit value −1, else 0; non-inferiority, SESOI ``FAIL_SESOI``). Comparing with
  the decoded code, not the image, keeps the PCA truncation (the encoder's loss, the same for any method) out of
  the inversion's error.

Thresholds and SESOIs (the value at which the outcome flips is stated with each):

- ``ROUND_OFF`` = 1e-10. The paper reads "round-off" as about 1e-12 or less; a least-squares solve loses about its condition
  number times float64's unit round-off (1.1e-16): 3e-15 at the MNIST maps' condition numbers of ~25, 1e-12 at 1e4.
  1e-10 leaves two decades above that figure for worse-conditioned systems; a systematic inversion error (a lost
  direction, a wrong sign) is of order 1e-3 or more, seven decades above. A unit flips at 1e-10.
- ``FAIL_SESOI`` = 0.01 (a share of units). The paper says "consistently near machine precision" and "stays there
  for all m > D"; it gives no tolerance, and Proposition 1 admits none in exact arithmetic, but in float64 the
  square system at m = D + 1 is now and then ill-conditioned (a GMM map of the paper-setup run had 2 of 1,500 points
  at 1.6e-10 and 1.7e-10 there, below 1e-11 from m = D + 2 on). One failing unit in a hundred would be invisible on Fig
  5's median and quartiles, and 1,500 points per seed resolve it (the binomial interval of a 0.5 % share is about
  ±0.4 %). Flips: supports while the interval's lower end of
  minus the failing share is above −0.01 (fewer than 1 % of units fail, with confidence); contradicts once its
  upper end is below −0.01 (more than 1 % fail, with confidence).
- ``LARGE`` = 1e-2 (GMM, m <= D): "large" is relative to numerical zero; 1e-2 is 1 % of the standardised data's
  unit scale and eight decades above ``ROUND_OFF``, so the threshold itself is the smallest effect of interest
  and no band is added: SESOI 0 (directional). Flips: supports while more than half the points have their
  smallest error over m <= D above 1e-2 (the median above it) with confidence; contradicts below half.
- ``GREY_LEVEL`` = 1/255 (MNIST decoded images): the quantisation step of the 8-bit MNIST images; an error below
  one grey level at every pixel cannot be shown by an 8-bit image (a unit flips at one grey level).
"""

from __future__ import annotations

import numpy as np

from musicsom.experiments.claims import Bootstrap, ev, unmeasurable
from musicsom.inversion import Inverter, activations

NUMBER = 1
TITLE = "Exact inversion from D + 1 prototypes"
PAPER = "Inversion error is round-off (about 1e-12 or less) once m >= D + 1, and large below."
ROUND_OFF = 1e-10  # the error that still counts as round-off (absolute on the GMM, relative on MNIST)
FAIL_SESOI = 0.01  # the share of units that may miss the threshold ("consistently")
LARGE = 1e-2  # the smallest error that counts as "large" below D + 1 (GMM)
GREY_LEVEL = 1.0 / 255.0  # one grey level of the 8-bit images, in pixel units ([0, 1] range)
RCOND = 1e-10  # relative singular-value cut-off of the numerical rank (Inverter's default)
RULE = (
    f"GMM, per test point of every seed's map: the largest error over m >= D + 1 at most {ROUND_OFF:g} on all but "
    f"{FAIL_SESOI:.0%} of points (non-inferiority), and the smallest over m <= D at least {LARGE:g} on more than half "
    f"of them (the median); MNIST, per test code of every seed's map: the relative latent error at most "
    f"{ROUND_OFF:g} (the min-norm error where the prototypes span fewer than D dimensions) and the decoded image "
    f"within one grey level (1/255) at every pixel, each on all but {FAIL_SESOI:.0%} of codes (non-inferiority)"
)


def missed(errors, threshold: float) -> np.ndarray:
    """−1 for each error above ``threshold`` (including NaN: an inversion that failed), else 0."""
    e = np.asarray(errors, dtype=np.float64)
    return -(~(e <= threshold)).astype(np.float64)


def gmm_checks(errors, m_values, dim: int, seed: int, boot: Bootstrap, setting: str = "default") -> list:
    """``errors`` (points, len(m_values)): the inversion error of each test point with m prototypes (Fig 5), one map."""
    E = np.asarray(errors, dtype=np.float64)
    m = np.asarray(m_values)
    if E.ndim != 2 or E.shape[1] != m.size:
        raise ValueError(f"errors must be (points, {m.size}) for {m.size} m values; got shape {E.shape}")
    full, deficient = E[:, m >= dim + 1], E[:, m <= dim]
    out = []
    if full.shape[1]:
        worst = full.max(axis=1)
        out.append(boot.units(
            NUMBER, seed, "round-off from m = D + 1", f"minus the share of test points whose largest error over "
            f"m >= D + 1 exceeds {ROUND_OFF:g}", missed(worst, ROUND_OFF),
            ev("median over points of the largest error over m >= D + 1", np.median(worst)),
            ev("largest error over m >= D + 1", worst.max()),
            ev("points above the round-off bound", int(np.sum(~(worst <= ROUND_OFF)))), ev("D", dim),
            kind="noninferiority", sesoi=FAIL_SESOI, unit="share of points", setting=setting))
    if deficient.shape[1]:
        best = deficient.min(axis=1)
        out.append(boot.units(
            NUMBER, seed, "large below D + 1", f"share of test points whose smallest error over m <= D is at least "
            f"{LARGE:g}, minus 1/2 (> 0: the median is)", np.where(best >= LARGE, 0.5, -0.5),
            ev("median over points of the smallest error over m <= D", np.median(best)),
            ev("smallest median error over m <= D", np.median(deficient, axis=0).min()),
            sesoi=0.0, unit="share of points", setting=setting))
    return out


# ---------------------------------------------------------------- MNIST
def anchor_sample(X, W, n_anchors: int, seed: int) -> np.ndarray:
    """Indices (sorted) of the codes ``X`` whose BMU among ``W`` is one of ``n_anchors`` BMUs drawn with ``seed``.

    The draw is among the prototypes that are some code's BMU, so every drawn anchor brings its codes; all of
    them are kept (the anchor, not the code, is what costs a factorisation). ``n_anchors`` 0, or at least the
    number of distinct BMUs, keeps every code.
    """
    X = np.asarray(X, dtype=np.float64)
    W = np.asarray(W, dtype=np.float64)
    if X.ndim != 2 or W.ndim != 2 or X.shape[1] != W.shape[1]:
        raise ValueError(f"X (n, D) and W (K, D) must share D; got {X.shape} and {W.shape}")
    if int(n_anchors) != n_anchors or n_anchors < 0:
        raise ValueError(f"n_anchors must be a non-negative integer (0 = every code); got {n_anchors!r}")
    bmus = activations(X, W).argmin(1)
    used = np.unique(bmus)
    if n_anchors == 0 or n_anchors >= used.size:
        return np.arange(X.shape[0])
    drawn = np.random.default_rng(seed).choice(used, size=int(n_anchors), replace=False)
    return np.flatnonzero(np.isin(bmus, drawn))


def invert_codes(X, W, encoder=None) -> dict:
    """Invert the activations of the codes ``X`` (n, D) with all prototypes ``W``, each anchored on its BMU.

    Returns the per-code ``relative_errors`` ``||x̂ − x|| / ||x||``, the anchored system's numerical ``rank``,
    ``sigma_min`` and ``condition_number`` (of each code's anchor), the ``anchors``, and with an ``encoder``
    (:class:`musicsom.encoding.PCAWhitening`) the ``pixel_errors``: the largest absolute difference of the
    decoded reconstruction from the decoded code, in pixel units. Where the rank is below D the reconstruction
    is the minimum-norm least-squares one (the part of the code outside the prototypes' span is lost).
    """
    X = np.asarray(X, dtype=np.float64)
    W = np.asarray(W, dtype=np.float64)
    if X.ndim != 2 or W.ndim != 2 or X.shape[1] != W.shape[1]:
        raise ValueError(f"X (n, D) and W (K, D) must share D; got {X.shape} and {W.shape}")
    A = activations(X, W)
    anchors = A.argmin(1)
    X_hat = np.empty_like(X)
    n = X.shape[0]
    rank, smin, cond = np.zeros(n, dtype=np.int64), np.zeros(n), np.zeros(n)
    for ref in np.unique(anchors):
        rows = np.flatnonzero(anchors == ref)
        inv = Inverter(W, int(ref), strict=False, rcond=RCOND)
        X_hat[rows] = inv.invert(A[rows])
        rank[rows], smin[rows], cond[rows] = inv.rank, inv.sigma_min, inv.condition_number
    diff = X_hat - X
    out = {"relative_errors": np.linalg.norm(diff, axis=1) / np.linalg.norm(X, axis=1), "rank": rank,
           "sigma_min": smin, "condition_number": cond, "anchors": anchors, "dim": int(X.shape[1])}
    if encoder is not None:
        out["pixel_errors"] = np.abs((diff * encoder.scale_) @ encoder.components_).max(axis=1)
    return out


def mnist_checks(relative_errors, seed: int, boot: Bootstrap, setting: str = "default", reason: str = "",
                 condition_number: float | None = None, *, pixel_errors=None, rank: int | None = None,
                 dim: int | None = None, anchors=None) -> list:
    """The MNIST checks of one seed's map from the per-code errors of :func:`invert_codes`.

    ``relative_errors``: the relative latent error of every test code (exact, or min-norm where ``rank`` < ``dim``);
    ``pixel_errors``: the largest absolute pixel error of each decoded reconstruction, in pixel units ([0, 1]);
    ``rank``: the smallest numerical rank of the anchored systems used; ``reason``: why exact inversion is impossible
    (kept as evidence); ``anchors``: each code's anchor, resampled above the codes (codes of one anchor share its
    system). With no errors at all (nothing could be measured) the check is recorded as unmeasurable.
    """
    name, stat = "round-off on the MNIST test set", f"minus the share of test codes whose relative error exceeds {ROUND_OFF:g}"
    err = np.zeros(0) if relative_errors is None else np.asarray(relative_errors, dtype=np.float64).ravel()
    if err.size == 0:
        return [unmeasurable(NUMBER, seed, name, stat, ">", -FAIL_SESOI, reason or "no test code was inverted", setting)]
    deficient = rank is not None and dim is not None and rank < dim
    why = reason or (f"the prototypes span only {rank} of D = {dim} dimensions" if deficient else "")
    span = [ev(f"numerical rank of the anchored system (D = {dim})" + (f"; min-norm inversion: {why}" if why else ""), rank),
            ev("D", dim)]
    label = "min-norm " if deficient else ""
    groups = None if anchors is None else np.asarray(anchors).ravel()
    if groups is not None and groups.size != err.size:
        raise ValueError(f"anchors must have one value per test code ({err.size}); got {groups.size}")
    out = [boot.units(NUMBER, seed, name, stat, missed(err, ROUND_OFF), *span,
                      ev(f"median {label}relative error", np.median(err)), ev(f"max {label}relative error", err.max()),
                      ev("test codes above the round-off bound", int(np.sum(~(err <= ROUND_OFF)))),
                      ev("condition number (median over anchors)", condition_number),
                      groups=groups, kind="noninferiority", sesoi=FAIL_SESOI, unit="share of codes", setting=setting)]
    if pixel_errors is not None:
        grey = np.asarray(pixel_errors, dtype=np.float64).ravel() / GREY_LEVEL
        if grey.size != err.size:
            raise ValueError(f"pixel_errors must have one value per test code ({err.size}); got {grey.size}")
        out.append(boot.units(
            NUMBER, seed, "decoded images faithful (MNIST)", "minus the share of test codes whose decoded "
            "reconstruction is off by a grey level (1/255) or more at some pixel", -(~(grey < 1.0)).astype(np.float64),
            *span, ev(f"median largest pixel error of the {label}reconstruction (grey levels)", np.median(grey)),
            ev(f"max largest pixel error of the {label}reconstruction (grey levels)", grey.max()),
            ev("test images with a pixel off by a grey level or more", int(np.sum(~(grey < 1.0)))),
            groups=groups, kind="noninferiority", sesoi=FAIL_SESOI, unit="share of codes", setting=setting))
    return out
