"""Self-organising maps (batch rule) on rectangular, toroidal and hexagonal lattices (numpy/scipy; file I/O only in SOM.save/load).

Activations are *squared* Euclidean distances, ``a_k = ||x − w_k||²``, to the prototypes ``w_k``.

This module holds the :class:`SOM` estimator and re-exports, so that ``from musicsom.som import ...``
works for all of them, the lattice geometry of :mod:`musicsom.lattice`
(``TOPOLOGIES``, :func:`lattice_coordinates`, :func:`lattice_positions`, :func:`lattice_sq_distances`,
:func:`lattice_ring`) and the robust distances of :mod:`musicsom.distances` (:func:`sq_distances`,
:func:`best_matching_units`, :func:`quantization_error`, :func:`topographic_error`,
:func:`majority_labels`, :func:`u_matrix`).

Lattices (``TOPOLOGIES``)
-------------------------
Units are numbered row-major: unit ``k`` sits at lattice row ``r = k // cols`` and column
``c = k % cols``. ``"rectangular"`` and ``"toroidal"`` lattices have 8 neighbours per unit;
``"hexagonal"`` and ``"hexagonal_toroidal"`` ones use odd-row offsets, unit (r, c) at
``x = c + 0.5·(r mod 2)``, ``y = r·√3/2``, with 6 neighbours 1 apart (a hexagonal torus needs an even
number of rows). The details are in :mod:`musicsom.lattice`.

Training (:class:`SOM`)
-----------------------
Each batch epoch assigns every sample to its best-matching unit (BMU), then sets each prototype to
the neighbourhood-weighted mean of the samples, ``W = H S / (H n)``, with ``S`` the per-unit sums,
``n`` the per-unit counts and ``H`` the Gaussian kernel ``exp(−d²/2σ²)`` of the lattice distances
``d`` (:func:`lattice_sq_distances`); ``σ`` decays geometrically from ``sigma_start`` to ``sigma_end``
(never grows: ``fit`` refuses ``sigma_end > sigma_start``).
On rectangular lattices the kernel factorises over the two axes, ``H = H_rows ⊗ H_cols``, so the
update applies two small 1-D kernels; hexagonal lattices use the dense K × K kernel (in row blocks).
The BMU search of an epoch is one matrix product per row block, ``[x, 1] · [−2w, ||w||²]ᵀ`` (the
``||x||²`` term does not change the ranking), shared among threads (BLAS single-threaded meanwhile).
``bmu_dtype="float32"`` runs that search in single precision (about twice as fast; prototypes and
sums stay float64; near-ties may resolve differently, so the map is not bit-for-bit the float64 one);
data it cannot resolve (far outliers) are searched in float64 instead, with a RuntimeWarning.
``fit`` keeps float64 training bit-for-bit identical to earlier versions of this module for data
that need no frame (the numerics are described in :mod:`musicsom.distances`).

A fitted map knows the column names of a DataFrame it was fitted on (``feature_names_in_``, as in
scikit-learn) and checks them at every later call; :meth:`SOM.save` / :meth:`SOM.load` store and
restore it as a ``.npz`` file, without pickle.

Examples
--------
Train a map, read its activations (*squared* distances) and its lattice:

>>> import numpy as np
>>> from musicsom.som import SOM, lattice_ring
>>> X = np.random.default_rng(0).standard_normal((500, 3))
>>> som = SOM((6, 5), epochs=10).fit(X)
>>> som.transform(X[:2]).shape                 # squared distances ||x − w_k||², one column per unit
(2, 30)
>>> lattice_ring(7, 1, (6, 5)).tolist()        # unit 7 = (1, 2): its 8 lattice neighbours
[1, 2, 3, 6, 8, 11, 12, 13]
"""

from __future__ import annotations

import inspect
import json
import warnings
from collections import Counter, defaultdict

import numpy as np
from scipy import sparse

from . import _npzfile
from ._torch_backend import _check_backend  # names only: torch is imported when backend='torch' fits
from ._validation import (
    NotFittedError,
    _feature_names,
    _FittedTransformer,
    _not_fitted,
    check_int,
    check_scalar,
)
from .distances import (
    _as_matrix,
    _check_chunk_size,
    _neighbour_distance_table,
    _neighbour_sum,
    _single_blas_thread,
    _TrainingBmus,
    available_cpus,
    best_matching_units,
    majority_labels,
    quantization_error,
    sq_distances,
    topographic_error,
    u_matrix,
)
from .lattice import (
    HEX_ROW_HEIGHT,
    TOPOLOGIES,
    _check_grid,
    _check_topology,
    _gaussian_1d,
    _hex_sq_block,
    _is_hex,
    lattice_coordinates,
    lattice_positions,
    lattice_ring,
    lattice_sq_distances,
)

__all__ = [
    "SOM",
    "NotFittedError",
    "TOPOLOGIES",
    "HEX_ROW_HEIGHT",
    "lattice_coordinates",
    "lattice_positions",
    "lattice_sq_distances",
    "lattice_ring",
    "sq_distances",
    "best_matching_units",
    "quantization_error",
    "topographic_error",
    "majority_labels",
    "u_matrix",
    "available_cpus",
]


# ---------------------------------------------------------------- feature names (scikit-learn's convention)
def _name_list(names: list, most: int = 5) -> str:
    """The names as "- name" lines, the first ``most`` of them (scikit-learn's layout)."""
    lines = [f"- {name}\n" for name in names[:most]]
    return "".join(lines) + ("- ...\n" if len(names) > most else "")


