"""PCA whitening of images: fit on training data, encode to a whitened latent, decode back. Pure numpy.

With the training mean ``μ``, the top ``D`` principal axes ``V`` (D × P, orthonormal rows) and their
variances ``s²`` (explained variance), a flattened image ``x`` maps to

    z = V (x − μ) / s            (every latent coordinate has unit variance on the training data)

and any latent state ``z`` (an image's code or a MUSIC state) decodes to ``x̂ = μ + Vᵀ (s ⊙ z)``.
``decode(encode(x))`` is the projection of ``x`` onto the principal subspace, so the round trip is
exact when ``D`` equals the rank of the centred training data. The axes come from the eigen-
decomposition of the P × P covariance (deterministic); each axis's sign is fixed so that its
largest-magnitude loading is positive.

Examples
--------
>>> import numpy as np
>>> from musicsom.encoding import PCAWhitening
>>> X = np.random.default_rng(0).standard_normal((200, 6))
>>> Z = PCAWhitening(n_components=3).fit_encode(X)   # whitened codes: the space the SOM and MUSIC work in
>>> Z.shape
(200, 3)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validation import check_int, check_matrix

__all__ = ["PCAWhitening", "flatten_images", "variance_share"]


def flatten_images(images) -> np.ndarray:
    """(n, H, W) images (uint8 0..255 or floats) → (n, H·W) float64; uint8 is scaled to [0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> from musicsom.encoding import flatten_images
    >>> flatten_images(np.full((2, 3, 3), 255, dtype=np.uint8)).shape
    (2, 9)
    >>> float(flatten_images(np.full((1, 2, 2), 51, dtype=np.uint8)).max())   # uint8 scaled to [0, 1]
    0.2
    """
    a = np.asarray(images)
    scale = 255.0 if a.dtype == np.uint8 else 1.0
    return a.reshape(a.shape[0], -1).astype(np.float64) / scale


def variance_share(n_components) -> float | None:
    """The share of variance a float ``n_components`` asks for (in (0, 1)), or None for an integer or 'full'.

    Raises a ValueError for a float outside (0, 1) (an integer number of components is passed as an int).

    Examples
    --------
    >>> from musicsom.encoding import variance_share
    >>> variance_share(0.999), variance_share(50), variance_share("full")
    (0.999, None, None)
    """
    import numbers

    if isinstance(n_components, (bool, np.bool_)) or not isinstance(n_components, (numbers.Real, np.floating)):
        return None
    if isinstance(n_components, (numbers.Integral, np.integer)):
        return None
    share = float(n_components)
    if not 0.0 < share < 1.0:
        raise ValueError(f"n_components as a float is a share of the variance and must be in (0, 1); got {share!r}"
                         " (pass an int for a number of components)")
    return share


@dataclass
class PCAWhitening:
    """PCA whitening to ``n_components`` dimensions (fit on training rows).

    ``n_components="full"`` keeps every component whose variance is above ``eps`` times the largest
    (the data's numerical rank: 712 of MNIST's 784 pixels, whose other directions hold round-off).
    A float in (0, 1) is a share of the variance, as in scikit-learn's PCA: the smallest number of
    components whose explained variance ratios sum to at least that share (never more than the
    numerical rank). ``n_components_`` is the D chosen.
    Attributes after ``fit``: ``mean_`` (P,), ``components_`` (D, P), ``explained_variance_`` (D,),
    ``explained_variance_ratio_`` (D,) and ``total_variance_``.

    Examples
    --------
    >>> import numpy as np
    >>> from musicsom.encoding import PCAWhitening
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((200, 6)) @ rng.standard_normal((6, 6))   # correlated features
    >>> enc = PCAWhitening(n_components=3).fit(X)
    >>> Z = enc.encode(X)
    >>> Z.shape, enc.components_.shape
    ((200, 3), (3, 6))
    >>> bool(np.allclose(Z.mean(0), 0)), bool(np.allclose(Z.var(0, ddof=1), 1))   # unit variance per coordinate
    (True, True)
    >>> bool(np.all(np.diff(enc.explained_variance_) < 0))   # axes by decreasing variance
    True

    ``decode`` maps any latent state (a code, or a MUSIC state) back; with every component kept the
    round trip is exact:

    >>> full = PCAWhitening(n_components=6).fit(X)
    >>> bool(np.allclose(full.decode(full.encode(X)), X))
    True
    >>> enc.decode(Z[0]).shape                             # one code (D,) gives one row (P,)
    (6,)
    >>> again = PCAWhitening.from_arrays(enc.mean_, enc.components_, enc.explained_variance_)
    >>> bool(np.allclose(again.encode(X), Z))             # rebuilt from its saved arrays
    True

    A variance share keeps the fewest leading components that hold it:

    >>> share = PCAWhitening(n_components=0.9).fit(X)
    >>> D = share.n_components_
    >>> bool(share.explained_variance_ratio_.sum() >= 0.9 > share.explained_variance_ratio_[: D - 1].sum())
    True
    """

    n_components: int | float | str = 50
    eps: float = 1e-12
    n_components_: int | None = None
    mean_: np.ndarray | None = None
    components_: np.ndarray | None = None
    explained_variance_: np.ndarray | None = None
    explained_variance_ratio_: np.ndarray | None = None
    total_variance_: float | None = None

    def fit(self, X) -> "PCAWhitening":
        X = check_matrix(X, "X", min_rows=2)
        n, P = X.shape
        share = variance_share(self.n_components)
        full = share is not None or isinstance(self.n_components, str)
        if isinstance(self.n_components, str) and self.n_components != "full":
            raise ValueError(f"n_components must be an integer, a variance share in (0, 1) or 'full'; got {self.n_components!r}")
        D = min(n - 1, P) if full else check_int(self.n_components, "n_components")
        if not 1 <= D <= min(n - 1, P):
            raise ValueError(f"n_components must be in [1, {min(n - 1, P)}] for {n} rows of {P} features; got {D}")
        mean = X.mean(0)
        C = np.zeros((P, P))
        for s in range(0, n, 8192):  # chunked covariance keeps memory bounded
            B = X[s : s + 8192] - mean
            C += B.T @ B
        C /= n - 1
        evals, evecs = np.linalg.eigh(C)
        order = np.argsort(evals)[::-1][:D]
        var = evals[order]
        if full:  # the numerical rank: components of non-negligible variance
            D = max(1, int(np.sum(var > self.eps * max(var[0], 1e-300))))
            if share is not None:  # the fewest leading components holding the share (scikit-learn's rule, >=)
                cumulative = np.cumsum(var) / np.trace(C)
                D = min(D, int(np.searchsorted(cumulative, share, side="left")) + 1)
            order, var = order[:D], var[:D]
        if var[-1] <= self.eps * max(var[0], 1e-300):
            raise ValueError(
                f"the {D}-th principal variance ({var[-1]:.3g}) is numerically zero: the training data has rank < {D}; "
                "use fewer components"
            )
        V = evecs[:, order].T
        flip = np.sign(V[np.arange(D), np.abs(V).argmax(1)])
        self.n_components_ = int(D)
        self.mean_ = mean
        self.components_ = V * flip[:, None]
        self.explained_variance_ = var
        self.total_variance_ = float(np.trace(C))
        self.explained_variance_ratio_ = var / self.total_variance_
        return self

    @classmethod
    def from_arrays(cls, mean, components, explained_variance, total_variance=None) -> "PCAWhitening":
        """Rebuild a fitted encoder from its saved arrays."""
        comps = np.asarray(components, dtype=np.float64)
        enc = cls(n_components=comps.shape[0])
        enc.n_components_ = int(comps.shape[0])
        enc.mean_ = np.asarray(mean, dtype=np.float64)
        enc.components_ = comps
        enc.explained_variance_ = np.asarray(explained_variance, dtype=np.float64)
        if total_variance is not None:
            enc.total_variance_ = float(total_variance)
            enc.explained_variance_ratio_ = enc.explained_variance_ / enc.total_variance_
        return enc

    def _fitted(self):
        if self.components_ is None:
            raise ValueError("this PCAWhitening is not fitted yet; call fit(X) first")

    @property
    def scale_(self) -> np.ndarray:
        self._fitted()
        return np.sqrt(self.explained_variance_)

    def encode(self, X) -> np.ndarray:
        """(n, P) rows → (n, D) whitened codes (a (P,) row gives (D,))."""
        self._fitted()
        X = np.asarray(X, dtype=np.float64)
        single = X.ndim == 1
        X2 = check_matrix(X[None] if single else X, "X", ncols=self.mean_.size)
        Z = (X2 - self.mean_) @ self.components_.T / self.scale_
        return Z[0] if single else Z

    def decode(self, Z) -> np.ndarray:
        """(n, D) whitened codes (or MUSIC states) → (n, P) rows (a (D,) code gives (P,))."""
        self._fitted()
        Z = np.asarray(Z, dtype=np.float64)
        single = Z.ndim == 1
        Z2 = check_matrix(Z[None] if single else Z, "Z", ncols=self.components_.shape[0])
        X = self.mean_ + (Z2 * self.scale_) @ self.components_
        return X[0] if single else X

    def fit_encode(self, X) -> np.ndarray:
        return self.fit(X).encode(X)
