"""Shared helpers of the benchmark scripts: machine/load record, datasets, timing, SOM quality, markers.

Every benchmark writes its table into docs/benchmarks.md between ``<!-- BEGIN name -->`` and
``<!-- END name -->`` markers (regenerated in place) and its raw numbers as JSON under
benchmarks/results/. Nothing here asserts on time.
"""

from __future__ import annotations

import datetime as _dt
import gzip
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "benchmarks.md"
RESULTS = ROOT / "benchmarks" / "results"
CACHE = Path(os.environ.get("MUSICSOM_BENCH_CACHE", "/tmp/musicsom-bench-cache"))


# ---------------------------------------------------------------- machine and load
def machine_record() -> dict:
    """Date, CPU, cores, BLAS, load (`uptime`) and the exact command: to be written beside every table."""
    import numpy

    from musicsom.pipeline.report.markdown import blas_libraries, cpu_model

    cpu = cpu_model()
    try:
        uptime = subprocess.run(["uptime"], capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        uptime = "n/a"
    steal = _steal_share()
    blas = ", ".join(blas_libraries()) or "unknown"
    return {
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "blas": blas,
        "uptime": uptime,
        "cpu_steal_share": steal,
        "command": " ".join(shlex.quote(a) for a in [Path(sys.executable).name, *sys.argv]),
    }


def _steal_share(interval: float = 1.0) -> float | None:
    """Share of CPU time stolen by the hypervisor over ``interval`` seconds (/proc/stat), or None."""

    def read():
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
        return [int(v) for v in fields]

    try:
        a = read()
        time.sleep(interval)
        b = read()
    except (OSError, ValueError):
        return None
    d = [y - x for x, y in zip(a, b)]
    total = sum(d[:8])
    return round(d[7] / total, 3) if total > 0 and len(d) > 7 else None


def machine_lines(rec: dict) -> str:
    steal = rec.get("cpu_steal_share")
    steal_txt = f"; CPU steal at start {steal:.0%}" if steal is not None else ""
    return (
        f"- date: {rec['date']}; machine: {rec['cpu']}, {rec['cores']} cores; Python {rec['python']}, numpy {rec['numpy']}, {rec['blas']}\n"
        f"- load at start (`uptime`): `{rec['uptime']}`{steal_txt}\n"
        f"- command: `{rec['command']}`\n"
    )


# ---------------------------------------------------------------- timing
def median_time(fn, repeats: int = 3, warmup: int = 0) -> tuple[float, list[float], object]:
    """Median wall time of ``fn()`` over ``repeats`` runs; returns (median, all times, last result)."""
    for _ in range(warmup):
        fn()
    times, result = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), times, result