# ---------------------------------------------------------------- save files (.npz, no pickle: musicsom._npzfile)
_SAVE = _npzfile.SaveFormat(
    what="SOM", name="musicsom.SOM", version=1,
    keys=("params", "prototypes_", "grid_shape_", "topology_", "n_features_in_", "history_epoch", "history_sigma"),
)  # and feature_names_in_ when the map has names
_GENERATOR_KEY = "numpy_generator_state"


def _params_to_json(params: dict) -> str:
    """The validated constructor parameters as JSON; a numpy Generator as its bit generator's state."""
    out = dict(params, grid_shape=list(params["grid_shape"]))
    rs = params["random_state"]
    if isinstance(rs, np.random.Generator):
        out["random_state"] = {_GENERATOR_KEY: rs.bit_generator.state}
    return json.dumps(out, default=lambda a: a.tolist())  # the state of some bit generators holds arrays


def _params_from_json(text: str, names: list[str]) -> dict:
    """The constructor parameters of :func:`_params_to_json`, or a ValueError saying what is wrong."""
    try:
        params = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"its parameters are not valid JSON ({e})") from None
    if isinstance(params, dict):  # saves written before the torch backend existed: the numpy defaults
        params = {"backend": "numpy", "device": "cpu", **params}
    if not isinstance(params, dict) or sorted(params) != sorted(names):
        got = sorted(params) if isinstance(params, dict) else type(params).__name__
        raise ValueError(f"its parameters should be {sorted(names)}; got {got}")
    params["grid_shape"] = tuple(params["grid_shape"]) if isinstance(params["grid_shape"], list) else params["grid_shape"]
    rs = params["random_state"]
    if isinstance(rs, dict):
        state = rs.get(_GENERATOR_KEY)
        kind = getattr(np.random, state.get("bit_generator", ""), None) if isinstance(state, dict) else None
        if not (isinstance(kind, type) and issubclass(kind, np.random.BitGenerator)):
            raise ValueError("its random_state is neither a seed nor the state of a numpy bit generator")
        bit_generator = kind()
        try:
            bit_generator.state = state
        except (TypeError, ValueError, KeyError) as e:
            raise ValueError(f"its random_state holds an invalid {state['bit_generator']} state ({e})") from None
        params["random_state"] = np.random.Generator(bit_generator)
    return params


# ---------------------------------------------------------------- the steps of a training epoch, after the BMU search
class _UnitSums:
    """``unit_sums(bmu)``: the (K, D) sums of the rows of X assigned to each unit, and the (K,) counts; no validation.

    The one-hot assignment (n × K, one entry per row) is a sparse matrix whose transpose times X adds
    each unit's rows in row order, in float64 (with a float32 search too: prototypes are means of the
    data, not of its single-precision copy). An order of magnitude faster here than ``np.add.at`` or
    a ``bincount`` per column, and its order of additions is the one the pinned maps were made with.
    """

    def __init__(self, X: np.ndarray, K: int):
        self.X, self.K = X, K
        self.indptr = np.arange(X.shape[0] + 1)
        self.ones = np.ones(X.shape[0])

    def __call__(self, bmu: np.ndarray):
        hits = sparse.csr_matrix((self.ones, bmu, self.indptr), shape=(self.X.shape[0], self.K))
        return np.asarray(hits.T @ self.X), np.bincount(bmu, minlength=self.K).astype(np.float64)


class _RectNeighbourhood:
    """``(H n, H S)`` on a rectangular or toroidal lattice for one σ: the separable kernel H = H_rows ⊗ H_cols; no validation.

    Two small 1-D Gaussian kernels applied along the lattice axes: (rows + cols)·K·D multiply-adds
    instead of the K²·D of the dense K × K kernel (15× fewer on a 30 × 30 lattice), and no K × K array.
    """

    def __init__(self, rows: int, cols: int, toroidal: bool):
        self.rows, self.cols, self.toroidal = rows, cols, toroidal

    def __call__(self, sums: np.ndarray, counts: np.ndarray, sigma: float):
        rows, cols, (K, D) = self.rows, self.cols, sums.shape
        h_r = _gaussian_1d(rows, sigma, self.toroidal)
        h_c = _gaussian_1d(cols, sigma, self.toroidal)
        denom = (h_r @ counts.reshape(rows, cols) @ h_c).ravel()
        numer = (h_c @ (h_r @ sums.reshape(rows, cols * D)).reshape(rows, cols, D)).reshape(K, D)
        return denom, numer


_HEX_KEPT = 1 << 23  # hexagonal lattice distances kept between epochs up to 8M entries (64 MB, 2896 units)


class _HexNeighbourhood:
    """``(H n, H S)`` on a hexagonal lattice for one σ: the dense K × K Gaussian kernel, in row blocks of units; no validation.

    The lattice distances do not change between epochs, so each block's are computed once (kept up to
    ``_HEX_KEPT`` entries; recomputed at every epoch beyond), and each epoch exponentiates them in place
    in one reused buffer (blocks of at most 4M entries): the fresh temporaries of the distances and of
    ``np.exp(-d² / 2σ²)`` cost several times the exponential itself (30 × 30 lattice: an update took
    ~20 ms, now ~3). The kernel is that formula's bit for bit (``d² / (−2σ²)`` is ``−d² / (2σ²)``
    exactly) and the blocks are the same, so the products are too.
    """

    def __init__(self, rows: int, cols: int, toroidal: bool):
        self.rows, self.cols, self.toroidal = rows, cols, toroidal
        K = rows * cols
        self.starts = range(0, K, max(1, (1 << 22) // K))
        self.sq = [self._sq(s) for s in self.starts] if K * K <= _HEX_KEPT else None
        self.buf = np.empty((min(self.starts.step, K), K))

    def _sq(self, start: int) -> np.ndarray:
        units = np.arange(start, min(self.rows * self.cols, start + self.starts.step))
        return _hex_sq_block(units, self.rows, self.cols, self.toroidal)

    def __call__(self, sums: np.ndarray, counts: np.ndarray, sigma: float):
        denom = np.empty(sums.shape[0])
        numer = np.empty_like(sums)
        for i, s in enumerate(self.starts):
            sq = self.sq[i] if self.sq is not None else self._sq(s)
            H = self.buf[: sq.shape[0]]
            np.divide(sq, -2.0 * sigma**2, out=H)
            np.exp(H, out=H)
            denom[s : s + H.shape[0]] = H @ counts
            numer[s : s + H.shape[0]] = H @ sums
        return denom, numer


def _new_prototypes(W: np.ndarray, denom: np.ndarray, numer: np.ndarray) -> np.ndarray:
    """The batch rule ``W = H S / (H n)``; a unit whose neighbourhood holds (almost) no samples keeps its prototype."""
    ok = denom > 1e-12 * max(denom.max(), 1e-300)
    return np.where(ok[:, None], numer / np.where(ok, denom, 1.0)[:, None], W)


# ---------------------------------------------------------------- the map
class SOM(_FittedTransformer):
    """Batch self-organising map; a scikit-learn-style transformer (scikit-learn itself is optional).

    ``fit(X)`` sets ``prototypes_`` (K × D), row-major over ``grid_shape``. ``transform(X)`` gives the
    (n, K) activations, which are *squared* Euclidean distances ``||x − w_k||²`` (not distances);
    ``predict(X)`` the BMU index; ``score(X)`` minus the quantization error. Parameters are stored
    unchanged by ``__init__`` and validated by ``fit`` (``get_params``/``set_params``/``clone`` work).

    Parameters
    ----------
    grid_shape : (rows, cols) of the lattice (integers).
    topology : "rectangular", "toroidal", "hexagonal" or "hexagonal_toroidal". Hexagonal lattices
        use odd-row offset coordinates, unit (r, c) at x = c + 0.5·(r mod 2), y = r·√3/2, and 6
        neighbours (units 1 apart); a hexagonal torus needs an even number of rows (module notes).
    epochs : number of batch epochs.
    sigma_start, sigma_end : neighbourhood width (in lattice units) at the first and last epoch;
        decays geometrically. ``sigma_start=None`` means half the larger side. ``fit`` refuses a
        ``sigma_end`` above the (resolved) ``sigma_start``: the neighbourhood would grow.
    init : "pca" (lattice spanned by the two leading principal axes) or "random" (random samples).
    random_state : seed (None, an int >= 0 or a numpy Generator) of the random initialisation, and of
        nothing else (PCA init is deterministic).
    chunk_size : rows per distance block of the BMU, QE and TE methods (memory: chunk_size × K floats);
        ``fit`` uses blocks of at most this many rows, sized to about 4 MB of scores (500k float64 or 1M float32 entries).
    bmu_dtype : "float64" (default) or "float32": precision of the BMU search of ``fit`` only. Data
        that float32 cannot resolve (far outliers) are searched in float64, with a RuntimeWarning.
    n_threads : threads of the BMU search in ``fit`` (None = the CPUs this process may use). BLAS runs
        single-threaded inside ``fit`` and the row blocks are shared among these threads instead.
    backend : "numpy" (default) or "torch": where the epochs of ``fit`` run (PyTorch, imported only then:
        ``pip install torch``). Initialisation, sigma schedule and BMU precision are the same, and so is
        the map, to round-off; ``n_threads`` and ``chunk_size`` concern the numpy search only.
    device : "cpu" (default); with backend="torch" also "cuda", "cuda:N" or "auto" (cuda if available,
        else cpu). An unavailable device raises a RuntimeError at ``fit``.

    Attributes (after ``fit``)
    --------------------------
    prototypes_ : (K, D) prototypes, unit k = row * cols + col.
    grid_shape_, topology_ : the lattice as validated by ``fit`` (the methods use these).
    n_features_in_ : D.
    feature_names_in_ : the column names of X (an object array) when ``fit`` got a DataFrame (anything
        with a ``columns`` attribute of strings), as in scikit-learn; absent otherwise. Every later call
        checks the names: other or reordered names raise a ValueError, and a plain array given to a map
        fitted with names (or names given to one fitted without) warns (UserWarning).
    history_ : one dict (epoch, sigma) per epoch.

    :meth:`save` writes the parameters and the fitted state to a ``.npz`` file that :meth:`load`
    reads back without pickle.

    MiniSom habits: :meth:`get_weights` ((rows, cols, D)), :meth:`winner`, :meth:`win_map`,
    :meth:`activation_response`, :meth:`labels_map`, :meth:`distance_map`, :meth:`quantization_error`,
    :meth:`topographic_error`. Index ``(row, col)`` is unit ``row * cols + col``. (MiniSom's own
    hexagonal layout shifts the rows indexed by its *second* index; see tests/test_som_hex.py.)

    Examples
    --------
    Fit, then read activations (*squared* distances), BMUs and the score:

    >>> import numpy as np
    >>> from musicsom.som import SOM
    >>> X = np.random.default_rng(0).standard_normal((500, 3))
    >>> som = SOM((6, 5), epochs=10).fit(X)
    >>> som
    SOM(grid_shape=(6, 5), epochs=10)
    >>> som.prototypes_.shape, som.get_weights().shape   # (K, D) and MiniSom's (rows, cols, D)
    ((30, 3), (6, 5, 3))
    >>> A = som.transform(X[:4])                      # activations: squared distances ||x − w_k||², (n, K)
    >>> A.shape
    (4, 30)
    >>> bool(np.allclose(A, ((X[:4, None, :] - som.prototypes_) ** 2).sum(-1)))
    True
    >>> bool(np.array_equal(som.predict(X[:4]), A.argmin(1)))   # the BMU: the smallest squared distance
    True
    >>> bool(np.isclose(som.score(X), -som.quantization_error(X)))  # minus the mean distance (not squared) to the BMU
    True
    >>> 0.0 <= som.topographic_error(X) < 0.1
    True

    The U-matrix, normalised as MiniSom's (maximum 1):

    >>> dm = som.distance_map()
    >>> dm.shape, float(dm.max())
    ((6, 5), 1.0)

    A hexagonal map (odd-r offsets, 6 neighbours per unit) has the same methods:

    >>> hexa = SOM((6, 6), topology="hexagonal", epochs=10).fit(X)
    >>> hexa.distance_map().shape
    (6, 6)
    >>> 0.0 <= hexa.topographic_error(X) < 0.1
    True

    Parameters are stored as given and validated by ``fit`` (scikit-learn's ``clone`` works):

    >>> som.get_params()["grid_shape"], SOM().set_params(epochs=5).epochs
    ((6, 5), 5)
    >>> SOM().predict(X)
    Traceback (most recent call last):
        ...
    musicsom.som.NotFittedError: This SOM instance is not fitted yet. Call 'fit' with appropriate arguments before using this method.
    """

    def __init__(
        self,
        grid_shape=(10, 10),
        topology="rectangular",
        epochs=20,
        sigma_start=None,
        sigma_end=1.0,
        init="pca",
        random_state=0,
        chunk_size=8192,
        bmu_dtype="float64",
        n_threads=None,
        backend="numpy",
        device="cpu",
    ):
        self.grid_shape = grid_shape
        self.topology = topology
        self.epochs = epochs
        self.sigma_start = sigma_start
        self.sigma_end = sigma_end
        self.init = init
        self.random_state = random_state
        self.chunk_size = chunk_size
        self.bmu_dtype = bmu_dtype
        self.n_threads = n_threads
        self.backend = backend
        self.device = device

    # -------------------------------------------------- the estimator protocol (scikit-learn's, without importing it)
    @classmethod
    def _param_names(cls) -> list[str]:
        return [p for p in inspect.signature(cls.__init__).parameters if p != "self"]

    def get_params(self, deep: bool = True) -> dict:
        """The constructor parameters as stored (``deep`` is accepted for scikit-learn; there are no sub-estimators)."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params) -> "SOM":
        """Set constructor parameters (validated at the next ``fit``); returns self."""
        valid = self._param_names()
        for key, value in params.items():
            if key not in valid:
                raise ValueError(f"Invalid parameter {key!r} for estimator {type(self).__name__}. Valid parameters are: {valid!r}.")
            setattr(self, key, value)
        return self

    def __repr__(self) -> str:
        defaults = {n: p.default for n, p in inspect.signature(type(self).__init__).parameters.items() if n != "self"}
        changed = []
        for name, default in defaults.items():
            value = getattr(self, name, default)
            try:
                same = type(value) is type(default) and bool(value == default)
            except Exception:  # e.g. arrays: shown
                same = False
            if not same:
                changed.append(f"{name}={value!r}")
        return f"{type(self).__name__}({', '.join(changed)})"

    # -------------------------------------------------- validation
    def _checked_params(self) -> dict:
        """Validated copies of the parameters (the stored ones are never changed)."""
        topology = _check_topology(self.topology)
        grid = _check_grid(self.grid_shape, topology, min_units=2)
        epochs = check_int(self.epochs, "epochs", low=1)
        sigma_end = check_scalar(self.sigma_end, "sigma_end", low=0.0, low_open=True)
        sigma_start = None if self.sigma_start is None else check_scalar(self.sigma_start, "sigma_start")
        if sigma_start is not None:  # a default sigma_start is checked against sigma_end once the lattice is known
            self._sigma_start(grid, dict(sigma_start=sigma_start, sigma_end=sigma_end))
        if not isinstance(self.init, str) or self.init not in ("pca", "random"):
            raise ValueError(f"init must be 'pca' or 'random'; got {self.init!r}")
        rs = self.random_state
        if rs is not None and not isinstance(rs, np.random.Generator):
            try:
                rs = check_int(rs, "random_state", low=0)
            except ValueError:
                raise ValueError(f"random_state must be None, an integer >= 0 or a numpy Generator; got {self.random_state!r}") from None
        try:
            dtype = None if self.bmu_dtype is None else np.dtype(self.bmu_dtype).name
        except (TypeError, ValueError):
            dtype = None
        if dtype not in ("float64", "float32"):
            raise ValueError(f"bmu_dtype must be 'float64' or 'float32'; got {self.bmu_dtype!r}")
        chunk_size = _check_chunk_size(self.chunk_size)
        n_threads = None if self.n_threads is None else check_int(self.n_threads, "n_threads (None = all CPUs)", low=1)
        backend, device = _check_backend(self.backend, self.device)  # availability is checked by fit
        return dict(
            grid_shape=grid, topology=topology, epochs=epochs, sigma_start=sigma_start, sigma_end=sigma_end,
            init=self.init, random_state=rs, chunk_size=chunk_size, bmu_dtype=dtype, n_threads=n_threads,
            backend=backend, device=device,
        )

    def _W(self) -> np.ndarray:
        W = getattr(self, "prototypes_", None)
        if W is None:
            raise _not_fitted(self)
        return W

    def _grid(self) -> tuple[int, int]:
        """The lattice of the fitted map (as validated by fit; the parameter if prototypes_ was set by hand)."""
        return getattr(self, "grid_shape_", None) or _check_grid(self.grid_shape, self._topo(), n_units=self._W().shape[0])

    def _topo(self) -> str:
        return getattr(self, "topology_", None) or _check_topology(self.topology)

    def _fitted_X(self, X, name: str = "X", check_names: bool = True) -> np.ndarray:
        """X as a float64 matrix with the fitted number of features; its column names checked (scikit-learn's rules).

        Called directly by each public method, so that a warning points at the caller's line.
        """
        W = self._W()
        if check_names:
            self._check_feature_names(X)
        X = _as_matrix(X, name)
        if X.shape[1] != W.shape[1]:
            raise ValueError(f"{name} has {X.shape[1]} features, but {type(self).__name__} is expecting {W.shape[1]} features as input")
        return X

    def _check_feature_names(self, X) -> None:
        """Compare the column names of X with ``feature_names_in_`` (scikit-learn's rules and messages).

        Other or reordered names raise a ValueError; names on one side only warn (UserWarning), as
        a plain array may well hold the right columns in the right order.
        """
        names = _feature_names(X)
        fitted = getattr(self, "feature_names_in_", None)
        est = type(self).__name__
        if names is None and fitted is None:
            return
        if fitted is None:
            warnings.warn(f"X has feature names, but {est} was fitted without feature names", UserWarning, stacklevel=4)
            return
        if names is None:
            warnings.warn(f"X does not have valid feature names, but {est} was fitted with feature names", UserWarning, stacklevel=4)
            return
        if len(names) == len(fitted) and np.array_equal(names, fitted):
            return
        unseen = sorted(set(names) - set(fitted))
        missing = sorted(set(fitted) - set(names))
        message = "The feature names should match those that were passed during fit.\n"
        if unseen:
            message += "Feature names unseen at fit time:\n" + _name_list(unseen)
        if missing:
            message += "Feature names seen at fit time, yet now missing:\n" + _name_list(missing)
        if not unseen and not missing:
            message += "Feature names must be in the same order as they were in fit.\n"
        raise ValueError(message)

    # -------------------------------------------------- training
    def initial_prototypes(self, X, grid_shape) -> np.ndarray:
        """The (K, D) prototypes training starts from (``init``: PCA plane or random samples)."""
        p = self._checked_params()
        X = _as_matrix(X, "X")
        grid = _check_grid(grid_shape, p["topology"], min_units=2)
        return self._initial(X, grid, p)

    def _initial(self, X, grid_shape, p) -> np.ndarray:
        rows, cols = grid_shape
        K = rows * cols
        if p["init"] == "random":
            if X.shape[0] < K:
                raise ValueError(f"random init needs at least as many samples ({X.shape[0]}) as units ({K})")
            rng = np.random.default_rng(p["random_state"])
            return X[rng.choice(X.shape[0], K, replace=False)].copy()
        mean = X.mean(0)
        # leading principal axes via SVD of a bounded subsample (deterministic: evenly spaced rows)
        sub = X[:: max(1, X.shape[0] // 20000)] - mean
        with _single_blas_thread():  # multi-threaded OpenBLAS is ~15× slower on this tall-skinny SVD here
            _, s, vt = np.linalg.svd(sub, full_matrices=False)
        scale = s[:2] / np.sqrt(sub.shape[0])
        if vt.shape[0] < 2:
            vt = np.vstack([vt, np.zeros_like(vt)])
            scale = np.append(scale, 0.0)
        coords = np.stack(np.divmod(np.arange(K), cols), axis=1).astype(float)
        u = np.linspace(-1, 1, rows)[coords[:, 0].astype(int)] if rows > 1 else np.zeros(K)
        v = np.linspace(-1, 1, cols)[coords[:, 1].astype(int)] if cols > 1 else np.zeros(K)
        # the longer lattice side follows the leading axis
        a, b = (u, v) if rows >= cols else (v, u)
        return mean + 2.0 * (a[:, None] * scale[0] * vt[0] + b[:, None] * scale[1] * vt[1])

    def sigmas(self, grid_shape) -> np.ndarray:
        """The neighbourhood width of each epoch (geometric decay from sigma_start to sigma_end)."""
        p = self._checked_params()
        return self._sigmas(_check_grid(grid_shape, p["topology"]), p)

    @staticmethod
    def _sigma_start(grid_shape, p) -> float:
        """The width of the first epoch (sigma_start, or half the larger side); a ValueError if sigma_end exceeds it."""
        given = p["sigma_start"]
        start = given if given is not None else max(grid_shape) / 2.0
        if p["sigma_end"] > start:
            # a growing neighbourhood trains silently to a far worse map: refuse it, naming the fix
            which = (f"sigma_start = {given}" if given is not None else
                     f"sigma_start = {start} (the default, half the larger side of the {grid_shape[0]}×{grid_shape[1]} lattice)")
            raise ValueError(
                f"sigma_end = {p['sigma_end']} is larger than {which}: the neighbourhood would grow during training. "
                "Set sigma_end <= sigma_start, or pass sigma_start explicitly (at least sigma_end)."
            )
        return start

    @staticmethod
    def _sigmas(grid_shape, p) -> np.ndarray:
        start = SOM._sigma_start(grid_shape, p)
        n = p["epochs"]
        if n == 1:
            return np.array([float(p["sigma_end"])])
        return start * (p["sigma_end"] / start) ** (np.arange(n) / (n - 1))

    def fit(self, X, y=None, callback=None) -> "SOM":
        """Train on X (n × D); ``y`` is ignored. ``callback(epoch, sigma, W)`` is called after each epoch if given.

        While it trains, BLAS is limited to one thread (restored afterwards) and the BMU search runs on
        ``n_threads`` Python threads instead: on a shared machine this is several times faster than
        multi-threaded BLAS on these skinny products, and the result does not depend on the thread count.
        """
        p = self._checked_params()
        names = _feature_names(X)
        X = _as_matrix(X, "X", min_rows=2)
        grid_shape = p["grid_shape"]
        sigmas = self._sigmas(grid_shape, p)  # before any work: a growing neighbourhood is refused
        W = self._initial(X, grid_shape, p)
        history = []
        with _TrainingBmus(X, W.shape[0], np.dtype(p["bmu_dtype"]), p["chunk_size"], p["n_threads"]) as search:
            with _single_blas_thread():
                W = self._epochs(X, W, search, grid_shape, p, sigmas, history, callback)
        self.prototypes_ = W
        self.grid_shape_ = grid_shape
        self.topology_ = p["topology"]
        self.n_features_in_ = X.shape[1]
        self.history_ = history
        if names is not None:
            self.feature_names_in_ = names
        elif hasattr(self, "feature_names_in_"):  # refitted on a plain array: the old names no longer apply
            del self.feature_names_in_
        return self

    def _epochs(self, X, W, search, grid_shape, p, sigmas, history, callback):
        if p["backend"] == "torch":  # the same epochs on a torch device (init, schedule and search set-up stay numpy's)
            from ._torch_backend import _som_epochs

            return _som_epochs(X, W, search, grid_shape, p, sigmas, history, callback)
        # one epoch: BMU search (the products; threads), per-unit sums, neighbourhood, new prototypes.
        # benchmarks/bench_som_parts.py times these same steps one by one.
        topology = p["topology"]
        unit_sums = _UnitSums(X, W.shape[0])
        if _is_hex(topology):
            neighbourhood = _HexNeighbourhood(*grid_shape, topology == "hexagonal_toroidal")
        else:
            neighbourhood = _RectNeighbourhood(*grid_shape, topology == "toroidal")
        for epoch, sigma in enumerate(sigmas):
            bmu = search(W)
            sums, counts = unit_sums(bmu)
            denom, numer = neighbourhood(sums, counts, sigma)
            W = _new_prototypes(W, denom, numer)
            history.append({"epoch": epoch, "sigma": float(sigma)})
            if callback is not None:
                callback(epoch, sigma, W)
        return W

    # -------------------------------------------------- scikit-learn methods
    def transform(self, X) -> np.ndarray:
        """(n, K) activations: *squared* Euclidean distances of each row of X to each prototype (see :func:`sq_distances`).

        Examples
        --------
        >>> import numpy as np
        >>> from musicsom.som import SOM
        >>> X = np.random.default_rng(0).standard_normal((200, 2))
        >>> som = SOM((3, 3), epochs=5).fit(X)
        >>> A = som.transform(X[:3])                      # squared distances, not distances
        >>> A.shape, bool(np.allclose(np.sqrt(A.min(1)).mean(), som.quantization_error(X[:3])))
        ((3, 9), True)
        """
        return sq_distances(self._fitted_X(X), self._W())

    def fit_transform(self, X, y=None, callback=None) -> np.ndarray:
        """``fit(X)`` then ``transform(X)``: the (n, K) squared distances."""
        return self.fit(X, y, callback=callback).transform(X)

    def predict(self, X) -> np.ndarray:
        """Index (row * cols + col) of the best-matching unit of each row of X.

        Examples
        --------
        >>> import numpy as np
        >>> from musicsom.som import SOM
        >>> X = np.random.default_rng(0).standard_normal((200, 2))
        >>> som = SOM((3, 4), epochs=5).fit(X)
        >>> k = int(som.predict(X[:1])[0])
        >>> divmod(k, 4) == som.winner(X[0])              # unit k is (k // cols, k % cols)
        True
        """
        return best_matching_units(self._fitted_X(X), self._W(), chunk_size=self.chunk_size)

    def score(self, X, y=None) -> float:
        """Minus the quantization error (higher is better, as scikit-learn's model selection expects); ``y`` is ignored."""
        return -quantization_error(self._fitted_X(X), self._W(), self.chunk_size)

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Names of the K output columns of ``transform``: "som0", "som1", ...

        ``input_features``, if given, must be the D input names (``feature_names_in_`` when the map has them).
        """
        W = self._W()
        if input_features is not None and len(input_features) != W.shape[1]:
            raise ValueError(f"input_features should have length equal to number of features ({W.shape[1]}), got {len(input_features)}")
        fitted = getattr(self, "feature_names_in_", None)
        if input_features is not None and fitted is not None and not np.array_equal(np.asarray(input_features, dtype=object), fitted):
            raise ValueError(f"input_features is not equal to feature_names_in_ ({list(fitted)}); got {list(input_features)}")
        return np.asarray([f"{type(self).__name__.lower()}{k}" for k in range(W.shape[0])], dtype=object)

    # -------------------------------------------------- conveniences on the fitted map (MiniSom's names)
    bmu = predict  # index of the best-matching unit of each row of X

    def quantization_error(self, X) -> float:
        """Mean Euclidean distance of each row of X to its BMU."""
        return quantization_error(self._fitted_X(X), self._W(), self.chunk_size)

    def topographic_error(self, X) -> float:
        """Share of rows of X whose two nearest prototypes are not lattice neighbours (see :func:`topographic_error`)."""
        return topographic_error(self._fitted_X(X), self._W(), self._grid(), self._topo(), self.chunk_size)

    def get_weights(self) -> np.ndarray:
        """The prototypes as a (rows, cols, D) array (a copy): ``get_weights()[r, c]`` is unit ``r * cols + c``.

        Examples
        --------
        >>> import numpy as np
        >>> from musicsom.som import SOM
        >>> som = SOM((3, 4), epochs=5).fit(np.random.default_rng(0).standard_normal((200, 2)))
        >>> G = som.get_weights()
        >>> G.shape
        (3, 4, 2)
        >>> bool(np.array_equal(G[2, 1], som.prototypes_[2 * 4 + 1]))
        True
        >>> bool(np.array_equal(G.reshape(-1, 2), som.prototypes_))   # MiniSom weights reshape the same way
        True
        """
        rows, cols = self._grid()
        return self._W().reshape(rows, cols, -1).copy()

    def winner(self, x) -> tuple[int, int]:
        """(row, col) of the best-matching unit of one sample x (a 1-D vector of D features).

        Examples
        --------
        >>> import numpy as np
        >>> from musicsom.som import SOM
        >>> X = np.random.default_rng(0).standard_normal((200, 2))
        >>> som = SOM((3, 4), epochs=5).fit(X)
        >>> r, c = som.winner(X[0])
        >>> bool(som.transform(X[:1]).argmin() == r * 4 + c)   # the smallest squared distance
        True
        """
        W = self._W()
        if sparse.issparse(x) or np.ndim(x) != 1:
            raise ValueError(f"x must be one sample, a 1-D vector of {W.shape[1]} features; got shape {np.shape(x)} (use predict for many)")
        # one vector has no column names to check (a pandas Series carries an index, not columns)
        k = int(best_matching_units(self._fitted_X(np.reshape(x, (1, -1)), check_names=False), W, chunk_size=self.chunk_size)[0])
        return divmod(k, self._grid()[1])

    def _positions_of(self, X: np.ndarray):
        """(X, BMU of each row, cols) for X already checked by :meth:`_fitted_X`."""
        return X, best_matching_units(X, self._W(), chunk_size=self.chunk_size), self._grid()[1]

    def win_map(self, X, return_indices: bool = False) -> defaultdict:
        """dict (row, col) -> list of the rows of X mapped to that unit (their indices with ``return_indices``).

        A ``collections.defaultdict(list)``, as MiniSom's: a unit with no hits gives an empty list.

        Examples
        --------
        >>> import numpy as np
        >>> from musicsom.som import SOM
        >>> X = np.random.default_rng(0).standard_normal((200, 2))
        >>> som = SOM((3, 4), epochs=5).fit(X)
        >>> wm = som.win_map(X, return_indices=True)
        >>> sum(len(v) for v in wm.values())
        200
        >>> all(som.winner(X[i]) == unit for unit, rows in wm.items() for i in rows)
        True
        >>> wm[(9, 9)]                                    # a defaultdict: no hits, an empty list
        []
        """
        X, bmu, cols = self._positions_of(self._fitted_X(X))
        out = defaultdict(list)
        for i, k in enumerate(bmu):
            out[divmod(int(k), cols)].append(i if return_indices else X[i])
        return out

    def activation_response(self, X) -> np.ndarray:
        """(rows, cols) number of rows of X whose BMU is each unit (int64).

        Examples
        --------
        >>> import numpy as np
        >>> from musicsom.som import SOM
        >>> X = np.random.default_rng(0).standard_normal((200, 2))
        >>> som = SOM((3, 4), epochs=5).fit(X)
        >>> hits = som.activation_response(X)
        >>> hits.shape, int(hits.sum())
        ((3, 4), 200)
        """
        X, bmu, _ = self._positions_of(self._fitted_X(X))
        rows, cols = self._grid()
        return np.bincount(bmu, minlength=rows * cols).reshape(rows, cols)

    def labels_map(self, X, labels) -> defaultdict:
        """dict (row, col) -> ``collections.Counter`` of the labels (any hashable values) of the rows of X mapped there.

        A ``collections.defaultdict(Counter)``: a unit with no hits gives an empty Counter.

        Examples
        --------
        >>> import numpy as np
        >>> from musicsom.som import SOM
        >>> X = np.random.default_rng(0).standard_normal((200, 2))
        >>> som = SOM((3, 4), epochs=5).fit(X)
        >>> labels = ["right" if v > 0 else "left" for v in X[:, 0]]
        >>> lm = som.labels_map(X, labels)
        >>> sum(sum(c.values()) for c in lm.values())
        200
        >>> sorted(set().union(*lm.values()))
        ['left', 'right']
        """
        X, bmu, cols = self._positions_of(self._fitted_X(X))
        labels = list(labels) if not isinstance(labels, np.ndarray) else labels
        if np.ndim(labels) != 1 or len(labels) != X.shape[0]:
            raise ValueError(f"labels must hold one entry per row of X ({X.shape[0]}); got shape {np.shape(labels)}")
        out = defaultdict(Counter)
        for k, lab in zip(bmu, labels):
            out[divmod(int(k), cols)][lab] += 1
        return out

    def distance_map(self, scaling: str = "sum") -> np.ndarray:
        """(rows, cols) U-matrix as MiniSom's ``distance_map``: normalised so that its maximum is 1.

        Each cell is the sum (``scaling="sum"``) or mean (``"mean"``) of the distances of the prototype
        to its neighbours: the 8 surrounding units on rectangular/toroidal lattices, the 6 adjacent
        units on hexagonal ones (tori wrap around). If all prototypes coincide the map is all zeros.

        Examples
        --------
        >>> import numpy as np
        >>> from musicsom.som import SOM
        >>> X = np.random.default_rng(0).standard_normal((300, 2))
        >>> um = SOM((4, 4), epochs=5).fit(X).distance_map()
        >>> um.shape, float(um.max())
        ((4, 4), 1.0)
        >>> um_hex = SOM((4, 4), topology="hexagonal", epochs=5).fit(X).distance_map(scaling="mean")
        >>> um_hex.shape, bool(np.all((um_hex > 0) & (um_hex <= 1)))
        ((4, 4), True)
        """
        if scaling not in ("sum", "mean"):
            raise ValueError(f"scaling must be 'sum' or 'mean'; got {scaling!r}")
        W = self._W()
        rows, cols = self._grid()
        d = _neighbour_distance_table(W, rows, cols, self._topo())
        if scaling == "sum":
            um = _neighbour_sum(d)
        else:
            cnt = np.sum(~np.isnan(d), axis=1)
            um = _neighbour_sum(d) / np.maximum(cnt, 1)
        top = um.max()
        return (um / top if top > 0 else um).reshape(rows, cols)

    # -------------------------------------------------- save and load (a .npz file, no pickle)
    def save(self, path) -> None:
        """Write the fitted map to ``path`` as a ``.npz`` archive that :meth:`load` reads back without pickle.

        The archive holds the constructor parameters (validated, as JSON; a numpy Generator
        ``random_state`` as its state) and the fitted state: ``prototypes_``, ``grid_shape_``,
        ``topology_``, ``n_features_in_``, ``feature_names_in_`` (if the map has names) and
        ``history_`` (as arrays of epochs and sigmas), with a format name and version. It is written
        exactly at ``path`` (no ``.npz`` is appended), through a temporary file in the same folder
        renamed at the end, so an interrupted save never leaves a half-written file under that name.
        Only a fitted map can be saved (NotFittedError otherwise): its parameters alone are
        :meth:`get_params`.

        Examples
        --------
        >>> import os, tempfile
        >>> import numpy as np
        >>> from musicsom.som import SOM
        >>> X = np.random.default_rng(0).standard_normal((200, 3))
        >>> som = SOM((4, 4), epochs=5).fit(X)
        >>> folder = tempfile.TemporaryDirectory()
        >>> path = os.path.join(folder.name, "som.npz")
        >>> som.save(path)
        >>> twin = SOM.load(path)
        >>> twin
        SOM(grid_shape=(4, 4), epochs=5)
        >>> bool(np.array_equal(twin.transform(X), som.transform(X)))   # the same squared distances, bit for bit
        True
        >>> folder.cleanup()
        """
        W = self._W()
        arrays = {
            "params": np.array(_params_to_json(self._checked_params())),
            "prototypes_": np.asarray(W, dtype=np.float64),
            "grid_shape_": np.array(self._grid(), dtype=np.int64),
            "topology_": np.array(self._topo()),
            "n_features_in_": np.array(W.shape[1], dtype=np.int64),
            "history_epoch": np.array([h["epoch"] for h in getattr(self, "history_", [])], dtype=np.int64),
            "history_sigma": np.array([h["sigma"] for h in getattr(self, "history_", [])], dtype=np.float64),
        }
        names = getattr(self, "feature_names_in_", None)
        if names is not None:
            arrays["feature_names_in_"] = _npzfile.strings(names)  # unicode: no pickle needed
        _npzfile.save(path, _SAVE, arrays)

    @classmethod
    def load(cls, path) -> "SOM":
        """The fitted map saved at ``path`` by :meth:`save`: the same parameters and state, so the same
        ``transform``/``predict`` results, bit for bit (example in :meth:`save`).

        A file that is not such a save (truncated, not a ``.npz``, missing arrays, another format
        version) raises a ValueError naming the file and what is wrong; a missing file raises
        FileNotFoundError.
        """
        return _npzfile.load(path, _SAVE, cls._from_saved)

    @classmethod
    def _from_saved(cls, arrays: dict) -> "SOM":
        """The map of the (checked) arrays of a save, or a ValueError saying which one is wrong."""
        som = cls(**_params_from_json(_npzfile.text(arrays, "params"), cls._param_names()))
        som._checked_params()  # the saved parameters must be valid ones (a refit uses them)
        som._set_saved_state(arrays)
        return som

    def _set_saved_state(self, arrays: dict) -> None:
        """Set the fitted attributes from the arrays of a save, or a ValueError saying which one is wrong."""
        W = arrays["prototypes_"]
        if W.dtype != np.float64:
            raise ValueError(f"prototypes_ should be float64; got {W.dtype}")
        W = _as_matrix(W, "prototypes_", min_rows=2)
        topology = _check_topology(_npzfile.text(arrays, "topology_"))
        grid = arrays["grid_shape_"]
        if grid.dtype.kind not in "iu" or grid.shape != (2,):
            raise ValueError(f"grid_shape_ should be 2 integers; got dtype {grid.dtype}, shape {grid.shape}")
        grid = _check_grid(tuple(int(v) for v in grid), topology, n_units=W.shape[0], min_units=2)
        if _npzfile.integer(arrays, "n_features_in_") != W.shape[1]:
            raise ValueError(f"n_features_in_ is {int(arrays['n_features_in_'])} but the prototypes have {W.shape[1]} features")
        epochs, sigmas = arrays["history_epoch"], arrays["history_sigma"]
        if not (epochs.ndim == sigmas.ndim == 1 and epochs.shape == sigmas.shape and epochs.dtype.kind in "iu"
                and sigmas.dtype == np.float64):
            raise ValueError("history_epoch and history_sigma should be an integer and a float64 vector of one length")
        names = _npzfile.names(arrays, "feature_names_in_", W.shape[1])
        self.prototypes_ = W
        self.grid_shape_ = grid
        self.topology_ = topology
        self.n_features_in_ = W.shape[1]
        self.history_ = [{"epoch": int(e), "sigma": float(sg)} for e, sg in zip(epochs, sigmas)]
        if names is not None:
            self.feature_names_in_ = names