def gemm_rate(n: int = 1500, repeats: int = 5, dtype=np.float64) -> float:
    """Measured matrix-product rate (flop/s) of an n × n × n product with this numpy's BLAS (median of repeats)."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n)).astype(dtype)
    b = rng.standard_normal((n, n)).astype(dtype)
    a @ b  # warm up threads and caches
    med, _, _ = median_time(lambda: a @ b, repeats)
    return 2.0 * n**3 / med


def batch_epoch_flops(n: int, k: int, d: int) -> float:
    """Flops of the distance products of one batch epoch: ``2·N·K·(D+1)`` (the bound's numerator)."""
    return 2.0 * n * k * (d + 1)


# ---------------------------------------------------------------- data
def read_idx_images(path: Path) -> np.ndarray:
    """An idx3-ubyte(.gz) image file as an (n, rows*cols) uint8 array."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    magic, n, r, c = np.frombuffer(raw[:16], dtype=">i4")
    if magic != 2051:
        raise ValueError(f"{path} is not an idx3 image file (magic {magic})")
    return np.frombuffer(raw[16:], dtype=np.uint8).reshape(n, r * c)


def mnist_dir() -> Path:
    env = os.environ.get("MUSICSOM_DATA_MIRROR")
    base = Path(env) if env else ROOT.parent / "shared" / "data"
    return base / "mnist"


def mnist_pca50() -> np.ndarray:
    """MNIST training images (60k) → pixels/255 → PCA to 50 components (sklearn, full SVD); cached under CACHE."""
    CACHE.mkdir(parents=True, exist_ok=True)
    cached = CACHE / "mnist_pca50.npy"
    if cached.exists():
        return np.load(cached)
    from sklearn.decomposition import PCA

    X = read_idx_images(mnist_dir() / "train-images-idx3-ubyte.gz").astype(np.float64) / 255.0
    Z = PCA(n_components=50, svd_solver="full").fit_transform(X)
    np.save(cached, Z)
    return Z


def gaussian_mixture(n: int = 20000, d: int = 50, components: int = 10, seed: int = 0) -> np.ndarray:
    """``n × d`` Gaussian mixture: ``components`` means drawn N(0, 3²), unit-variance clusters (fixed seed)."""
    rng = np.random.default_rng(seed)
    means = 3.0 * rng.standard_normal((components, d))
    labels = rng.integers(0, components, n)
    return means[labels] + rng.standard_normal((n, d))


# ---------------------------------------------------------------- SOM quality (one function for every library)
def som_quality(X: np.ndarray, W: np.ndarray, grid_shape: tuple[int, int], topology: str) -> tuple[float, float]:
    """(quantization error, topographic error) of prototypes ``W`` (K × D, row-major over the grid) on ``X``.

    Written here in plain numpy, independent of musicsom, so that every library is scored alike:
    QE = mean distance to the BMU; TE = share of samples whose two nearest prototypes are not
    8-neighbours on the lattice (wrapping around on a torus).
    """
    X = np.asarray(X, np.float64)
    W = np.asarray(W, np.float64)
    rows, cols = grid_shape
    w2 = (W * W).sum(1)
    qe_sum, te_sum = 0.0, 0
    for s in range(0, X.shape[0], 4096):
        xs = X[s : s + 4096]
        d2 = (xs * xs).sum(1)[:, None] - 2.0 * xs @ W.T + w2[None, :]
        two = np.argpartition(d2, 1, axis=1)[:, :2]
        order = np.take_along_axis(d2, two, 1).argsort(1)
        two = np.take_along_axis(two, order, 1)
        qe_sum += np.sqrt(np.maximum(d2[np.arange(xs.shape[0]), two[:, 0]], 0.0)).sum()
        r0, c0 = np.divmod(two[:, 0], cols)
        r1, c1 = np.divmod(two[:, 1], cols)
        dr, dc = np.abs(r0 - r1), np.abs(c0 - c1)
        if topology == "toroidal":
            dr, dc = np.minimum(dr, rows - dr), np.minimum(dc, cols - dc)
        te_sum += int(np.sum(np.maximum(dr, dc) > 1))
    return qe_sum / X.shape[0], te_sum / X.shape[0]


def plain_batch_som(X, W0, grid_shape, sigmas, dtype=np.float64, chunk: int = 4096) -> np.ndarray:
    """The plain two-GEMM numpy batch SOM (rectangular lattice): the speed reference of bench_som.py.

    Per epoch: the distance product ``‖w‖² − 2·X·Wᵀ`` per chunk of rows in ``dtype`` with numpy's
    BLAS at its default thread count (GEMM 1), argmin, per-unit sums (``np.add.at``) and counts, then
    the dense K × K Gaussian kernel times the sums (GEMM 2). What a careful numpy user writes.
    """
    X = np.asarray(X, np.float64)
    Xc = X.astype(dtype)
    W = np.array(W0, np.float64)
    rows, cols = grid_shape
    r, c = np.divmod(np.arange(rows * cols), cols)
    d2l = ((r[:, None] - r[None, :]) ** 2 + (c[:, None] - c[None, :]) ** 2).astype(np.float64)
    K = W.shape[0]
    for sigma in sigmas:
        Wc = W.astype(dtype)
        w2 = (Wc * Wc).sum(1)
        bmu = np.concatenate([(w2[None, :] - 2.0 * (Xc[s : s + chunk] @ Wc.T)).argmin(1) for s in range(0, X.shape[0], chunk)])
        sums = np.zeros((K, X.shape[1]))
        np.add.at(sums, bmu, X)
        counts = np.bincount(bmu, minlength=K).astype(np.float64)
        H = np.exp(-d2l / (2.0 * sigma**2))
        denom, numer = H @ counts, H @ sums
        ok = denom > 1e-12 * max(denom.max(), 1e-300)
        W = np.where(ok[:, None], numer / np.where(ok, denom, 1.0)[:, None], W)
    return W


# ---------------------------------------------------------------- output
def write_section(name: str, body: str, doc: Path = DOC) -> None:
    """Replace the text between ``<!-- BEGIN name -->`` and ``<!-- END name -->`` in docs/benchmarks.md (append if absent)."""
    doc.parent.mkdir(parents=True, exist_ok=True)
    text = doc.read_text() if doc.exists() else "# Benchmarks\n"
    begin, end = f"<!-- BEGIN {name} -->", f"<!-- END {name} -->"
    block = f"{begin}\n{body.rstrip()}\n{end}"
    if begin in text and end in text:
        pre, rest = text.split(begin, 1)
        _, post = rest.split(end, 1)
        text = pre + block + post
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    doc.write_text(text)


def save_json(name: str, obj) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(obj, indent=2, default=lambda o: o.item() if isinstance(o, np.generic) else str(o)) + "\n")
    return path


def md_table(header: list[str], rows: list[list]) -> str:
    def fmt(v):
        if isinstance(v, float):
            return f"{v:.4g}"
        return str(v)

    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in rows]
    return "\n".join(out) + "\n"
